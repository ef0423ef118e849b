"""The Prometheus client against a real Prometheus (Debian's, as a local process) scraping a real
3-member etcd, plus transport doubles for the retry paths."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from fakes.processes import LocalPrometheus, free_port
from workbench.errors import QueryError
from workbench.manifest import Query
from workbench.prometheus import (
    PrometheusClient,
    chunk_range,
    collect,
    tidy_frame,
    wide_frame,
)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


@pytest.fixture
def prom(local_prometheus: LocalPrometheus, http: httpx.Client) -> PrometheusClient:
    return PrometheusClient(http, local_prometheus.url)


def test_ready_and_targets(prom: PrometheusClient) -> None:
    assert prom.ready()
    targets = prom.targets()
    etcd = [t for t in targets if t["labels"]["job"] == "etcd"]
    assert len(etcd) == 3
    assert {t["health"] for t in etcd} == {"up"}


def test_ready_false_when_nothing_listens(http: httpx.Client) -> None:
    assert not PrometheusClient(http, f"http://127.0.0.1:{free_port()}").ready()


def test_instant_query_is_tidy(prom: PrometheusClient) -> None:
    df = prom.query('up{job="etcd"}')
    assert list(df.columns) == ["timestamp", "value", "__name__", "instance", "job"]
    assert str(df["timestamp"].dtype) == "datetime64[ms, UTC]"
    assert df["value"].dtype == np.float64
    assert len(df) == 3 and (df["value"] == 1.0).all()
    assert set(df["job"]) == {"etcd"}


@pytest.mark.parametrize(
    ("promql", "check"),
    [
        ("vector(0) / 0", math.isnan),
        ("vector(1) / 0", lambda v: v == math.inf),
        ("vector(-1) / 0", lambda v: v == -math.inf),
    ],
)
def test_nan_and_infinities_are_kept(prom: PrometheusClient, promql: str, check: Any) -> None:
    instant = prom.query(promql)
    assert check(instant["value"].iloc[0])
    now = time.time()
    rng = prom.query_range(promql, now - 5, now, 1)
    assert len(rng) == 6 and all(check(v) for v in rng["value"])


def test_range_query_beyond_11000_points_is_chunked(
    prom: PrometheusClient, local_prometheus: LocalPrometheus, http: httpx.Client
) -> None:
    end = round(time.time())
    start = end - 150
    # the limit is real: one request for 15,001 points is refused
    r = http.get(
        f"{local_prometheus.url}/api/v1/query_range",
        params={"query": "vector(1)", "start": start, "end": end, "step": "0.01"},
    )
    assert r.status_code == 400 and "11,000" in r.text
    df = prom.query_range("vector(1)", start, end, 0.01)
    assert len(df) == 15_001
    ts = df["timestamp"].astype("int64").to_numpy()
    assert (np.diff(ts) == 10).all()  # ms: every point once, in order, no boundary duplicates
    assert df["timestamp"].iloc[0] == pd.Timestamp(start, unit="s", tz="UTC")
    assert df["timestamp"].iloc[-1] == pd.Timestamp(end, unit="s", tz="UTC")


def test_small_chunks_give_the_same_frame(
    local_prometheus: LocalPrometheus, http: httpx.Client
) -> None:
    seen: list[httpx.Request] = []
    with httpx.Client(timeout=10, event_hooks={"request": [seen.append]}) as spy:
        chunked = PrometheusClient(spy, local_prometheus.url, max_points=4)
        local_prometheus.wait_history(11)
        end = round(time.time()) - 1
        one = PrometheusClient(http, local_prometheus.url).query_range(
            'up{job="etcd"}', end - 10, end, 1
        )
        many = chunked.query_range('up{job="etcd"}', end - 10, end, 1)
    assert len(seen) == 3  # 11 points in chunks of 4, 4, 3
    sort = ["instance", "timestamp"]
    pd.testing.assert_frame_equal(
        one.sort_values(sort).reset_index(drop=True), many.sort_values(sort).reset_index(drop=True)
    )
    assert len(one) > 0


def test_long_query_goes_by_post(local_prometheus: LocalPrometheus) -> None:
    seen: list[httpx.Request] = []
    alternatives = "|".join(f"nosuchjob{i}" for i in range(150))
    promql = f'count(up{{job=~"etcd|{alternatives}"}})'
    assert len(promql) > 1024
    with httpx.Client(timeout=10, event_hooks={"request": [seen.append]}) as spy:
        df = PrometheusClient(spy, local_prometheus.url).query(promql)
    assert [r.method for r in seen] == ["POST"]
    assert df["value"].tolist() == [3.0]


def test_bad_query_raises_with_query_and_response(prom: PrometheusClient) -> None:
    with pytest.raises(QueryError) as info:
        prom.query("sum(up")
    assert info.value.query == "sum(up"
    assert "parse error" in info.value.response
    assert "bad_data" in str(info.value)


def _transport(script: list[Any]) -> tuple[httpx.MockTransport, list[str]]:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        step = script.pop(0) if len(script) > 1 else script[0]
        if isinstance(step, Exception):
            raise step
        return step

    return httpx.MockTransport(handler), calls


OK = httpx.Response(
    200,
    json={
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [{"metric": {"job": "x"}, "value": [1700000000.5, "42"]}],
        },
    },
)


def test_connection_errors_and_503_are_retried_with_backoff() -> None:
    transport, calls = _transport(
        [httpx.ConnectError("refused"), httpx.Response(503, text="not ready"), OK]
    )
    sleeps: list[float] = []
    with httpx.Client(transport=transport) as c:
        df = PrometheusClient(c, "http://prom", sleep=sleeps.append).query("up")
    assert df["value"].tolist() == [42.0]
    assert len(calls) == 3 and sleeps == [0.25, 0.5]


def test_retries_are_bounded_and_keep_the_last_response() -> None:
    transport, calls = _transport([httpx.Response(503, text="service unavailable")])
    sleeps: list[float] = []
    with httpx.Client(transport=transport) as c:
        client = PrometheusClient(
            c, "http://prom", retries=5, max_backoff_s=1.0, sleep=sleeps.append
        )
        with pytest.raises(QueryError) as info:
            client.query("rate(x[1m])")
    assert len(calls) == 6
    assert sleeps == [0.25, 0.5, 1.0, 1.0, 1.0]
    assert info.value.query == "rate(x[1m])"
    assert "503" in info.value.response and "service unavailable" in info.value.response


def test_refused_connection_to_a_real_port_raises(http: httpx.Client) -> None:
    sleeps: list[float] = []
    client = PrometheusClient(
        http, f"http://127.0.0.1:{free_port()}", retries=2, sleep=sleeps.append
    )
    with pytest.raises(QueryError) as info:
        client.query("up")
    # a refused connection is retried once, quickly, and says so (issue 11: ~12 s before)
    assert "ConnectError" in info.value.response and len(sleeps) == 1
    assert "connection refused" in str(info.value)


def test_non_json_answer_is_a_query_error() -> None:
    transport, _ = _transport([httpx.Response(200, text="<html>proxy</html>")])
    with httpx.Client(transport=transport) as c, pytest.raises(QueryError) as info:
        PrometheusClient(c, "http://prom").query("up")
    assert "<html>" in info.value.response


def test_overlapping_chunks_are_joined_without_duplicates() -> None:
    """A server that returns a chunk's boundary point twice still yields each point once."""

    def handler(request: httpx.Request) -> httpx.Response:
        p = dict(request.url.params)
        s, e = float(p["start"]), float(p["end"])
        pts = np.arange(s - 1, e + 1.5, 1.0)  # one extra point on each side
        vals = [[float(t), "NaN" if t == 5 else str(t)] for t in pts]
        return httpx.Response(
            200,
            json={
                "status": "success",
                "data": {
                    "resultType": "matrix",
                    "result": [{"metric": {"a": "1"}, "values": vals}],
                },
            },
        )

    with httpx.Client(transport=httpx.MockTransport(handler)) as c:
        raw = PrometheusClient(c, "http://prom", max_points=3).query_range_raw("x", 0, 10, 1)
    ts = [v[0] for v in raw[0]["values"]]
    assert ts == sorted(set(ts)) and ts[0] == -1.0 and ts[-1] == 11.0


def test_chunk_range_covers_every_point_once() -> None:
    for s, e, step, mp in [
        (0, 100, 1, 11),
        (0, 10, 3, 2),
        (5, 5, 1, 11000),
        (0, 21_999, 1, 11_000),
    ]:
        chunks = chunk_range(s, e, step, mp)
        points = [p for a, b in chunks for p in range(a, b + 1, step)]
        assert points == list(range(s, e + 1, step))
        assert all((b - a) // step + 1 <= mp for a, b in chunks)


def test_tidy_frame_missing_labels_and_reserved_names() -> None:
    result = [
        {"metric": {"instance": "a", "value": "v"}, "values": [[1.0, "1"], [2.0, "+Inf"]]},
        {"metric": {"job": "j"}, "values": [[1.5, "-Inf"]]},
    ]
    df = tidy_frame(result)
    assert list(df.columns) == ["timestamp", "value", "instance", "job", "label_value"]
    assert df["instance"].isna().tolist() == [False, False, True]
    assert df["job"].isna().tolist() == [True, True, False]
    assert df["value"].tolist() == [1.0, math.inf, -math.inf]
    empty = tidy_frame([])
    assert list(empty.columns) == ["timestamp", "value"] and len(empty) == 0


def test_wide_frame(prom: PrometheusClient, local_prometheus: LocalPrometheus) -> None:
    local_prometheus.wait_history(6)
    end = time.time() - 1
    df = prom.query_range('up{job="etcd"}', end - 5, end, 1)
    wide = wide_frame(df, "instance")
    assert wide.shape == (6, 3)
    assert sorted(wide.columns) == sorted(set(df["instance"]))
    with pytest.raises(ValueError, match="uniquely"):
        wide_frame(df, "job")


def test_collect_writes_parquet_per_query_and_the_query_list(
    prom: PrometheusClient, tmp_path: Path, local_prometheus: LocalPrometheus
) -> None:
    local_prometheus.wait_history(12)
    end = time.time() - 1
    queries = [
        Query("members_up", 'up{job="etcd"}', "bool", "other", "members up"),
        Query("broken", "sum(up", "x"),
        Query(
            "handled", 'sum(rate(grpc_server_handled_total{job="etcd"}[5s]))', "ops/s", "throughput"
        ),
    ]
    with pytest.raises(QueryError, match="sum\\(up"):
        collect(prom, queries, end - 10, end, 1, tmp_path / "metrics")
    index = json.loads((tmp_path / "metrics" / "queries.json").read_text())
    by_name = {q["name"]: q for q in index["queries"]}
    assert list(by_name) == ["members_up", "broken", "handled"]
    assert by_name["broken"]["file"] is None and "parse error" in by_name["broken"]["error"]
    assert by_name["members_up"]["series"] == 3 and by_name["members_up"]["samples"] == 33
    back = pd.read_parquet(tmp_path / "metrics" / "members_up.parquet")
    assert len(back) == 33 and back["instance"].nunique() == 3
    assert str(back["timestamp"].dtype) == "datetime64[ms, UTC]"
    ok = collect(prom, [queries[0], queries[2]], end - 10, end, 1, tmp_path / "m2")
    assert set(ok.files) == {"members_up", "handled"} and not ok.errors
    pd.testing.assert_frame_equal(pd.read_parquet(ok.files["members_up"]), ok.frames["members_up"])


def test_value_parsing_matches_python_float_exactly() -> None:
    import random

    rng = random.Random(3)
    texts = [repr(rng.uniform(-1e6, 1e6)) for _ in range(2000)]
    texts += [
        "1e-300",
        "4.9e-324",
        "0.1",
        "17",
        "-0",
        "1.7976931348623157e+308",
        "3.0000000000000004",
    ]
    df = tidy_frame([{"metric": {}, "values": [[float(i), t] for i, t in enumerate(texts)]}])
    assert df["value"].tolist() == [float(t) for t in texts]


def test_numeric_values_and_bad_strings_take_the_python_path() -> None:
    df = tidy_frame([{"metric": {}, "values": [[1.0, 2], [2.0, 2.5]]}])
    assert df["value"].tolist() == [2.0, 2.5]
    with pytest.raises(ValueError, match="could not convert string to float: 'abc'"):
        tidy_frame([{"metric": {}, "values": [[1.0, "abc"]]}])

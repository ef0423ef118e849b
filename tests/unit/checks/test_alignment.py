"""series_aligned and the counter arithmetic under it: server counters interpolated between
scrapes onto the client's interval grid, judged interval by interval."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from workbench.checks import CheckContext, run_check
from workbench.checks.alignment import expected_server, judge_aligned
from workbench.prometheus import counter_increase

T0 = 1_800_000_000.0


def scrapes(
    rate: float, seconds: int, *, offset: float = 0.37, members: int = 3, every: float = 0.25
) -> pd.DataFrame:
    """Raw counter samples of `members` series scraped every `every` s (the etcd subject's
    interval) at `offset` past the second, together counting `rate` ops/s from T0 (the shape
    `PrometheusClient.samples` gives)."""
    t = T0 - 3 + offset + np.arange(0, seconds + 6, every, dtype=float)
    per = rate / members
    frames = [
        pd.DataFrame(
            {
                "timestamp": pd.to_datetime(t, unit="s", utc=True),
                "value": 1000.0 * m + per * np.clip(t - T0, 0, None),
                "instance": pd.Categorical([f"etcd{m}:2379"] * len(t)),
                "grpc_method": pd.Categorical(["Range"] * len(t)),
            }
        )
        for m in range(members)
    ]
    return pd.concat(frames, ignore_index=True)


def client_grid(rate: float, seconds: int) -> pd.DataFrame:
    rows = []
    for i in range(seconds):
        for op, share in (("READ", 0.5), ("UPDATE", 0.5), ("TOTAL", 1.0)):
            rows.append(
                {"start": T0 + i, "end": T0 + i + 1, "operation": op, "count": rate * share}
            )
    return pd.DataFrame(rows)


def test_counter_increase_interpolates_between_scrapes_and_survives_a_reset() -> None:
    ts = pd.to_datetime([0.5, 1.5, 2.5, 3.5, 4.5], unit="s", utc=True)
    frame = pd.DataFrame(
        {
            "timestamp": list(ts) * 2,
            "value": [0, 100, 200, 300, 400, 0, 10, 5, 15, 25],  # b restarts after 10
            "m": pd.Categorical(["a"] * 5 + ["b"] * 5),
        }
    )
    by_m = counter_increase(frame, [1, 2, 3, 4], by=["m"]).set_index(["start", "m"])
    assert by_m.loc[(1.0, "a"), "increase"] == pytest.approx(100.0)
    assert by_m.loc[(1.0, "b"), "increase"] == pytest.approx(7.5)  # 5 .. 12.5 (reset kept)
    total = counter_increase(frame, [0, 1, 2, 3, 4, 5])
    assert total["covered"].tolist() == [False, True, True, True, False]
    assert total["increase"].isna().tolist() == [True, False, False, False, True]
    assert total.loc[1, "ops_s"] == pytest.approx(107.5)


def test_counter_increase_of_nothing_is_empty() -> None:
    assert counter_increase(pd.DataFrame(), [0, 1]).empty
    assert counter_increase(scrapes(10, 5), [T0]).empty


def test_expected_server_weights_operations_and_skips_totals() -> None:
    client = pd.DataFrame(
        {
            "start": [0.0] * 5,
            "end": [1.0] * 5,
            "operation": ["READ", "UPDATE", "UPDATE_ERROR", "TOTAL", "READ_MODIFY_WRITE"],
            "count": [100.0, 50.0, 2.0, 152.0, 10.0],
        }
    )
    got = expected_server(client, {"UPDATE": 2})
    assert got["client_ops"].tolist() == [152.0]
    assert got["expected"].tolist() == [100.0 + 2 * 52.0]


def judged(server_rate: float, *, dip: dict[int, float] | None = None) -> Any:
    client = expected_server(client_grid(800, 12), {})
    edges = sorted({*client["start"], *client["end"]})
    server = counter_increase(scrapes(server_rate, 12), edges)
    for i, factor in (dip or {}).items():
        server.loc[i, "increase"] *= factor
    rows = client.merge(server, on=["start", "end"]).to_dict("records")
    return judge_aligned({"selector": "c", "intervals": rows}, {})


def test_agreeing_series_pass_from_the_first_full_interval() -> None:
    j = judged(800)
    assert j.status == "pass", j.summary
    assert j.evidence["intervals"] == 10 and j.evidence["within"] == 10


def test_a_server_below_the_client_fails_naming_the_worst_intervals() -> None:
    j = judged(600)
    assert j.status == "fail" and "0/10" in j.summary
    assert "server 600/s vs client 800/s (25%)" in j.summary


def test_one_good_interval_short_of_nine_in_ten_fails() -> None:
    assert judged(800, dip={5: 0.7}).status == "pass"  # 9 of 10


def test_two_bad_intervals_of_ten_fail() -> None:
    j = judged(800, dip={2: 0.5, 5: 0.7})
    assert j.status == "fail", j.summary
    assert j.evidence["within"] == 8
    assert j.evidence["worst"][0].startswith("+2.0s..+3.0s")


def test_scrapes_that_do_not_cover_the_window_are_unknown() -> None:
    client = expected_server(client_grid(800, 12), {})
    edges = sorted({*client["start"], *client["end"]})
    late = scrapes(800, 12)
    late = late[late["timestamp"] > pd.Timestamp(T0 + 5, unit="s", tz="UTC")]
    rows = client.merge(counter_increase(late, edges), on=["start", "end"]).to_dict("records")
    j = judge_aligned({"selector": "c", "intervals": rows}, {})
    assert j.status == "unknown" and "do not cover 5 of 10" in j.summary


def test_too_few_intervals_are_unknown() -> None:
    rows = [{"start": 0, "end": 1, "expected": 1, "increase": 1, "covered": True}] * 2
    assert judge_aligned({"intervals": rows}, {}).status == "unknown"


class FakePrometheus:
    base_url = "http://prometheus.test"

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame, self.asked = frame, []

    def samples(self, selector: str, start: float, end: float) -> pd.DataFrame:
        self.asked.append((selector, start, end))
        return self.frame

    def query(self, promql: str, at: float | None = None) -> pd.DataFrame:
        raise AssertionError("series_aligned reads raw samples only")

    def targets(self, state: str = "active") -> list[dict[str, Any]]:
        return []


def context(prom: Any, intervals: pd.DataFrame | None, **options: Any) -> CheckContext:
    return CheckContext(
        subject="etcd",
        endpoints={},
        options={"aligned_ops_counter": "grpc_server_handled_total{job='etcd'}", **options},
        prometheus=prom,
        client_intervals=intervals,
        clock=lambda: T0 + 100,
        sleep=lambda s: None,
    )


def test_the_check_end_to_end_on_a_fake_prometheus() -> None:
    prom = FakePrometheus(scrapes(800, 12))
    v = run_check("series_aligned", context(prom, client_grid(800, 12)), "post")
    assert v.status == "pass", v.summary
    selector, start, end = prom.asked[0]
    assert selector == "grpc_server_handled_total{job='etcd'}"
    assert start <= T0 and end >= T0 + 12


def test_scrapes_too_coarse_for_the_intervals_are_unknown_not_a_verdict() -> None:
    """1 s scrapes interpolated at 1 s edges measure the scrape resolution, not the system."""
    prom = FakePrometheus(scrapes(800, 12, every=1.0))
    v = run_check("series_aligned", context(prom, client_grid(800, 12)), "post")
    assert v.status == "unknown", v.summary
    assert "scrapes 1.00 s apart cannot resolve 1.00 s intervals" in v.summary
    assert v.evidence["coarse"] == 10


def test_the_check_without_its_inputs_is_unknown() -> None:
    prom = FakePrometheus(scrapes(800, 12))
    assert run_check("series_aligned", context(prom, None), "post").status == "unknown"
    ctx = context(prom, client_grid(800, 12))
    ctx.options.pop("aligned_ops_counter")
    assert "aligned_ops_counter" in run_check("series_aligned", ctx, "post").summary


def test_rounded_interval_lengths_leave_no_slivers_in_the_grid() -> None:
    client = client_grid(800, 12)
    client["start"] = client["end"] - 1.0004  # the tool's 1 ms rounding of interval lengths
    exp = expected_server(client, {})
    assert len(exp) == 12 and (exp["start"].iloc[1:].to_numpy() == exp["end"].iloc[:-1]).all()
    prom = FakePrometheus(scrapes(800, 12))
    v = run_check("series_aligned", context(prom, client), "post")
    assert v.status == "pass" and v.evidence["intervals"] == 10, v.summary


def test_a_partial_interval_never_decides_the_verdict() -> None:
    """A late status tick (6.6 s instead of 6 s) leaves a 1.6 s interval and a 0.4 s one: the
    0.25 s scrapes cannot resolve the short one, which is partial and so not judged."""
    client = client_grid(800, 12)
    late = client["end"] == T0 + 6
    client.loc[late, "end"] = T0 + 6.6
    client.loc[client["start"] == T0 + 6, "start"] = T0 + 6.6
    client.loc[client["end"] == T0 + 6.6, "count"] *= 1.6
    client.loc[client["start"] == T0 + 6.6, "count"] *= 0.4
    prom = FakePrometheus(scrapes(800, 12))
    v = run_check("series_aligned", context(prom, client), "post")
    assert v.status == "pass", v.summary
    assert v.evidence["intervals"] == 9 and v.evidence["partial"] == [[6.6, 7.0]]

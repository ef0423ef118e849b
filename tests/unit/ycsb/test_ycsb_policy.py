"""The request policy: a deadline and retries, counted apart (attempts, retries, final errors)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from workbench.artifacts import ErrorClasses
from workbench.artifacts.record import PhaseInfo, RequestPolicyInfo
from workbench.errors import ParameterError
from workbench.run.workload import request_info
from workbench.ycsb.native import NativeClient, register_binding
from workbench.ycsb.native.etcd import _GrpcSession
from workbench.ycsb.native.props import Props, load_properties
from workbench.ycsb.parser import parse

WORKLOADS = Path(__file__).resolve().parents[3] / "subjects" / "etcd" / "workloads"


class Flaky:
    """Refuses the first attempt of every second operation; `flaky.kind=server` answers with a
    server error instead (never retried by default)."""

    def __init__(self, props: Props) -> None:
        self.lock, self.n = threading.Lock(), 0
        self.server = props.get_str("flaky.kind", "refused") == "server"
        self.default_deadline_s = 0.0

    def session(self, thread_id: int) -> Flaky:
        return self

    def _call(self) -> None:
        with self.lock:
            self.n += 1
            n = self.n
        if n % 3 == 1:  # calls 1, 4, 7, ...: with one retry each, every 2nd operation fails once
            if self.server:
                raise RuntimeError("server said no")
            raise ConnectionRefusedError(111, "Connection refused")

    def read(self, table: str, key: str, fields: Sequence[str] | None) -> dict[str, bytes]:
        self._call()
        return {}

    def scan(
        self, table: str, start_key: str, count: int, fields: Sequence[str] | None
    ) -> list[dict[str, bytes]]:
        self._call()
        return []

    def update(self, table: str, key: str, values: Mapping[str, bytes]) -> None:
        self._call()

    def insert(self, table: str, key: str, values: Mapping[str, bytes]) -> None:
        self._call()

    def delete(self, table: str, key: str) -> None:
        self._call()

    def close(self) -> None:
        return None


register_binding("flaky", Flaky)


def _run(tmp_path: Path, **kw: str) -> tuple[str, dict[str, object]]:
    props = load_properties([WORKLOADS / "workloada"])
    props.update(
        {"threadcount": "1", "operationcount": "200",
         "measurement.interval_csv": str(tmp_path / "run.interval.csv"), **kw}
    )  # fmt: skip
    out: list[str] = []
    NativeClient("flaky", props, "run", write=out.append, seed=5).run()
    doc = json.loads((tmp_path / "run.errors.json").read_text())
    return "".join(out), doc


def test_retries_turn_refused_attempts_into_successes_and_are_counted(tmp_path: Path) -> None:
    out, doc = _run(tmp_path, **{"request.retries": "1", "request.retry_backoff": "0"})
    res = parse(out)
    assert res.error_count() == 0  # every refused first attempt succeeded on its retry
    req = doc["requests"]
    retries = sum(r["retries"] for r in req.values())  # type: ignore[union-attr]
    attempts = sum(r["attempts"] for r in req.values())  # type: ignore[union-attr]
    assert retries == 100 and attempts == 300  # 200 operations, 100 of them tried twice
    assert sum(r["count"] for r in doc["retries_per_second"]) == 100  # type: ignore[union-attr]
    assert doc["policy"] == {"deadline_s": 0.0, "retries": 1, "backoff_s": 0.0,
                             "retry_on": ["connection_refused", "timeout"]}  # fmt: skip


def test_no_retry_by_default_and_server_errors_are_final(tmp_path: Path) -> None:
    out, doc = _run(tmp_path)
    assert parse(out).error_count() == 67  # calls 1, 4, ..., 199: one attempt each
    assert sum(r["retries"] for r in doc["requests"].values()) == 0  # type: ignore[union-attr]
    server = tmp_path / "s"
    server.mkdir()
    out, doc = _run(server, **{"request.retries": "3", "flaky.kind": "server"})
    res = parse(out)
    assert res.error_count() == 67  # a server's answer is not retried
    errors = sum(r["errors"] for r in doc["requests"].values())  # type: ignore[union-attr]
    assert errors == 67


def test_bad_policy_properties_are_refused() -> None:
    props = load_properties([WORKLOADS / "workloada"])
    props["request.retry_on"] = "timeout,gremlins"
    with pytest.raises(ParameterError, match="gremlins"):
        NativeClient("basic", props, "run")


def test_an_etcd_attempt_gets_what_is_left_of_the_deadline() -> None:
    sess = _GrpcSession(["http://127.0.0.1:9"], 0, 10.0, False)
    assert sess._attempt_timeout() == 10.0  # no deadline: the binding's timeout
    sess.set_deadline(time.perf_counter_ns() + 2_000_000_000)
    assert 1.5 < sess._attempt_timeout() <= 2.0
    sess.set_deadline(time.perf_counter_ns() - 1)
    with pytest.raises(Exception, match="deadline passed"):
        sess._attempt_timeout()


def test_the_phase_info_records_the_policy_and_an_old_phase_still_reads(tmp_path: Path) -> None:
    _run(tmp_path, **{"request.retries": "1", "request.retry_backoff": "0"})
    side = ErrorClasses.model_validate_json((tmp_path / "run.errors.json").read_text())
    info = PhaseInfo(tool="native", **request_info(side))
    assert info.processes == 1 and info.request_policy is not None
    assert info.request_policy.retries == 1 and info.request_policy.retry_on
    old_policy = {"deadline_s": 1.0, "retries": 2, "knob": "x"}  # unknown keys: kept
    assert PhaseInfo(tool="native", request_policy=old_policy).request_policy == (
        RequestPolicyInfo.model_validate(old_policy)
    )
    assert info.requests is not None and sum(r["retries"] for r in info.requests.values()) == 100
    old = PhaseInfo.model_validate({"tool": "go-ycsb", "argv": ["go-ycsb"], "errors": 0})
    assert old.processes is None and old.requests is None  # written before: still reads
    assert request_info(None) == {}  # no side file

"""Failed operations counted by class (timeout, connection refused, server error) per operation and
per second, in a side file; go-ycsb's output unchanged. Real sockets are not needed: the classes
come from the exceptions the transports raise, made here as they are raised there."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

from workbench.artifacts import ErrorClasses
from workbench.ycsb.native import NativeClient, register_binding
from workbench.ycsb.native.bindings import error_class
from workbench.ycsb.native.etcd import EtcdError
from workbench.ycsb.native.props import Props, load_properties
from workbench.ycsb.parser import parse

WORKLOADS = Path(__file__).resolve().parents[3] / "subjects" / "etcd" / "workloads"


def test_error_classes_of_the_transports_exceptions() -> None:
    assert error_class(TimeoutError("timed out")) == "timeout"
    assert error_class(httpx.ReadTimeout("read")) == "timeout"
    assert error_class(ConnectionRefusedError(111, "Connection refused")) == "connection_refused"
    assert error_class(httpx.ConnectError("[Errno 111] Connection refused")) == "connection_refused"
    assert error_class(EtcdError("POST x: HTTP 503: etcdserver: leader changed")) == "server_error"
    gone = EtcdError("no etcd endpoint answered", kind="other", cause=TimeoutError("timed out"))
    assert error_class(gone) == "timeout"
    assert error_class(http.client.RemoteDisconnected("closed")) == "other"


class Failing:
    """Every 3rd call times out, every 5th is refused (else fine)."""

    def __init__(self, props: Props) -> None:
        self.n, self.lock = 0, threading.Lock()

    def session(self, thread_id: int) -> Failing:
        return self

    def _call(self) -> None:
        with self.lock:
            self.n += 1
            n = self.n
        if n % 3 == 0:
            raise TimeoutError("timed out")
        if n % 5 == 0:
            raise EtcdError("no endpoint", kind="other", cause=ConnectionRefusedError(111, "x"))

    def read(self, table: str, key: str, fields: Sequence[str] | None) -> dict[str, bytes]:
        self._call()
        return {}

    def update(self, table: str, key: str, values: Mapping[str, bytes]) -> None:
        self._call()

    def scan(self, *a: object) -> list[dict[str, bytes]]:
        return []

    def insert(self, table: str, key: str, values: Mapping[str, bytes]) -> None:
        return None

    def delete(self, table: str, key: str) -> None:
        return None

    def close(self) -> None:
        return None


register_binding("failing-classes", Failing)


def test_side_file_counts_by_class_and_the_output_stays_go_ycsb(tmp_path: Path) -> None:
    props = load_properties([WORKLOADS / "workloada"])
    csv = tmp_path / "run.interval.csv"
    props.update(
        {"threadcount": "1", "operationcount": "300", "measurement.interval_csv": str(csv)}
    )
    out: list[str] = []
    report = NativeClient("failing-classes", props, "run", write=out.append, seed=3).run()
    doc = json.loads((tmp_path / "run.errors.json").read_text())
    totals = doc["totals"]
    timeouts = sum(c.get("timeout", 0) for c in totals.values())
    refused = sum(c.get("connection_refused", 0) for c in totals.values())
    assert timeouts == 100  # calls 3, 6, ..., 300
    assert refused == 40  # multiples of 5 that are not of 3: 60 - 20
    assert report.error_classes == totals
    assert sum(r["count"] for r in doc["per_second"]) == 140
    assert all(r["t_s"] >= 1 for r in doc["per_second"])
    done = doc["completions_100ms"]  # every operation, in 100 ms buckets: successes and errors
    assert sum(c["ok"] for c in done) == 160 and sum(c["errors"] for c in done) == 140
    assert all(round(c["t_s"] * 10) == c["t_s"] * 10 for c in done)
    typed = ErrorClasses.model_validate(doc)  # as the run directory reads it back
    assert typed.totals == totals and sum(c.errors for c in typed.completions_100ms) == 140
    assert {r.error_class for r in typed.per_second} == {"timeout", "connection_refused"}
    res = parse("".join(out))  # the printed output parses as before: errors only in _ERROR rows
    assert res.error_count() == 140 and res.complete


def test_no_side_file_without_a_path(tmp_path: Path) -> None:
    props = load_properties([WORKLOADS / "workloadc"])
    props.update({"threadcount": "1", "operationcount": "30"})
    report = NativeClient("failing-classes", props, "run", write=lambda s: None, seed=3).run()
    assert sum(report.error_classes["READ"].values()) == 14  # 10 timeouts + 4 refused
    assert not list(tmp_path.iterdir())


def test_completions_fall_in_the_100ms_bucket_of_their_end(tmp_path: Path) -> None:
    props = load_properties([WORKLOADS / "workloada"])
    props.update(
        {
            "threadcount": "2",
            "operationcount": "60",
            "target": "100",  # 60 operations over ~0.6 s: about 10 per 100 ms
            "measurement.error_classes": str(tmp_path / "run.errors.json"),
        }
    )
    NativeClient("basic", props, "run", write=lambda s: None, seed=3).run()
    done = json.loads((tmp_path / "run.errors.json").read_text())["completions_100ms"]
    assert sum(c["ok"] for c in done) == 60 and not any(c["errors"] for c in done)
    assert len(done) >= 5 and max(c["ok"] for c in done) <= 20, done

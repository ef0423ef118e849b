"""The native generator end to end with in-process bindings (no I/O)."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from workbench.errors import ConfigError, ParameterError
from workbench.ycsb.native import NativeClient, RunReport, register_binding
from workbench.ycsb.native.generators import build_key_name
from workbench.ycsb.native.props import Props, load_properties
from workbench.ycsb.parser import parse

REPO = Path(__file__).resolve().parents[3]
WORKLOADS = REPO / "subjects" / "etcd" / "workloads"


class Recording:
    """A binding that records calls; optional failures and one stall."""

    def __init__(self, props: Props) -> None:
        self.calls: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.fail_every = props.get_int("rec.fail_every", 0)
        self.stall_at = props.get_int("rec.stall_at", -1)
        self.stall_s = props.get_float("rec.stall_s", 0.0)
        self.n = 0
        RECORDINGS.append(self)

    def session(self, thread_id: int) -> Recording:
        return self

    def _call(self, op: str, key: str) -> None:
        with self.lock:
            self.n += 1
            n = self.n
            self.calls.append((op, key))
        if n == self.stall_at:
            time.sleep(self.stall_s)
        if self.fail_every and n % self.fail_every == 0:
            raise RuntimeError(f"injected failure #{n}")

    def read(self, table: str, key: str, fields: Sequence[str] | None) -> dict[str, bytes]:
        self._call("read", key)
        return {}

    def scan(
        self, table: str, start_key: str, count: int, fields: Sequence[str] | None
    ) -> list[dict[str, bytes]]:
        self._call("scan", start_key)
        return []

    def update(self, table: str, key: str, values: Mapping[str, bytes]) -> None:
        self._call("update", key)

    def insert(self, table: str, key: str, values: Mapping[str, bytes]) -> None:
        assert len(values) == 10 and all(len(v) == 100 for v in values.values())
        self._call("insert", key)

    def delete(self, table: str, key: str) -> None:
        self._call("delete", key)

    def close(self) -> None:
        return None


RECORDINGS: list[Recording] = []
register_binding("recording", Recording)


def run(phase: str, props: dict[str, str], db: str = "recording") -> tuple[RunReport, str]:
    out: list[str] = []
    client = NativeClient(db, props, phase, write=out.append, seed=42)
    report = client.run()
    return report, "".join(out)


def wl(name: str, **extra: str) -> dict[str, str]:
    props = load_properties([WORKLOADS / f"workload{name}"])
    props.update(extra)
    return props


def test_load_inserts_every_key_once() -> None:
    RECORDINGS.clear()
    _report, text = run("load", wl("a", threadcount="4"))
    keys = [k for op, k in RECORDINGS[-1].calls if op == "insert"]
    assert sorted(keys) == sorted(build_key_name(i) for i in range(1000))
    res = parse(text)
    assert res.complete and res.get("INSERT").count == 1000  # type: ignore[union-attr]
    assert res.get("TOTAL").count == 1000  # type: ignore[union-attr]
    assert res.error_count() == 0
    assert res.properties["threadcount"] == "4"


@pytest.mark.parametrize("name", list("abcdef"))
def test_every_shipped_workload_runs(name: str) -> None:
    _report, text = run("run", wl(name, threadcount="3"), db="basic")
    res = parse(text)
    assert res.complete and res.error_count() == 0
    total = res.get("TOTAL")
    assert total is not None
    rmw = res.get("READ_MODIFY_WRITE")
    # every op is counted once in TOTAL, except read-modify-write (its READ and UPDATE are)
    assert total.count == 1000 + (rmw.count if rmw else 0)
    if name == "f":
        assert rmw is not None and rmw.count and 400 < rmw.count < 600
    if name == "e":
        scan = res.get("SCAN")
        assert scan is not None and scan.count and scan.count > 900


def test_errors_only_in_error_rows() -> None:
    RECORDINGS.clear()
    props = wl("c", **{"rec.fail_every": "10"})
    _, text = run("run", props)
    res = parse(text)
    read, err, total = res.get("READ"), res.get("READ_ERROR"), res.get("TOTAL")
    assert read is not None and err is not None and total is not None
    assert err.count == 100 and read.count == 900 and total.count == 900


def test_run_inserts_use_the_counter_after_recordcount() -> None:
    RECORDINGS.clear()
    props = wl("d", operationcount="2000")
    _, _text = run("run", props)
    calls = RECORDINGS[-1].calls
    inserted = [k for op, k in calls if op == "insert"]
    assert 50 < len(inserted) < 160
    assert inserted == [build_key_name(1000 + i) for i in range(len(inserted))]
    loaded = {build_key_name(i) for i in range(1000)} | set(inserted)
    assert all(k in loaded for op, k in calls if op == "read")


@pytest.mark.local  # seconds of real time (a workload that sleeps)
def test_stall_under_target_shows_in_intended_time_not_service_time() -> None:
    props = wl(
        "c",
        operationcount="3000",
        target="1000",
        **{"rec.stall_at": "1000", "rec.stall_s": "0.5"},
    )
    report, text = run("run", props)
    res = parse(text)
    service, intended = res.get("READ"), res.get("READ-INTENDED")
    assert service is not None and intended is not None
    assert service.p999_us is not None and intended.p999_us is not None
    # ~500 operations were due during the 0.5 s stall: their latency from the schedule is long
    assert intended.p999_us > 300_000
    assert intended.p99_us is not None and intended.p99_us > 100_000
    # service time only has the one stalled call, far beyond p99.9
    assert service.p999_us < 20_000
    assert service.max_us is not None and service.max_us >= 500_000
    assert res.target is not None and res.target.max_lag_ms is not None
    assert res.target.max_lag_ms > 400
    assert report.target is not None


@pytest.mark.local  # seconds of real time (a workload that sleeps)
def test_maxexecutiontime_bounds_the_run() -> None:
    props = wl("a", operationcount="100000000", target="500", maxexecutiontime="1")
    t0 = time.monotonic()
    report, text = run("run", props, db="basic")
    took = time.monotonic() - t0
    assert took < 5
    assert report.stopped_early
    res = parse(text)
    total = res.get("TOTAL")
    assert res.complete and total is not None and total.count is not None
    assert 300 < total.count < 700
    assert res.run_seconds is not None and 0.9 < res.run_seconds < 2.5


def test_request_stop_prints_final_block() -> None:
    out: list[str] = []
    props = wl("a", operationcount="100000000", target="2000")
    client = NativeClient("basic", props, "run", write=out.append, seed=1)
    timer = threading.Timer(0.5, client.request_stop)
    timer.start()
    report = client.run()
    timer.join()
    res = parse("".join(out))
    assert report.stopped_early and res.complete
    assert res.get("TOTAL") is not None


@pytest.mark.local  # seconds of real time (a workload that sleeps)
def test_status_blocks_every_interval() -> None:
    props = wl("b", operationcount="2500", target="1000", **{"measurement.interval": "1"})
    _, text = run("run", props, db="basic")
    res = parse(text)
    assert len(res.status_blocks) == 2
    totals = [r for r in res.intervals if r.operation == "TOTAL"]
    assert [r.t_s for r in totals] == [1.0, 2.0]
    assert all(900 < r.interval_count < 1100 for r in totals)
    assert totals[1].count > totals[0].count


def test_json_output_style() -> None:
    _, text = run("run", wl("a", outputstyle="json"), db="basic")
    res = parse(text)
    assert res.styles == ["json"] and res.get("TOTAL").count == 1000  # type: ignore[union-attr]


BAD = [
    ({"requestdistribution": "pareto"}, "unknown request distribution 'pareto'"),
    ({"fieldlengthdistribution": "normal"}, "unknown field length distribution"),
    ({"readproportion": "0", "updateproportion": "0"}, "sum to a positive number"),
    ({"operationcount": "2", "threadcount": "4"}, "must be at least threadcount"),
    ({"readproportion": "-1"}, "must not be negative"),
    ({"threadcount": "many"}, "is not an integer"),
    ({"outputstyle": "xml"}, "unknown output style"),
]


@pytest.mark.parametrize(("extra", "message"), BAD)
def test_bad_input_is_rejected_before_any_operation(extra: dict[str, str], message: str) -> None:
    RECORDINGS.clear()
    with pytest.raises(ConfigError) as info:
        NativeClient("recording", wl("a", **extra), "run", write=lambda s: None)
    assert message in str(info.value)
    assert all(not r.calls for r in RECORDINGS)


def test_all_problems_listed_at_once() -> None:
    with pytest.raises(ParameterError) as info:
        NativeClient("basic", wl("a", requestdistribution="x", threadcount="0"), "run", write=print)
    assert len(info.value.problems) >= 2


def test_unknown_binding_names_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as info:
        NativeClient("mongo", wl("a"), "run", write=print)
    msg = str(info.value)
    assert "'mongo'" in msg and "basic" in msg and "etcd" in msg


def test_unreadable_workload_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read workload file"):
        load_properties([tmp_path / "missing"])
    with pytest.raises(ConfigError, match="expected name=value"):
        load_properties([], ["nonsense"])


def test_properties_file_syntax(tmp_path: Path) -> None:
    f = tmp_path / "w"
    f.write_text("# c\n! c\na=1\nb : two\nc three\nlong=x\\\n  y\n", encoding="utf-8")
    props = load_properties([f], ["a=9"])
    assert props == {"a": "9", "b": "two", "c": "three", "long": "xy"}


@pytest.mark.local  # seconds of real time (a workload that sleeps)
def test_warmup_is_not_measured() -> None:
    props = wl("c", operationcount="1500", target="1000", warmuptime="1")
    report, text = run("run", props, db="basic")
    res = parse(text)
    read = res.get("READ")
    assert report.ops_done == 1500
    # one second of the 1.5 s run was warm-up: only about the last 500 operations are measured
    assert read is not None and read.count is not None and 350 < read.count < 650


def test_raw_measurements_to_output_file(tmp_path: Path) -> None:
    out_file = tmp_path / "raw.csv"
    props = wl("a", operationcount="200", measurementtype="raw")
    props["measurement.output_file"] = str(out_file)
    _, text = run("run", props, db="basic")
    assert "READ   -" not in text and "Run finished" in text
    res = parse(out_file.read_text())
    assert res.styles == ["raw"]
    total = res.get("TOTAL")
    assert total is not None and total.count == 200
    # every successful operation appears twice: under its name and under TOTAL
    assert len(res.raw_samples) == 400
    now_us = time.time() * 1e6
    assert all(abs(ts - now_us) < 60e6 for _, ts, _ in res.raw_samples)


def test_raw_measurements_inline_in_the_log() -> None:
    _, text = run("run", wl("c", operationcount="50", measurementtype="csv"), db="basic")
    res = parse(text)
    assert res.complete and res.get("READ").count == 50  # type: ignore[union-attr]
    assert "raw" in res.styles and res.properties["measurementtype"] == "csv"


def test_load_insert_retries() -> None:
    RECORDINGS.clear()
    props = wl("a", recordcount="100", **{"rec.fail_every": "3"})
    props["core_workload_insertion_retry_limit"] = "2"
    props["core_workload_insertion_retry_interval"] = "0"
    _, text = run("load", props)
    res = parse(text)
    ins, err = res.get("INSERT"), res.get("INSERT_ERROR")
    assert ins is not None and err is not None
    # every key made it (a retry follows each failure); the failures are still reported
    assert ins.count == 100 and err.count is not None and err.count >= 30
    inserted = {k for op, k in RECORDINGS[-1].calls if op == "insert"}
    assert inserted == {build_key_name(i) for i in range(100)}


@pytest.mark.parametrize(
    "dist", ["uniform", "sequential", "zipfian", "latest", "hotspot", "exponential"]
)
def test_every_request_distribution_reads_only_existing_keys(dist: str) -> None:
    RECORDINGS.clear()
    props = wl("b", operationcount="600", requestdistribution=dist, insertproportion="0.1",
               readproportion="0.9", updateproportion="0")  # fmt: skip
    _, text = run("run", props)
    res = parse(text)
    calls = RECORDINGS[-1].calls
    inserted = {k for op, k in calls if op == "insert"}
    existing = {build_key_name(i) for i in range(1000)} | inserted
    reads = [k for op, k in calls if op == "read"]
    assert len(reads) > 450 and all(k in existing for k in reads)
    assert res.error_count() == 0 and inserted

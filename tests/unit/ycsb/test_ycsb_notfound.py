"""Not-found outcomes, reads_found, the basic binding's go-ycsb properties, a lone final block."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

import workbench.checks.reads  # noqa: F401 - registers reads_found
from workbench.checks import CheckContext, run_check
from workbench.model import ClientSummary
from workbench.ycsb.native import NativeClient, register_binding
from workbench.ycsb.native.bindings import NotFound
from workbench.ycsb.native.props import Props
from workbench.ycsb.parser import parse

STORE: dict[str, dict[str, bytes]] = {}
_LOCK = threading.Lock()


class DictStore:
    """An in-memory store that answers "not found" the way the etcd binding does."""

    def __init__(self, props: Props) -> None:
        pass

    def session(self, thread_id: int) -> DictStore:
        return self

    def read(self, table: str, key: str, fields: Sequence[str] | None) -> dict[str, bytes]:
        if key not in STORE:
            raise NotFound(key)
        return dict(STORE[key])

    def scan(
        self, table: str, start_key: str, count: int, fields: Sequence[str] | None
    ) -> list[dict[str, bytes]]:
        found = sorted(k for k in STORE if k >= start_key)[:count]
        if not found:
            raise NotFound(start_key)
        return [STORE[k] for k in found]

    def update(self, table: str, key: str, values: Mapping[str, bytes]) -> None:
        with _LOCK:
            existed = key in STORE
            STORE[key] = dict(values)
        if not existed:
            raise NotFound(key)

    def insert(self, table: str, key: str, values: Mapping[str, bytes]) -> None:
        with _LOCK:
            STORE[key] = dict(values)

    def delete(self, table: str, key: str) -> None:
        STORE.pop(key, None)

    def close(self) -> None:
        return None


register_binding("dict-store", DictStore)


def run_phase(phase: str, db: str = "dict-store", **props: str) -> str:
    out: list[str] = []
    base = {"recordcount": "100", "operationcount": "2000", "fieldcount": "2", "fieldlength": "8"}
    NativeClient(db, {**base, **props}, phase, write=out.append, seed=5).run()
    return "".join(out)


def reads_found(client: ClientSummary, **opts: Any) -> Any:
    return run_check("reads_found", CheckContext("etcd", {}, options=opts, client=client), "post")


def test_reads_of_never_loaded_keys_are_notfound_and_fail_reads_found() -> None:
    STORE.clear()
    run_phase("load")
    # insertstart past the loaded range: every key read was never inserted
    text = run_phase(
        "run", recordcount="1100", insertstart="1000", insertcount="100", readproportion="1",
        updateproportion="0",
    )  # fmt: skip
    res = parse(text)
    nf = res.get("READ_NOTFOUND")
    assert nf is not None and nf.kind == "notfound" and nf.base_operation == "READ"
    assert res.get("READ") is None  # not a success ...
    assert res.get("READ_ERROR") is None  # ... and not an error
    total = res.get("TOTAL")
    summary = res.client_summary()
    assert summary.not_found == {"READ": 2000}
    assert total is None or total.count == 0
    assert res.not_found_count() == 2000
    verdict = reads_found(summary)
    assert verdict.status == "fail"
    assert "READ:" in verdict.summary and "found no record" in verdict.summary


def test_updates_of_missing_keys_are_notfound() -> None:
    STORE.clear()
    res = parse(run_phase("run", readproportion="0", updateproportion="1", operationcount="50"))
    # the store writes them (as an etcd put does), but each one found no record first
    assert res.client_summary().not_found["UPDATE"] >= 1
    assert res.get("UPDATE_NOTFOUND") is not None


def test_a_normal_run_passes_reads_found() -> None:
    STORE.clear()
    run_phase("load")
    res = parse(run_phase("run", readproportion="0.5", updateproportion="0.5"))
    summary = res.client_summary()
    assert summary.not_found == {}
    assert summary.operations["READ"] + summary.operations["UPDATE"] == 2000
    verdict = reads_found(summary)
    assert verdict.status == "pass", verdict.summary


def test_reads_found_threshold_and_unknown() -> None:
    c = ClientSummary({"READ": 9990}, {}, 10.0, not_found={"READ": 10})
    assert reads_found(c).status == "pass"  # 0.1% is allowed
    assert reads_found(c, max_not_found_fraction=0.0001).status == "fail"
    # go-ycsb counts a missing key as READ_ERROR (error_rate's business): does not apply
    assert reads_found(c, not_found_reported=False).status == "skipped"
    assert reads_found(ClientSummary({"INSERT": 5}, {}, 1.0)).status == "unknown"
    assert reads_found(None).status == "unknown"


def test_notfound_rows_in_status_and_final_blocks_are_parsed() -> None:
    line = (
        "READ_NOTFOUND - Takes(s): 1.0, Count: 7, OPS: 7.0, Avg(us): 10, Min(us): 1, Max(us): 20, "
        "50th(us): 10, 90th(us): 20, 95th(us): 20, 99th(us): 20, 99.9th(us): 20, 99.99th(us): 20"
    )
    res = parse(f"{line}\n")
    assert res.complete and res.get("READ_NOTFOUND") is not None
    assert res.client_summary().not_found == {"READ": 7}


def test_lone_final_block_is_final_and_gets_no_invented_time() -> None:
    block = (
        "READ   - Takes(s): 20.0, Count: 100, OPS: 5.0, Avg(us): 10, Min(us): 1, Max(us): 20\n"
        "TOTAL  - Takes(s): 20.0, Count: 100, OPS: 5.0, Avg(us): 10, Min(us): 1, Max(us): 20\n"
    )
    res = parse(block)
    assert res.complete and [r.operation for r in res.final] == ["READ", "TOTAL"]
    assert res.status_blocks == [] and res.intervals == []
    as_json = parse(
        '[{"Operation":"READ","Count":"100","Takes(s)":"20.0"},'
        '{"Operation":"TOTAL","Count":"100","Takes(s)":"20.0"}]\n'
    )
    assert as_json.complete and as_json.status_blocks == [] and as_json.intervals == []
    # two blocks and no banner: status blocks of an unknown tool, placed at no time
    two = parse(block + "\n" + block.replace("100", "200"))
    assert not two.complete and len(two.status_blocks) == 2
    assert all(b.t_s is None for b in two.status_blocks) and two.intervals == []


def test_basic_verbose_prints_operations_as_go_ycsb() -> None:
    text = run_phase("load", db="basic", recordcount="3", verbose="true")
    lines = [ln for ln in text.splitlines() if ln.startswith("INSERT usertable")]
    assert lines[0].startswith("INSERT usertable user6284781860667377211 [ field0=")
    assert re.fullmatch(r"INSERT usertable user-?\d+ \[ field0=\S{8} field1=\S{8} \]", lines[1])
    text = run_phase(
        "run", db="basic", verbose="true", operationcount="20", readproportion="0.5",
        scanproportion="0.5", maxscanlength="5",
    )  # fmt: skip
    assert re.search(r"^READ usertable user-?\d+ \[ <all fields> \]$", text, re.M)
    assert re.search(r"^SCAN usertable user-?\d+ \d+ \[ <all fields> \]$", text, re.M)
    quiet = run_phase("load", db="basic", recordcount="3")
    assert "INSERT usertable" not in quiet


@pytest.mark.local  # seconds of real time (a workload that sleeps)
def test_basic_simulatedelay_sleeps_each_call() -> None:
    t0 = time.perf_counter()
    text = run_phase(
        "run", db="basic", operationcount="20", **{"basicdb.simulatedelay": "25",
        "basicdb.randomizedelay": "false"},
    )  # fmt: skip
    assert time.perf_counter() - t0 >= 20 * 0.025
    row = parse(text).get("TOTAL")
    assert row is not None and row.min_us is not None and row.min_us >= 25_000
    # randomized: uniform whole ms in [0, 25): some calls do not sleep at all
    row = parse(
        run_phase("run", db="basic", operationcount="200", **{"basicdb.simulatedelay": "25"})
    ).get("TOTAL")
    assert row is not None and row.min_us is not None and row.p50_us is not None
    # (a loaded machine oversleeps, so only the low end and the median are bounded)
    assert row.min_us < 1_000 and 6_000 < row.p50_us < 20_000


def test_basic_rejects_a_negative_delay() -> None:
    with pytest.raises(Exception, match="simulatedelay"):
        run_phase("run", db="basic", **{"basicdb.simulatedelay": "-1"})

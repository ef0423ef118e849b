"""Tool facts the checks need, on captured go-ycsb output: SIGINT's in-flight errors counted apart
(error_rate, ycsb_traffic), go-ycsb's missing NOTFOUND rows, the tool's service and properties."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.checks.measurement import judge_error_rate, judge_traffic
from workbench.params import validate_run
from workbench.run.workload import client_summary
from workbench.ycsb.parser import parse
from workbench.ycsb.runner import RunOutcome
from workbench.ycsb.tools import PhaseRecord, PhaseRequest, get_tool, interrupted_in_flight

CAPTURED = Path(__file__).parents[2] / "fakes" / "captured" / "go-ycsb"


def _record(name: str, tool: str = "go-ycsb", interrupted: bool = True) -> PhaseRecord:
    text = (CAPTURED / name).read_text()
    outcome = RunOutcome(["go-ycsb"], 0, text, parse(text), None, interrupted, 6.0)
    return PhaseRecord(outcome, tool, 0.0, 0.0, 6.0, limitations=get_tool(tool).limitations)


def _server() -> dict[str, object]:
    return {"start": 0.0, "end": 5.0, "settle_s": 0.5, "before": 0.0, "after": 1e6}


def test_sigint_errors_of_go_ycsb_are_ours_up_to_one_per_thread() -> None:
    rec = _record("run_sigint.log")
    assert rec.outcome.result.error_count() == 8  # 4 READ_ERROR + 4 UPDATE_ERROR, 8 threads
    n, reason = interrupted_in_flight(rec, threads=8)
    assert n == 8 and "SIGINT" in reason
    assert interrupted_in_flight(rec, threads=3)[0] == 3  # never more than one per thread
    assert interrupted_in_flight(_record("run_sigint.log", interrupted=False), 8) == (0, "")


def test_the_native_generator_gets_no_allowance() -> None:
    assert interrupted_in_flight(_record("run_sigint.log", tool="native"), 8) == (0, "")


def test_error_rate_and_traffic_pass_a_sigint_bounded_go_ycsb_run_with_the_reason() -> None:
    rec = _record("run_sigint.log")
    c = client_summary(rec, validate_run({"threads": 8, "tool": "go-ycsb"}))
    assert c.interrupt_errors == 8
    assert not c.not_found_reported
    obs = {"client": c.to_dict()}
    j = judge_error_rate(obs, {"max_error_rate": 0.0})
    assert j.status == "pass", j.summary
    assert j.evidence["interrupt_errors"] == 8 and "SIGINT" in j.evidence["interrupt_reason"]
    assert "8 more in flight" in j.summary
    t = judge_traffic({**obs, "server": _server()}, {})
    assert t.status == "pass" and t.evidence["interrupt_errors"] == 8, t.summary


def test_more_errors_than_threads_still_fail() -> None:
    rec = _record("run_sigint.log")
    c = client_summary(rec, validate_run({"threads": 4, "tool": "go-ycsb"}))
    j = judge_error_rate({"client": c.to_dict()}, {"max_error_rate": 0.0})
    assert j.status == "fail" and "(4/" in j.summary, j.summary
    t = judge_traffic({"client": c.to_dict(), "server": _server()}, {})
    assert t.status == "fail" and t.summary.startswith("4 client errors")


def test_errors_of_a_killed_member_are_not_excused_when_the_run_ended_by_count() -> None:
    rec = _record("run_member_killed.log", interrupted=False)
    c = client_summary(rec, validate_run({"threads": 8, "tool": "go-ycsb"}))
    assert c.interrupt_errors == 0
    if c.total_errors:
        assert judge_error_rate({"client": c.to_dict()}, {}).status == "fail"


def test_go_ycsb_limitations_name_what_it_cannot_measure() -> None:
    lim = " ".join(get_tool("go-ycsb").limitations)
    for words in ("intended-time", "per-interval percentiles", "start gate", "NOTFOUND"):
        assert words in lim
    assert get_tool("native").not_found_reported and not get_tool("go-ycsb").not_found_reported


@pytest.mark.local
def test_go_ycsbs_clock_starts_at_the_line_closing_its_properties(tmp_path: Path) -> None:
    script = (
        "echo 'Using request distribution'; echo '***************** properties ****'; "
        "echo '\"threadcount\"=\"1\"'; sleep 0.6; echo '**********************************'; "
        "echo '**********'; echo 'Run finished, takes 1.0s'"
    )
    req = PhaseRequest("run", "etcd", "/workloads/workloada", {}, threads=1)
    rec = get_tool("go-ycsb").run(
        req,
        lambda _name: ["sh", "-c", script, "sh"],
        project="p",
        service="s",
        log_path=tmp_path / "run.log",
    )
    assert rec.first_line - rec.launched >= 0.5  # not the first output line
    assert rec.ended - rec.first_line < 0.5

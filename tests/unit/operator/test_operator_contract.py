"""workbench.operator.contract: the operator's events file (bad lines counted, never fatal), the
attribution of a recorded engine event stream, and operator.json through the run directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.artifacts import OperatorDoc, ReadBack, RunDir
from workbench.artifacts.faults import FileProblem
from workbench.docker.events import parse_lines
from workbench.faults.outcome import FaultRecord
from workbench.faults.schedule import FaultSpec
from workbench.operator.contract import (
    MembershipSample,
    OperatorEvent,
    attribute,
    parse_events,
    read_events,
)
from workbench.operator.scores import FaultScore, OperatorScores

STREAM = (
    Path(__file__).parents[2]
    / "fakes"
    / "captured"
    / "docker"
    / ("events-container-lifecycle.jsonl")
)
T0 = 1796293000.0


def lines(*docs: object) -> bytes:
    return b"\n".join(d if isinstance(d, bytes) else json.dumps(d).encode() for d in docs) + b"\n"


def test_good_lines_are_kept_in_order_with_both_kinds_of_timestamp() -> None:
    got = parse_events(
        lines(
            {"ts": T0 + 1, "kind": "detect", "target": "etcd1", "text": "no answer"},
            {"ts": "2026-12-03T11:16:42.5+01:00", "kind": "act"},
            {"ts": T0 + 3, "kind": "restart-planned", "text": "mine"},
        ),
        T0 - 100,
        T0 + 100,
    )
    assert [e.kind for e in got.events] == ["detect", "act", "restart-planned"]
    assert got.events[0].target == "etcd1" and got.events[0].line == 1
    assert got.events[1].ts == pytest.approx(T0 + 2.5)
    assert got.unknown_kinds == {"restart-planned": 1}
    assert (got.lines, got.malformed, got.out_of_range, got.oversized) == (3, 0, 0, False)


def test_malformed_and_out_of_range_lines_are_counted_never_fatal() -> None:
    got = parse_events(
        lines(
            b"not json",
            [1, 2],
            {"kind": "detect"},  # no ts
            {"ts": T0, "text": "no kind"},
            {"ts": True, "kind": "detect"},
            {"ts": "2026-12-02T09:36:42", "kind": "detect"},  # no offset
            {"ts": T0, "kind": "detect", "target": 3},
            b"\xff\xfe",
            {"ts": T0 - 3600, "kind": "detect"},  # an hour before the run
            {"ts": (T0 + 10) * 1000, "kind": "detect"},  # milliseconds: far outside
            {"ts": T0 + 2, "kind": "note"},
        ),
        T0,
        T0 + 60,
    )
    assert got.malformed == 8 and got.out_of_range == 2
    assert [e.ts for e in got.events] == [T0 + 2]
    assert got.lines == 11 and len(got.problems) == 10
    assert got.problems[0].startswith("line 1: malformed")


def test_an_oversized_file_is_read_up_to_the_bound_and_says_so(tmp_path: Path) -> None:
    one = json.dumps({"ts": T0 + 1, "kind": "note", "text": "x" * 50}).encode() + b"\n"
    path = tmp_path / "events.jsonl"
    path.write_bytes(one * 100)
    got = read_events(path, T0, T0 + 60, max_bytes=10 * len(one) + 5)
    assert got.oversized and got.bytes_total == 100 * len(one)
    assert len(got.events) == 10 and got.malformed == 0  # the cut 11th line is not a bad line
    assert "only the first" in got.problems[-1]
    assert read_events(tmp_path / "absent.jsonl").missing


def records() -> list[FaultRecord]:
    """The injector's own actions on the recorded container: a pause undone 30 s later, then
    a persistent kill (never undone); everything after is somebody else's."""

    def rec(i: int, action: str, start: float, applied: float, end: float | None) -> FaultRecord:
        spec = FaultSpec(action=action, target="sleeper", start_s=0, duration_s=0, text=action)
        return FaultRecord(
            index=i, spec=spec, label=f"{action}:sleeper", scheduled_start=start,
            scheduled_end=start, service="sleeper", container="wb-evtest-sleeper-1",
            start=start, applied=applied, end=end, took_effect=True,
        )  # fmt: skip

    return [
        rec(0, "pause", 1796293021.25, 1796293021.30, 1796293051.24),
        rec(1, "kill", 1796293051.27, 1796293051.33, None),
    ]


def test_attribution_of_a_recorded_engine_stream() -> None:
    events = parse_lines(STREAM.read_text().splitlines())
    got = attribute(events, records())
    seq = [(round(e.t - 1796293000, 2), e.action, e.attributed, e.fault) for e in got]
    assert all(a not in ("exec_start", "health_status", "exec_die") for _, a, _, _ in seq)
    assert seq[:7] == [
        (18.97, "create", "operator", None),
        (19.19, "start", "operator", None),
        (21.29, "pause", "injector", 0),
        (51.24, "unpause", "injector", 0),  # the pause's undo
        (51.28, "kill", "injector", 1),
        (51.32, "die", "injector", 1),
        (52.36, "start", "operator", None),  # the persistent kill was not undone by the injector
    ]
    # `docker restart` by somebody else: its kills, the die and the stop follow that somebody
    restart = [(a, w) for t, a, w, _ in seq if 52.38 < t < 53.9]
    assert restart == [
        ("kill", "operator"), ("kill", "operator"), ("die", "operator"), ("stop", "operator"),
        ("start", "operator"), ("restart", "operator"),
    ]  # fmt: skip
    assert seq[-1][1:3] == ("destroy", "operator")


def test_a_die_nobody_caused_is_the_containers_own() -> None:
    stream = STREAM.read_text().splitlines()
    dies = [line for line in stream if '"Action":"die"' in line]
    got = attribute(parse_lines(dies), [])
    assert [e.attributed for e in got] == ["container"] * len(dies)
    assert attribute(parse_lines(stream), [], ignore_services={"sleeper"}) == []


def test_operator_json_round_trips_through_the_run_directory(tmp_path: Path) -> None:
    rd = RunDir.create(tmp_path, "r0", "etcd", {})
    assert rd.operator() is None
    events = parse_events(lines({"ts": T0 + 1, "kind": "detect", "target": "etcd1"}), T0, T0 + 60)
    doc = OperatorDoc(
        operator="reference",
        docker=True,
        t0=T0,
        events=events,
        container_events=attribute(parse_lines(STREAM.read_text().splitlines()), records()),
        readback=ReadBack(loaded=10, found=10),
        scores=OperatorScores(
            faults=[FaultScore(index=0, label="kill:etcd1", onset_s=15.0, persistent=True)],
            false_alarms=[OperatorEvent(ts=T0 + 1, kind="detect")],
        ),
    )
    rd.save_operator(doc)
    back = rd.operator()
    assert back == doc and isinstance(back, OperatorDoc)
    assert json.loads((rd.path / "operator.json").read_text())["schema"] == 1
    (rd.path / "operator.json").write_text('{"schema": 1, "events": 3}')
    problem = rd.operator()
    assert isinstance(problem, FileProblem) and "operator.json" in str(problem)


def test_a_membership_sample_is_typed() -> None:
    s = MembershipSample(t=T0, member="etcd1", healthy=False, in_cluster=True)
    assert s.voting and not s.is_leader and s.error is None


def test_a_second_kill_right_after_the_injectors_is_somebody_elses() -> None:
    stream = [
        line
        for line in STREAM.read_text().splitlines()
        if '"Action":"kill"' in line or '"Action":"die"' in line
    ]
    (kill_fault,) = [r for r in records() if r.spec.action == "kill"]
    widened = kill_fault.model_copy(update={"applied": 1796293055.6})  # every kill in its window
    got = attribute(parse_lines(stream), [widened])
    assert [(e.action, e.attributed) for e in got[:2]] == [
        ("kill", "injector"),
        ("die", "injector"),
    ]
    assert {e.attributed for e in got[2:]} == {"operator"}

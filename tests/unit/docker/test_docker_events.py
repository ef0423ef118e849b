"""workbench.docker.events: the parser, read against a stream recorded from a real engine
(20.10.24, API 1.41; tests/fakes/captured/docker/record-events.sh made it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.docker.events import Event, event_filters, ns_param, parse_event, parse_lines

CAPTURED = Path(__file__).parents[2] / "fakes" / "captured" / "docker"
STREAM = CAPTURED / "events-container-lifecycle.jsonl"


def recorded() -> list[Event]:
    return parse_lines(STREAM.read_text().splitlines())


def test_every_line_of_the_recorded_stream_is_an_event() -> None:
    events = recorded()
    assert len(events) == len(STREAM.read_text().splitlines()) == 38
    assert {(e.project, e.service, e.name, e.type) for e in events} == {
        ("wb-evtest", "sleeper", "wb-evtest-sleeper-1", "container")
    }
    assert len({e.id for e in events}) == 1 and len(events[0].id) == 64
    times = [e.time_ns for e in events]
    assert times == sorted(times) and times[0] == 1796293018967403808  # nanoseconds kept


def test_the_lifecycle_in_order() -> None:
    life = [e.action for e in recorded() if not e.action.startswith("exec_")]
    assert life == [
        "create", "start", "health_status", "pause", "unpause",
        "kill", "die", "start",  # docker kill --signal KILL; docker start
        "kill", "kill", "die", "stop", "start", "restart",  # restart --time 1 (sleep ignores TERM)
        "kill", "kill", "health_status", "die", "stop", "start",  # stop --time 1; start
        "kill", "kill", "die", "destroy",  # kill --signal INT (ignored); rm --force
    ]  # fmt: skip


def test_signals_exit_codes_and_details() -> None:
    events = recorded()
    assert [e.signal for e in events if e.action == "kill"] == [9, 15, 9, 15, 9, 2, 9]
    assert {e.exit_code for e in events if e.action == "die"} == {137}
    assert all(e.signal is None and e.exit_code is None for e in events if e.action == "start")
    health = [e for e in events if e.action == "health_status"]
    assert [e.detail for e in health] == ["healthy", "healthy"]
    execs = [e for e in events if e.action == "exec_start"]
    assert execs[0].detail == "/bin/sh -c true" and execs[0].image == "debian:bookworm-slim"
    assert events[0].attributes["com.docker.compose.oneoff"] == "False"
    assert events[0].time == pytest.approx(1796293018.967403808)


def test_an_old_engine_event_and_unreadable_ones() -> None:
    old = parse_event({"status": "die", "id": "abc", "from": "img", "time": 1700000000})
    assert (old.action, old.id, old.time_ns, old.image, old.project) == (
        "die", "abc", 1700000000 * 10**9, "img", None,
    )  # fmt: skip
    for bad in ({"Action": "start", "Actor": {"ID": "x"}}, {"timeNano": 1, "Actor": {"ID": "x"}}):
        with pytest.raises(ValueError):
            parse_event(bad)
    with pytest.raises(ValueError):
        parse_lines(["[1, 2]"])
    assert parse_lines(["", "  "]) == []


def test_an_attribute_that_is_not_a_number_is_no_signal() -> None:
    line = {"Action": "kill", "Actor": {"ID": "x", "Attributes": {"signal": "TERM"}}, "timeNano": 5}
    assert parse_lines([json.dumps(line)])[0].signal is None


def test_filters_and_times() -> None:
    assert event_filters("wb-x") == {
        "type": ["container"],
        "label": ["com.docker.compose.project=wb-x"],
    }
    assert event_filters(None, actions=["die", "oom"], labels={"a": "b"}) == {
        "type": ["container"],
        "label": ["a=b"],
        "event": ["die", "oom"],
    }
    assert ns_param(1796293018967403808) == "1796293018.967403808"
    assert ns_param(5 * 10**9 + 7) == "5.000000007"


def test_an_event_as_json() -> None:
    kill = next(e for e in recorded() if e.action == "kill")
    doc = json.loads(json.dumps(kill.as_dict()))
    assert doc["time_ns"] == kill.time_ns and doc["signal"] == 9 and doc["exit_code"] is None
    assert (doc["service"], doc["project"], doc["name"]) == (
        "sleeper", "wb-evtest", "wb-evtest-sleeper-1",
    )  # fmt: skip
    assert doc["attributes"]["signal"] == "9"

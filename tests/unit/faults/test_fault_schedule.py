"""Schedule parsing, repetition and validation (every problem listed in one error)."""

from __future__ import annotations

import pytest

from workbench.errors import ParameterError
from workbench.faults.actions import supported_actions
from workbench.faults.schedule import build_schedule, parse_fault
from workbench.faults.targets import FaultsConfig

ETCD = FaultsConfig.from_table(
    {
        "targets": ["etcd0", "etcd1", "etcd2"],
        "leader": {"kind": "etcd", "members": {f"etcd{i}": f"http://e{i}" for i in range(3)}},
    }
)
ALL = dict.fromkeys(["kill", "stop", "restart", "pause", "partition", "loss", "bandwidth", "delay"])


def test_parse_forms() -> None:
    f = parse_fault("kill:leader@10+5")
    assert (f.action, f.arg, f.target, f.start_s, f.duration_s, f.end_s) == (
        "kill",
        None,
        "leader",
        10,
        5,
        15,
    )
    assert f.label == "kill:leader"
    g = parse_fault("loss:20:etcd2@5.5+3")
    assert (g.action, g.arg, g.target, g.start_s, g.duration_s, g.label) == (
        "loss",
        "20",
        "etcd2",
        5.5,
        3,
        "loss:20:etcd2",
    )
    assert parse_fault("bandwidth:1mbit:etcd1@0+2").arg == "1mbit"
    assert parse_fault("delay:100:etcd1@1+2").arg == "100"
    r = parse_fault("restart:leader@12")
    assert (r.duration_s, r.end_s) == (0, 12)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("kill:leader", "ACTION[:ARG]:TARGET@START+DURATION"),
        ("kill:leader@ten+5", "not START+DURATION"),
        ("smash:leader@1+1", "unknown action 'smash'"),
        ("kill:leader@10+0", "needs a duration > 0"),
        ("loss:leader@1+1", "expected loss:ARG:TARGET"),
        ("loss:150:etcd1@1+1", "0 < pct <= 100"),
        ("bandwidth:fast:etcd1@1+1", "tc rate"),
        ("delay:1.5:etcd1@1+1", "whole milliseconds"),
        ("kill:20:leader@1+1", "expected kill:TARGET"),
    ],
)
def test_parse_errors(text: str, needle: str) -> None:
    with pytest.raises(ValueError) as exc:
        parse_fault(text)
    assert needle in str(exc.value)


def test_repeat_spreads_each_fault() -> None:
    s = build_schedule(
        ["kill:leader@5+3"], config=ETCD, supported=ALL, run_duration_s=40, repeat_n=3, every_s=10
    )
    assert [(f.start_s, f.end_s, f.repeat_index) for f in s.faults] == [
        (5, 8, 0),
        (15, 18, 1),
        (25, 28, 2),
    ]
    assert (s.repeat, s.every_s) == (3, 10)


def test_every_problem_in_one_error() -> None:
    supported = {**ALL, "delay": "the kernel has no sch_netem"}
    with pytest.raises(ParameterError) as exc:
        build_schedule(
            [
                "smash:leader@1+1",  # unknown action
                "kill:pd-leader@1+1",  # not a target of this manifest
                "pause:etcd1@35+10",  # past the run phase
                "kill:etcd2@2+5",
                "stop:etcd2@4+1",  # overlaps the kill on etcd2
                "delay:100:etcd0@1+1",  # not supported here
            ],
            config=ETCD,
            supported=supported,
            run_duration_s=40,
        )
    problems = exc.value.problems
    assert len(problems) == 5, problems
    text = "\n".join(problems)
    for needle in (
        "unknown action 'smash'",
        "target 'pd-leader' not allowed",
        "ends at 45 s",
        "overlap on etcd2",
        "sch_netem",
    ):
        assert needle in text
    assert "valid: etcd0, etcd1, etcd2, leader, follower, random" in text


def test_repeats_that_overlap_and_bad_repeat_params() -> None:
    with pytest.raises(ParameterError) as exc:
        build_schedule(
            ["kill:leader@1+5"],
            config=ETCD,
            supported=ALL,
            run_duration_s=60,
            repeat_n=3,
            every_s=4,
        )
    assert sum("overlap on leader" in p for p in exc.value.problems) == 2
    with pytest.raises(ParameterError) as exc2:
        build_schedule(
            ["kill:leader@1+5"], config=ETCD, supported=ALL, run_duration_s=60, repeat_n=2
        )
    assert exc2.value.problems == [
        "fault_repeat > 1 needs fault_every > 0 (seconds between repeats)"
    ]


def test_no_faults_table_allows_nothing() -> None:
    with pytest.raises(ParameterError) as exc:
        build_schedule(
            ["kill:etcd0@1+1"],
            config=FaultsConfig.from_table(None),
            supported=ALL,
            run_duration_s=None,
        )
    assert "no [faults] targets" in exc.value.problems[0]


def test_unbounded_run_checks_only_starts() -> None:
    s = build_schedule(["kill:etcd0@100+50"], config=ETCD, supported=ALL, run_duration_s=None)
    assert s.faults[0].end_s == 150


def test_supported_actions_reasons() -> None:
    caps = {
        "docker": True,
        "nsenter": True,
        "iptables": True,
        "iptables-statistic": True,
        "tc": False,
        "tc-tbf": False,
        "tc-netem": False,
    }
    got = supported_actions(caps)
    assert got["kill"] is None and got["partition"] is None and got["loss"] is None
    assert "apt-get install iproute2" in str(got["bandwidth"])
    assert "sch_netem" in str(got["delay"])


def test_a_fault_without_duration_is_persistent_until_the_run_phase_ends() -> None:
    f = parse_fault("kill:follower@15")
    assert (f.persistent, f.duration_s) == (True, 0)
    assert not parse_fault("kill:follower@15+5").persistent
    assert not parse_fault("restart:leader@12").persistent  # instant: nothing to undo
    config = FaultsConfig.from_table({"targets": ["etcd0", "etcd1"]})
    sched = build_schedule(
        ["kill:etcd0@15"], config=config, supported={"kill": None}, run_duration_s=60
    )
    assert (sched.faults[0].start_s, sched.faults[0].end_s) == (15, 60)
    with pytest.raises(ParameterError, match="faults overlap on etcd0"):
        build_schedule(
            ["kill:etcd0@15", "pause:etcd0@40+2"],
            config=config,
            supported={"kill": None, "pause": None},
            run_duration_s=None,
        )

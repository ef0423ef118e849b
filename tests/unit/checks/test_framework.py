"""The checks framework: registry, gather/judge, timing, unknown-on-crash, verdicts (checks.json is
workbench.artifacts', tests/unit/test_artifacts_verdicts.py)."""

from __future__ import annotations

from typing import Any

import pytest

from workbench.checks import (
    REGISTRY,
    CheckContext,
    Judgement,
    NotApplicable,
    Unobservable,
    available_checks,
    exit_code,
    format_table,
    get_check,
    raise_for_verdicts,
    register,
    run_check,
    run_checks,
    validate_check_names,
)
from workbench.errors import CheckFailed, ConfigError
from workbench.manifest import load_manifest
from workbench.model import Verdict


@pytest.fixture
def temp_checks() -> Any:
    added: list[str] = []

    def add(name: str, gather: Any, judge: Any) -> None:
        register(name, "test check", gather, judge)
        added.append(name)

    yield add
    for n in added:
        REGISTRY.pop(n, None)


def ctx(**kw: Any) -> CheckContext:
    return CheckContext(subject="t", endpoints={}, **kw)


def test_unknown_check_name_lists_valid_names() -> None:
    with pytest.raises(ConfigError, match=r"unknown check 'nope'; valid: .*cluster_healthy"):
        get_check("nope")
    with pytest.raises(ConfigError, match="'a', 'b'"):
        validate_check_names(["a", "cluster_healthy", "b"])


def test_every_manifest_check_name_is_registered() -> None:
    for subject in ("etcd",):
        m = load_manifest(subject)
        validate_check_names([*m.checks["pre"], *m.checks["post"]])
    assert {"pd_healthy", "prometheus_targets", "grafana", "probe_connectivity"} <= set(
        available_checks()
    )


def test_verdict_carries_phase_timing_and_evidence(temp_checks: Any) -> None:
    temp_checks("t_pass", lambda c: {"n": 3}, lambda o, opt: Judgement("pass", "3 ok", o))
    v = run_check("t_pass", ctx(), "pre")
    assert (v.name, v.phase, v.status, v.summary, v.evidence) == (
        "t_pass",
        "pre",
        "pass",
        "3 ok",
        {"n": 3},
    )
    assert v.started_at > 1e9 and v.duration_s >= 0


def test_unobservable_notapplicable_and_crash(temp_checks: Any) -> None:
    def unobs(c: CheckContext) -> None:
        raise Unobservable("cannot see", {"why": "x"})

    def na(c: CheckContext) -> None:
        raise NotApplicable("no grafana here")

    temp_checks("t_unk", unobs, lambda o, opt: Judgement("pass", ""))
    temp_checks("t_skip", na, lambda o, opt: Judgement("pass", ""))
    temp_checks("t_crash", lambda c: {}, lambda o, opt: Judgement("pass", str(o["missing"])))
    vs = run_checks(["t_unk", "t_skip", "t_crash"], ctx(), "post")
    assert [v.status for v in vs] == ["unknown", "skipped", "unknown"]
    assert vs[0].evidence == {"why": "x"}
    assert vs[1].summary == "no grafana here"
    assert "KeyError" in vs[2].summary


def _v(name: str, status: str) -> Verdict:
    return Verdict(name, "pre", status, f"{name} said {status}")  # type: ignore[arg-type]


def test_exit_codes() -> None:
    assert exit_code([_v("a", "pass"), _v("b", "skipped")]) == 0
    assert exit_code([_v("a", "pass"), _v("b", "unknown")]) == 2
    assert exit_code([_v("a", "unknown"), _v("b", "fail")]) == 1
    assert exit_code([]) == 0


def test_raising_is_separate_and_names_failures() -> None:
    vs = [_v("a", "pass"), _v("b", "fail"), _v("c", "unknown")]
    with pytest.raises(CheckFailed, match="b \\[pre\\] fail: b said fail") as info:
        raise_for_verdicts(vs)
    assert "c said" not in str(info.value)
    with pytest.raises(CheckFailed, match="c said unknown"):
        raise_for_verdicts([_v("c", "unknown")], allow_unknown=False)
    raise_for_verdicts([_v("a", "pass"), _v("c", "unknown")])  # does not raise


def test_invalid_status_is_rejected() -> None:
    with pytest.raises(ValueError, match="invalid verdict status"):
        _v("a", "ok")


def test_format_table() -> None:
    text = format_table([_v("cluster_healthy", "pass"), _v("grafana", "skipped")])
    lines = text.splitlines()
    assert lines[0].split() == ["PHASE", "CHECK", "STATUS", "TIME", "SUMMARY"]
    assert "SKIPPED" in lines[2] and "grafana said skipped" in lines[2]


def test_context_from_manifest_resolves_ports() -> None:
    m = load_manifest("etcd")
    c = CheckContext.from_manifest(
        m, {"WB_ETCD0_PORT": 1, "WB_ETCD1_PORT": 2, "WB_ETCD2_PORT": 3, "WB_PROMETHEUS_PORT": 4}
    )
    assert c.urls("cluster") == ["http://127.0.0.1:1", "http://127.0.0.1:2", "http://127.0.0.1:3"]
    assert c.network_endpoints["prometheus"] == "http://prometheus:9090"
    assert c.expected_targets == {"etcd": 3}
    assert c.options["server_ops_query"].startswith("sum(")


def test_parallel_checks_run_at_once_and_keep_the_order() -> None:
    """Pre checks in parallel: the stage lasts as long as the slowest, verdicts in list order."""
    import threading

    from workbench.checks.base import REGISTRY, Judgement, register, run_checks

    started: list[str] = []
    barrier = threading.Barrier(3, timeout=5)  # only passes when all three run at the same time

    def make(name: str) -> None:
        def gather(ctx: CheckContext) -> str:
            started.append(name)
            barrier.wait()
            return name

        register(name, name, gather, lambda obs, _o: Judgement("pass", obs))

    names = ["par_c", "par_a", "par_b"]
    try:
        for n in names:
            make(n)
        got = run_checks(names, CheckContext(subject="t", endpoints={}), "pre", parallel=True)
    finally:
        for n in names:
            REGISTRY.pop(n, None)
    assert [v.name for v in got] == names and all(v.status == "pass" for v in got)
    assert [v.summary for v in got] == names
    assert sorted(started) == sorted(names)

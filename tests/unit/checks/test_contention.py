"""host_contention (issue 11 item 11): two runs at once, or a busy host, show in a verdict with
the numbers; pure, the host view is a fake."""

from __future__ import annotations

from typing import Any

import pytest

from workbench.checks import CheckContext, run_check
from workbench.manifest import load_manifest

W = (1000.0, 1010.0)


class FakeHost:
    def __init__(self, **obs: Any) -> None:
        self.obs = obs
        self.asked: list[tuple[float, float]] = []

    def contention(self, start: float, end: float) -> dict[str, Any]:
        self.asked.append((start, end))
        return self.obs


def measured(outside: float, others: list[str] | None = None, **kw: Any) -> FakeHost:
    obs = {
        "measured": True,
        "span_s": 10.0,
        "cpu_count": 2,
        "host_busy_cores": 0.9 + outside,
        "stack_cores": 0.8,
        "workbench_cores": 0.1,
        "outside_cores": outside,
        "other_projects": [] if others is None else others,
        "engine_error": None,
    }
    return FakeHost(**{**obs, **kw})


def verdict(host: Any, window: Any = W, **options: Any) -> Any:
    ctx = CheckContext("etcd", {}, options=options, host=host, window=window)
    return run_check("host_contention", ctx, "post")


def test_an_idle_host_passes_with_the_numbers() -> None:
    host = measured(0.05)
    v = verdict(host)
    assert v.status == "pass", v.summary
    assert host.asked == [W]
    assert "outside the stack and the client: 0.05 cores" in v.summary
    assert v.evidence["outside_cores"] == 0.05 and v.evidence["max_cores"] == 0.5


@pytest.mark.parametrize(
    ("outside", "options", "status", "needle"),
    [
        (0.70, {}, "unknown", "0.70 cores"),
        (0.40, {}, "pass", "≤ 0.5"),  # an idle stack's healthchecks and scrapes left up
        (1.20, {}, "fail", "the run shared the host"),
        (0.40, {"host_contention_max_cores": 0.25}, "unknown", "> 0.25"),
        (0.40, {"host_contention_fail_cores": 0.3}, "fail", "> 0.3"),
    ],
)
def test_cpu_outside_the_stack_by_thresholds(
    outside: float, options: dict[str, Any], status: str, needle: str
) -> None:
    v = verdict(measured(outside), **options)
    assert (v.status, needle in v.summary) == (status, True), v.summary


def test_another_workbench_stack_is_named_and_fails_or_is_unknown_by_option() -> None:
    # default: named; an idle stack's CPU is part of the outside share the thresholds judge
    v = verdict(measured(0.05, ["wb-etcd-7b800c8f"]))
    assert v.status == "pass"
    assert "other workbench stack(s) up during the window: wb-etcd-7b800c8f" in v.summary
    assert v.evidence["other_projects"] == ["wb-etcd-7b800c8f"]
    busy = verdict(measured(1.2, ["wb-etcd-7b800c8f"]))  # a second run: its CPU shows
    assert busy.status == "fail" and "wb-etcd-7b800c8f" in busy.summary
    v = verdict(measured(0.05, ["wb-x"]), host_contention_other_stacks="fail")
    assert v.status == "fail"
    v = verdict(measured(0.05, ["wb-x"]), host_contention_other_stacks="unknown")
    assert v.status == "unknown"
    bad = verdict(measured(0.05, ["wb-x"]), host_contention_other_stacks="ignore")
    assert bad.status == "unknown" and "must be note, fail or unknown" in bad.summary


def test_unknown_when_not_measured() -> None:
    assert "not sampled" in verdict(None).summary
    assert verdict(None).status == "unknown"
    assert verdict(measured(0.0), window=None).summary == "no run window"
    gap = verdict(FakeHost(measured=False, reason="host samples 1..2 do not span the window"))
    assert gap.status == "unknown" and "do not span" in gap.summary
    no_engine = measured(0.0, None, outside_cores=None, other_projects=None)
    no_engine.obs.pop("outside_cores")
    no_engine.obs["engine_error"] = "engine not reachable: no socket"
    v = verdict(no_engine)
    assert v.status == "unknown" and "no socket" in v.summary


@pytest.mark.parametrize("subject", ["etcd", "tikv"])
def test_subjects_run_it_after_the_run(subject: str) -> None:
    assert "host_contention" in load_manifest(subject).checks["post"]

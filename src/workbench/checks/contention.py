"""The host-contention post check: did the run have the host to itself?

`host_contention` reads what `workbench.telemetry.HostSampler` saw over the run window (through
`CheckContext.host`): the host's busy cores minus this stack's containers (the client is one of
them) and the workbench's own process, and the other workbench stacks (`wb-` compose projects)
running meanwhile. Options: `host_contention_max_cores` (0.5: above it `unknown`),
`host_contention_fail_cores` (1.0: above it `fail`), `host_contention_other_stacks` (`note`, the
default: named in the summary, their CPU judged as part of the outside share; or `fail` /
`unknown` whenever one is up). An idle stack left up (a test fixture, `workbench up`) costs little
CPU; a second run costs a lot, and that is what the thresholds see. Not here: the sampling itself (telemetry) and when it starts (the conductor).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.checks.base import CheckContext, Judgement, Unobservable, register
from workbench.model import VerdictStatus

_RANK: dict[VerdictStatus, int] = {"pass": 0, "unknown": 1, "fail": 2}
SAMPLE_MARGIN_S = 0.7  # the host sampler's period (0.5 s) and a little
ENGINE_WAIT_S = 5.0  # at most this long for the stack's container CPU to be sampled past the end


def gather_host(ctx: CheckContext) -> dict[str, Any]:
    if ctx.host is None:
        raise Unobservable("the host was not sampled during the run (no host sampler)")
    if ctx.window is None:
        raise Unobservable("no run window")
    start, end = ctx.window
    behind = end + SAMPLE_MARGIN_S - ctx.clock()  # the window ends a little after the traffic:
    if 0 < behind <= 5:  # let the sampler see past it (the post checks begin right away)
        ctx.sleep(behind)
    obs = dict(ctx.host.contention(start, end))
    waited = 0.0  # the engine's container samples come every second or slower: one past `end`
    while obs.get("measured") and obs.get("stack_cores") is None and waited < ENGINE_WAIT_S:
        ctx.sleep(0.5)
        waited += 0.5
        obs = dict(ctx.host.contention(start, end))
    if not obs.get("measured"):
        raise Unobservable(f"host CPU not measured: {obs.get('reason', '?')}", obs)
    return obs


def judge_contention(obs: Mapping[str, Any], options: Mapping[str, Any]) -> Judgement:
    """The worse of the CPU verdict and the other-stacks verdict, both summaries joined."""
    parts = [_cpu(obs, options), _stacks(obs, options)]
    status = max((s for s, _ in parts), key=_RANK.__getitem__)
    evidence = {
        **obs,
        "max_cores": float(options.get("host_contention_max_cores", 0.5)),
        "fail_cores": float(options.get("host_contention_fail_cores", 1.0)),
    }
    return Judgement(status, "; ".join(text for _, text in parts), evidence)


def _cpu(obs: Mapping[str, Any], options: Mapping[str, Any]) -> tuple[VerdictStatus, str]:
    limit = float(options.get("host_contention_max_cores", 0.5))
    fail = float(options.get("host_contention_fail_cores", 1.0))
    host, outside = obs["host_busy_cores"], obs.get("outside_cores")
    if outside is None:
        why = obs.get("engine_error") or "the stack's containers were not sampled"
        return "unknown", f"host busy {host:.2f} cores, the stack's share unknown ({why})"
    text = (
        f"host CPU busy outside the stack and the client: {outside:.2f} cores "
        f"(host {host:.2f}, stack {obs['stack_cores']:.2f}, workbench "
        f"{obs['workbench_cores']:.2f} of {obs['cpu_count']} cores)"
    )
    if outside > fail:
        return "fail", f"{text} > {fail:g}: the run shared the host"
    if outside > limit:
        return "unknown", f"{text} > {limit:g}: the host was not idle"
    return "pass", f"{text} ≤ {limit:g}"


def _stacks(obs: Mapping[str, Any], options: Mapping[str, Any]) -> tuple[VerdictStatus, str]:
    others = obs.get("other_projects")
    if others is None:
        return "unknown", "other workbench stacks not observed (no engine samples in the window)"
    if not others:
        return "pass", "no other workbench stack running"
    status = str(options.get("host_contention_other_stacks", "note"))
    if status not in ("note", "fail", "unknown"):
        raise Unobservable(
            f"host_contention_other_stacks must be note, fail or unknown, not {status!r}"
        )
    text = f"other workbench stack(s) up during the window: {', '.join(others)}"
    if status == "note":  # their CPU is in the outside share, judged by the thresholds above
        return "pass", f"{text} (their CPU is counted outside the stack)"
    return status, text  # type: ignore[return-value]


register(
    "host_contention",
    "the host's CPU outside the stack and the client was idle, no other workbench stack ran",
    gather_host,
    judge_contention,
)

"""The post check `reads_found`: reads, updates and scans that found no record (pure judge).

Input: the client's summary (`ctx.client`): successes (`operations`), failures (`errors`) and
`not_found` (the generator's `<OP>_NOTFOUND` rows, by base operation). A store that answers "not
found" without an error makes such operations look fast and cheap, so more than
`max_not_found_fraction` (option, default 0.001 = 0.1%) of any of them is a `fail` naming the
counts. A generator that cannot tell "not found" apart (go-ycsb: it counts a missing key as a
READ_ERROR, which error_rate judges; the option `not_found_reported = false` or the tool's own
fact) makes the check `skipped` with that reason, never a silent pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.checks.base import CheckContext, Judgement, NotApplicable, Unobservable, register

CHECKED = ("READ", "UPDATE", "SCAN")
DEFAULT_MAX_FRACTION = 0.001


def gather_reads(ctx: CheckContext) -> dict[str, Any]:
    c = ctx.client
    if c is None:
        raise Unobservable("no YCSB result to judge (the run phase did not report)")
    return {
        "operations": dict(c.operations),
        "errors": dict(c.errors),
        "not_found": dict(c.not_found),
        "not_found_reported": c.not_found_reported,  # a tool fact (go-ycsb prints no NOTFOUND)
    }


def _breakdown(obs: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for op in CHECKED:
        found = int(obs["operations"].get(op, 0))
        missing = int(obs["not_found"].get(op, 0))
        failed = int(obs["errors"].get(op, 0))
        attempts = found + missing + failed
        if attempts:
            out[op] = {
                "found": found,
                "not_found": missing,
                "errors": failed,
                "fraction": missing / attempts,
            }
    return out


def judge_reads(obs: Mapping[str, Any], options: Mapping[str, Any]) -> Judgement:
    """`fail` when any of READ/UPDATE/SCAN found no record in more than the allowed fraction."""
    if not options.get("not_found_reported", True) or not obs.get("not_found_reported", True):
        raise NotApplicable(  # go-ycsb: a missing key is a READ_ERROR, which error_rate judges
            "the load generator does not report operations that found no record apart "
            "(it counts them as errors, judged by error_rate)"
        )
    per_op = _breakdown(obs)
    if not per_op:
        raise Unobservable("the client reported no reads, updates or scans", dict(obs))
    limit = float(options.get("max_not_found_fraction", DEFAULT_MAX_FRACTION))
    evidence = {"by_operation": per_op, "max_not_found_fraction": limit}
    bad = {op: v for op, v in per_op.items() if v["fraction"] > limit}
    if bad:
        text = "; ".join(
            f"{op}: {int(v['not_found'])} of {int(v['found'] + v['not_found'] + v['errors'])}"
            f" found no record ({v['fraction']:.2%})"
            for op, v in bad.items()
        )
        return Judgement("fail", f"{text}; limit {limit:.2%}", evidence)
    missing = sum(int(v["not_found"]) for v in per_op.values())
    total = sum(int(v["found"] + v["not_found"] + v["errors"]) for v in per_op.values())
    text = f"{missing} of {total} reads/updates/scans found no record (limit {limit:.2%} each)"
    return Judgement("pass", text, evidence)


register(
    "reads_found",
    "reads, updates and scans found their record (`max_not_found_fraction`, default 0.1%)",
    gather_reads,
    judge_reads,
)

"""client_saturation with several generators: each judged on its share, the limit named."""

from __future__ import annotations

from typing import Any

from workbench.checks import CheckContext, run_check
from workbench.model import ClientSummary


def gen(cpu_s: float | None, ops: int = 3000, target: float | None = None) -> ClientSummary:
    return ClientSummary({"READ": ops}, {}, 10.0, None, 4, target, cpu_s, 2.0 if cpu_s else None)


def run(gens: list[ClientSummary], **opts: Any) -> Any:
    merged = ClientSummary({"READ": sum(g.total_ops for g in gens)}, {}, 10.0, None, 12)
    ctx = CheckContext("etcd", {}, options=opts, client=merged, generator_clients=tuple(gens))
    return run_check("client_saturation", ctx, "post")


def test_the_generator_that_was_the_limit_is_named() -> None:
    v = run([gen(4.0), gen(19.5), gen(5.0)])  # generator 1 used 97% of 2 cores
    assert v.status == "fail"
    assert v.summary.startswith("1 of 3 were the limit: generator 1 (client used 98% of 2 cores")
    assert [g["status"] for g in v.evidence["generators"]] == ["pass", "fail", "pass"]


def test_none_was_the_limit_names_the_busiest() -> None:
    v = run([gen(4.0), gen(9.0), gen(5.0)])
    assert v.status == "pass" and "the busiest, generator 1: client used 45%" in v.summary


def test_each_judged_on_its_share_of_the_target() -> None:
    # 3000 ops in 10 s = 300 ops/s each: a share of 300 is reached even at 99% CPU
    v = run([gen(19.8, target=300.0), gen(19.8, target=300.0)])
    assert v.status == "pass"
    v = run([gen(19.8, target=300.0), gen(19.8, ops=1000, target=300.0)])
    assert v.status == "fail" and "generator 1 (" in v.summary and "generator 0" not in v.summary


def test_one_generator_unmeasured_is_unknown_unless_another_was_the_limit() -> None:
    assert run([gen(4.0), gen(None)]).status == "unknown"
    assert run([gen(19.9), gen(None)]).status == "fail"

"""Checks on the measurement itself: error rate, target rate, client saturation (pure judges)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from workbench.checks import CheckContext, run_check
from workbench.model import ClientSummary


def run(name: str, client: ClientSummary | None, **opts: Any) -> Any:
    return run_check(name, CheckContext("etcd", {}, options=opts, client=client), "post")


def summary(**kw: Any) -> ClientSummary:
    base: dict[str, Any] = {
        "operations": {"READ": 9_000, "UPDATE": 1_000},
        "errors": {},
        "run_seconds": 10.0,
    }
    base.update(kw)
    return ClientSummary(**base)


def test_client_summary_from_a_final_block() -> None:
    rows = [
        SimpleNamespace(operation=o, count=c)
        for o, c in [
            ("READ", 500),
            ("READ-INTENDED", 500),
            ("READ_ERROR", 2),
            ("READ_MODIFY_WRITE", 10),
            ("TOTAL", 1000),
            ("UPDATE", 500),
            ("TARGET", None),
        ]
    ]
    s = ClientSummary.from_final_rows(rows, 4.0, threads=8, target_ops=300.0)
    assert s.operations == {"READ": 500, "READ_MODIFY_WRITE": 10, "UPDATE": 500}
    assert s.errors == {"READ": 2}
    assert (s.total_ops, s.total_errors, s.achieved_ops) == (1000, 2, 250.0)
    no_total = ClientSummary.from_final_rows(rows[:4] + rows[5:], 4.0)
    assert no_total.total_ops == 1000  # RMW is not counted twice


def test_error_rate() -> None:
    assert run("error_rate", summary()).status == "pass"
    v = run("error_rate", summary(errors={"UPDATE": 5}))
    assert v.status == "fail" and "(5/10005)" in v.summary
    assert run("error_rate", summary(errors={"UPDATE": 5}), max_error_rate=0.001).status == "pass"
    assert run("error_rate", None).status == "unknown"
    assert run("error_rate", summary(operations={})).status == "unknown"


def test_target_rate() -> None:
    assert run("target_rate", summary(target_ops=1000.0)).status == "pass"
    v = run("target_rate", summary(target_ops=2000.0))
    assert v.status == "fail" and "achieved 1000.0 ops/s of target 2000.0 (50.0%)" in v.summary
    v = run("target_rate", summary())
    assert v.status == "skipped" and "no target" in v.summary
    assert run("target_rate", summary(target_ops=1000.0, run_seconds=None)).status == "unknown"
    assert run("target_rate", None).status == "unknown"


@pytest.mark.parametrize(
    ("kw", "status", "needle"),
    [
        ({"cpu_seconds": 19.0, "cpu_cores": 2.0}, "fail", "generator was the limit"),
        ({"cpu_seconds": 5.0, "cpu_cores": 2.0}, "pass", "was not the limit"),
        ({"cpu_seconds": 19.0, "cpu_cores": 2.0, "target_ops": 1000.0}, "pass", "target reached"),
        ({"cpu_seconds": 19.0, "cpu_cores": 2.0, "target_ops": 5000.0}, "fail", "95%"),
        ({}, "unknown", "not measured"),
        ({"cpu_seconds": 3.0}, "unknown", "not measured"),
    ],
)
def test_client_saturation(kw: dict[str, Any], status: str, needle: str) -> None:
    v = run("client_saturation", summary(**kw))
    assert v.status == status and needle in v.summary, v.summary


def test_client_saturation_threshold_is_an_option() -> None:
    s = summary(cpu_seconds=12.0, cpu_cores=2.0)  # 60%
    assert run("client_saturation", s).status == "pass"
    assert run("client_saturation", s, client_cpu_max=0.5).status == "fail"


def test_counts_weighted_by_server_messages_per_operation() -> None:
    from workbench.checks.measurement import judge_counts

    client = summary(errors={"UPDATE": 10}).to_dict()  # READ 9000, UPDATE 1000 (+10 failed)
    server = {
        "before": 100.0,
        "after": 100.0 + 9_000 + 2 * 1_010,
        "start": 0.0,
        "end": 10.0,
        "settle_s": 2.0,
    }
    obs = {"client": client, "server": server}
    weighted = judge_counts(obs, {"server_msgs_per_op": {"READ": 1, "UPDATE": 2}})
    assert weighted.status == "pass", weighted.summary
    assert weighted.evidence["client_ops"] == 11_020
    plain = judge_counts(obs, {})
    assert plain.status == "fail" and "client 10010 vs server 11020 ops" in plain.summary

"""Verdict dependencies (issue 11 item 6): a check that needs another's `pass` runs after it and
says `unknown` with the reason when it did not pass, without judging."""

from __future__ import annotations

import threading
from typing import Any

import pandas as pd
import pytest

from workbench.checks import REGISTRY, CheckContext, Judgement, register, run_checks
from workbench.checks.base import waves
from workbench.errors import ConfigError
from workbench.model import ClientSummary, VerdictStatus

T0, T1 = 1_700_000_000.0, 1_700_000_020.0  # a 20 s run window
MEMBERS = ("etcd0:2379", "etcd1:2379", "etcd2:2379")


class FollowerKilledPrometheus:
    """Prometheus as it answers after etcd2 (a follower) was killed 4 s into a 20 s run: its `up`
    has 4 successful scrapes of 20, and its request counter is gone from the `sum()` at the end
    (the live members' counters grew by 1405 each, the client did 2000 operations)."""

    base_url = "http://127.0.0.1:9090"

    def targets(self, state: str = "active") -> list[dict[str, Any]]:
        return [
            {
                "labels": {"job": "etcd", "instance": m},
                "scrapeInterval": "1s",
                "health": "up" if m != MEMBERS[2] else "down",
                "lastScrape": "2023-11-14T22:13:45Z",
            }
            for m in MEMBERS
        ]

    def query(self, promql: str, at: float | None = None) -> pd.DataFrame:
        if promql.startswith("sum_over_time(up"):
            rows = [("etcd", m, 20.0 if m != MEMBERS[2] else 4.0) for m in MEMBERS]
        elif at is not None and at <= T0:
            rows = [("etcd", m, 1000.0) for m in MEMBERS]
        else:
            rows = [("etcd", m, 2405.0) for m in MEMBERS[:2]]
        return pd.DataFrame(rows, columns=["job", "instance", "value"])

    def samples(self, selector: str, start: float, end: float) -> pd.DataFrame:
        """`up` at each 1 s scrape: etcd2's scrapes fail from 4 s on."""
        assert selector.startswith("up")
        rows = [
            (T0 + 0.5 + k, m, 0.0 if m == MEMBERS[2] and k >= 4 else 1.0)
            for m in MEMBERS
            for k in range(20)
        ]
        df = pd.DataFrame(rows, columns=["t", "instance", "value"])
        return pd.DataFrame(
            {
                "timestamp": pd.to_datetime(df["t"], unit="s", utc=True),
                "value": df["value"],
                "instance": df["instance"],
                "job": "etcd",
            }
        )


def killed_follower_ctx() -> CheckContext:
    return CheckContext(
        subject="etcd",
        endpoints={},
        options={"server_ops_query": "sum(etcd_requests_total)", "settle_s": 0},
        expected_targets={"etcd": 3},
        prometheus=FollowerKilledPrometheus(),
        client=ClientSummary(operations={"READ": 1000, "UPDATE": 1000}, errors={}, run_seconds=20),
        window=(T0, T1),
        clock=lambda: T1 + 60,
        sleep=lambda s: None,
    )


def test_counts_agree_is_unknown_when_coverage_is_not_pass() -> None:
    ctx = killed_follower_ctx()
    # the shape of issue 11: alone, counts_agree reads the dead member's vanished counter as -9.5%
    (alone,) = run_checks(["counts_agree"], ctx, "post")
    assert alone.status == "fail" and "-9.50%" in alone.summary
    coverage, counts = run_checks(["scrape_coverage", "counts_agree"], ctx, "post", parallel=True)
    assert coverage.status == "unknown" and "etcd/etcd2:2379 20%" in coverage.summary
    assert counts.status == "unknown"
    assert counts.summary == f"needs scrape_coverage, which is unknown: {coverage.summary}"
    assert counts.evidence["needs"] == "scrape_coverage"
    assert counts.evidence["needed_status"] == "unknown"


def test_order_asked_is_kept_and_the_needed_check_runs_first() -> None:
    ctx = killed_follower_ctx()
    verdicts = run_checks(["counts_agree", "scrape_coverage"], ctx, "post")
    assert [v.name for v in verdicts] == ["counts_agree", "scrape_coverage"]
    assert verdicts[0].status == "unknown" and verdicts[0].started_at >= verdicts[1].started_at


@pytest.fixture
def temp_checks() -> Any:
    added: list[str] = []

    def add(name: str, status: VerdictStatus, needs: tuple[str, ...] = (), log: Any = None) -> None:
        def gather(ctx: CheckContext) -> str:
            if log is not None:
                log.append((name, threading.current_thread().name))
            return name

        register(
            name, "t", gather, lambda o, opt: Judgement(status, f"{o} said {status}"), needs=needs
        )
        added.append(name)

    yield add
    for n in added:
        REGISTRY.pop(n, None)


def test_a_passing_need_lets_the_check_judge(temp_checks: Any) -> None:
    log: list[tuple[str, str]] = []
    temp_checks("t_base", "pass", log=log)
    temp_checks("t_other", "fail", log=log)
    temp_checks("t_dep", "fail", needs=("t_base",), log=log)
    temp_checks("t_dep_on_fail", "pass", needs=("t_other",), log=log)
    ctx = CheckContext(subject="t", endpoints={})
    got = run_checks(["t_dep", "t_dep_on_fail", "t_base", "t_other"], ctx, "post", parallel=True)
    assert [(v.name, v.status) for v in got] == [
        ("t_dep", "fail"),  # its judge ran: the need passed
        ("t_dep_on_fail", "unknown"),
        ("t_base", "pass"),
        ("t_other", "fail"),
    ]
    assert got[1].summary == "needs t_other, which is fail: t_other said fail"
    ran = [n for n, _ in log]
    assert "t_dep_on_fail" not in ran  # not gathered either
    assert ran.index("t_dep") > max(ran.index("t_base"), ran.index("t_other"))
    assert waves(["t_dep", "t_base", "t_other"]) == [["t_base", "t_other"], ["t_dep"]]


def test_a_need_not_asked_for_is_not_enforced_and_cycles_are_refused(temp_checks: Any) -> None:
    temp_checks("t_alone", "pass", needs=("t_absent_need",))
    ctx = CheckContext(subject="t", endpoints={})
    assert run_checks(["t_alone"], ctx, "post")[0].status == "pass"
    temp_checks("t_a", "pass", needs=("t_b",))
    temp_checks("t_b", "pass", needs=("t_a",))
    with pytest.raises(ConfigError, match="cycle: t_a, t_b"):
        run_checks(["t_a", "t_b"], ctx, "post")

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


def test_background_rate_is_subtracted_over_the_whole_span() -> None:
    """A subject whose servers count requests of their own (healthchecks through the KV API):
    the rate measured over the idle baseline, times window + settle, comes off the delta."""
    from workbench.checks.measurement import judge_counts

    client = summary().to_dict()  # 10,000 ops
    server = {
        "before": 0.0,
        "after": 10_000 + 3.0 * 12,  # 3 background requests/s over the 10 s window + 2 s settle
        "start": 0.0,
        "end": 10.0,
        "settle_s": 2.0,
        "baseline_rate": 3.0,
    }
    j = judge_counts({"client": client, "server": server}, {})
    assert j.status == "pass" and j.evidence["server_ops"] == 10_000
    assert j.evidence["server"]["background_ops"] == 36.0
    without = judge_counts({"client": client, "server": {**server, "baseline_rate": 0.0}}, {})
    assert without.evidence["relative_diff"] == pytest.approx(0.0036)


# -- the settle wait: until Prometheus scraped every target after the window ----------------------


class FakeTargets:
    """Targets whose lastScrape advances with a fake clock, one scrape per `interval`."""

    def __init__(self, offsets: list[float], interval: float = 1.0) -> None:
        self.now = 1_000.0
        self.offsets, self.interval = offsets, interval
        self.calls = 0

    def clock(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.now += s

    def __call__(self) -> list[dict[str, Any]]:
        from datetime import UTC, datetime

        self.calls += 1
        out = []
        for off in self.offsets:
            last = self.now - ((self.now - off) % self.interval)
            ts = datetime.fromtimestamp(last, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"
            out.append({"lastScrape": ts, "health": "up"})
        return out


def test_wait_for_scrape_ends_when_every_target_was_scraped_after() -> None:
    from workbench.prometheus import wait_for_scrape

    t = FakeTargets([0.1, 0.5, 0.9])  # phases within a 1 s interval
    after = t.now + 0.05
    seen = wait_for_scrape(t, after, clock=t.clock, sleep=t.sleep, poll=0.1)
    assert seen is not None
    # the slowest target (offset .05 after `after` -> next scrape at ...000.1 + 1) decides
    assert after < seen <= after + 1.0 + 0.1 + 1e-9


def test_wait_for_scrape_times_out_and_reports_unreadable_targets() -> None:
    from workbench.prometheus import wait_for_scrape

    stuck = FakeTargets([0.0], interval=1e9)  # never scraped again
    assert (
        wait_for_scrape(stuck, stuck.now, clock=stuck.clock, sleep=stuck.sleep, timeout=3) is None
    )
    assert stuck.now >= 1_003.0
    never = FakeTargets([])
    assert wait_for_scrape(never, 0.0, clock=never.clock, sleep=never.sleep, timeout=1) is None

    def broken() -> list[dict[str, Any]]:
        return [{"lastScrape": "yesterday"}]

    assert wait_for_scrape(broken, 0.0, timeout=5) is None  # at once, not after 5 s


def test_parse_rfc3339() -> None:
    from workbench.units import parse_rfc3339

    assert parse_rfc3339("1970-01-01T00:00:01Z") == 1.0
    assert parse_rfc3339("1970-01-01T00:00:01.123456789Z") == pytest.approx(1.123456)
    assert parse_rfc3339("1970-01-01T01:00:01.5+01:00") == pytest.approx(1.5)
    assert parse_rfc3339("0001-01-01T00:00:00Z") < 0  # Prometheus' "never scraped"
    for bad in ("yesterday", "1970-01-01T00:00:01", ""):
        with pytest.raises(ValueError):
            parse_rfc3339(bad)

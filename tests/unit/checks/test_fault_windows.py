"""A synthetic faulted run: etcd1 killed at +10 s and started again at +14 s (3 members, 250 ms
scrapes, 300 ops/s). The member the workbench took down misses its scrapes during its fault and
its counter restarts; scrape_coverage, counts_agree and series_aligned must know that, and still
see a gap outside the fault's span. One error count for ycsb_traffic, error_rate and the rest."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from workbench.artifacts import FaultsDoc, RunDir
from workbench.checks import CheckContext, run_checks
from workbench.faults.outcome import FaultObservation, FaultRecord, RecoveryNumbers, outcomes
from workbench.faults.recovery import Recovery
from workbench.faults.spans import FaultSpan, count_errors, owners
from workbench.model import ClientSummary
from workbench.report.faults import METRICS, fault_summary
from workbench.run.faulting import put_error_count

T0 = 1_000.0  # the window's start (unix s)
RUN_S = 30
KILL, BACK = T0 + 10.0, T0 + 14.0  # applied, undo returned
RESTARTED = T0 + 16.0  # the member answers again (inside the 5 s grace)
EVERY = 0.25
MEMBERS = ("etcd0", "etcd1", "etcd2")
IN_FLIGHT_ERRORS = 4  # the client's operations in flight on etcd1 when it died
SELECTOR = 'grpc_server_handled_total{job="etcd"}'


def rate(member: str, t: float) -> float:
    """Operations per second each member handles: etcd1's share moves to the others."""
    if not T0 <= t < T0 + RUN_S:
        return 0.0
    down = KILL <= t < RESTARTED
    if member == "etcd1":
        return 0.0 if down else 100.0
    return 150.0 if down else 100.0


def handled(member: str, t: float) -> float:
    """The member's true count of handled requests up to t (its rate is piecewise constant)."""
    total = 5_000.0
    for a, b in ((T0, KILL), (KILL, RESTARTED), (RESTARTED, T0 + RUN_S)):
        if min(b, t) > a:
            total += rate(member, a) * (min(b, t) - a)
    return total


def scrape_times() -> np.ndarray:
    return np.arange(T0 - 10 + 0.1, T0 + RUN_S + 6, EVERY)


def counter_value(member: str, t: float) -> float:
    if member != "etcd1" or t < KILL:
        return handled(member, t)
    return handled(member, t) - handled(member, KILL)  # a new process counts from 0


def scraped(member: str, t: float, gap: tuple[float, float] | None) -> bool:
    if member == "etcd1" and KILL <= t < RESTARTED:
        return False
    return not (gap is not None and member == "etcd2" and gap[0] <= t < gap[1])


def frame(rows: list[tuple[str, float, float]], **labels: str) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["member", "t", "value"])
    out = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(df["t"], unit="s", utc=True),
            "value": df["value"].astype(float),
            "instance": (df["member"] + ":2379").astype("category"),
            "job": pd.Categorical(["etcd"] * len(df)),
        }
    )
    for k, v in labels.items():
        out[k] = pd.Categorical([v] * len(df))
    return out


class FakePrometheus:
    """Targets, `up` and the op counter of the synthetic run; instant queries as Prometheus
    would answer them from the same samples (the checks before fault windows used those)."""

    base_url = "http://prometheus.test"

    def __init__(self, gap: tuple[float, float] | None = None) -> None:
        ts = scrape_times()
        self.up = frame([(m, t, 1.0 if scraped(m, t, gap) else 0.0) for m in MEMBERS for t in ts])
        self.ops = frame(
            [(m, t, counter_value(m, t)) for m in MEMBERS for t in ts if scraped(m, t, gap)],
            grpc_method="Range",
        )

    def targets(self, state: str = "active") -> list[dict[str, Any]]:
        return [
            {
                "labels": {"job": "etcd", "instance": f"{m}:2379"},
                "scrapeInterval": "250ms",
                "health": "up",
                "lastScrape": "2026-12-03T10:00:00Z",
            }
            for m in MEMBERS
        ]

    def samples(self, selector: str, start: float, end: float) -> pd.DataFrame:
        src = self.up if selector.startswith("up") else self.ops
        t = (src["timestamp"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
        return src[(t >= start) & (t <= end)].reset_index(drop=True)

    def query(self, promql: str, at: float | None = None) -> pd.DataFrame:
        assert at is not None
        if promql.startswith("sum_over_time(up"):
            ms = float(promql.rsplit("[", 1)[1].split("ms")[0])
            got = self.samples("up", at - ms / 1000.0, at)
            sums = got.groupby(["job", "instance"], observed=True)["value"].sum().reset_index()
            return sums.astype({"job": str, "instance": str})
        got = self.samples("ops", at - 1.0, at)
        last = got.sort_values("timestamp").groupby("instance", observed=True).tail(1)
        return pd.DataFrame({"value": [float(last["value"].sum())]})


def client_intervals() -> pd.DataFrame:
    rows = []
    for k in range(RUN_S):
        a, b = T0 + k, T0 + k + 1
        n = sum(handled(m, b) - handled(m, a) for m in MEMBERS)
        rows.append({"start": a, "end": b, "operation": "READ", "count": round(n)})
        if a <= KILL < b:
            rows.append({"start": a, "end": b, "operation": "READ_ERROR", "count": 4})
    return pd.DataFrame(rows)


def fault_record(**kw: Any) -> dict[str, Any]:
    return {
        "index": 0,
        "spec": {
            "action": "kill",
            "target": "leader",
            "start_s": 10.0,
            "duration_s": 4.0,
            "text": "kill:leader@10+4",
        },
        "label": "kill:leader",
        "scheduled_start": KILL,
        "scheduled_end": BACK,
        "service": "etcd1",
        "container": "wb-etcd-x-etcd1-1",
        "start": KILL - 0.05,
        "applied": KILL,
        "end": BACK,
        "took_effect": True,
        "undone": True,
        **kw,
    }


def context(prom: FakePrometheus, faults: list[dict[str, Any]] | None, **opts: Any) -> CheckContext:
    ops = sum(handled(m, T0 + RUN_S) - handled(m, T0) for m in MEMBERS)
    client = ClientSummary(
        operations={"READ": round(ops)},
        errors={"READ": IN_FLIGHT_ERRORS},
        run_seconds=float(RUN_S),
        threads=4,
    )
    return CheckContext(
        subject="etcd",
        endpoints={},
        options={
            "server_ops_query": f"sum({SELECTOR})",
            "aligned_ops_counter": SELECTOR,
            "settle_s": 0.5,
            "counts_tolerance": 0.001,
            "max_error_rate": 0.0,
            **opts,
        },
        expected_targets={"etcd": 3},
        prometheus=prom,
        client=client,
        window=(T0, T0 + RUN_S),
        traffic_ended=T0 + RUN_S,
        client_intervals=client_intervals(),
        faults=None if faults is None else observation(faults, client_intervals())[0],
        clock=lambda: T0 + 100,
        sleep=lambda s: None,
    )


def observation(
    faults: list[dict[str, Any]], intervals: pd.DataFrame
) -> tuple[FaultObservation, list[Any]]:
    """The faults as the run hands them to the post checks: each with its recovery, on which
    the run put the one error count when it finished (put_error_count)."""
    records = [FaultRecord.model_validate(f) for f in faults]
    recs = [Recovery(r.label, 0.0, 1.0) for r in records]
    put_error_count(records, recs, intervals)
    done = outcomes(records, [RecoveryNumbers.model_validate(r.to_dict()) for r in recs])
    return FaultObservation(tuple(done)), done


CHECKS = ["scrape_coverage", "counts_agree", "series_aligned", "ycsb_traffic", "error_rate"]


def verdicts(ctx: CheckContext) -> dict[str, Any]:
    return {v.name: v for v in run_checks(CHECKS, ctx, "post")}


def test_a_killed_member_inside_its_fault_window_is_expected_not_a_gap() -> None:
    got = verdicts(context(FakePrometheus(), [fault_record()]))
    cov = got["scrape_coverage"]
    assert cov.status == "pass", cov.summary
    assert "etcd1:2379" in cov.summary and "during kill:leader" in cov.summary
    missed = cov.evidence["expected_misses"]["etcd/etcd1:2379"]
    assert missed["missed"] == missed["slots"] - 0 or missed["missed"] >= 20  # 6 s of 250 ms
    assert cov.evidence["coverage"]["etcd/etcd1:2379"] == 1.0  # every scrape outside the span


def test_counts_agree_corrects_the_restarted_members_counter_and_says_so() -> None:
    got = verdicts(context(FakePrometheus(), [fault_record()]))
    counts = got["counts_agree"]
    assert counts.status == "pass", counts.summary
    (reset,) = counts.evidence["counter_resets"]
    assert reset["instance"] == "etcd1:2379"
    # etcd1 counted 100 ops/s from its last scrape (at +9.85 s) to the kill: ~15 ops lost
    assert reset["lost_estimate"] == pytest.approx(100 * (KILL - reset["last_scrape_before"]))
    assert "etcd1:2379 restarted: its counter reset corrected (1 series)" in counts.summary
    assert counts.evidence["in_flight_allowance"] == 4  # one per client thread
    aligned = got["series_aligned"]
    assert aligned.status == "pass", aligned.summary
    assert aligned.evidence["in_fault_windows"] >= 10


def test_a_gap_outside_the_fault_windows_is_still_a_gap() -> None:
    got = verdicts(context(FakePrometheus(gap=(T0 + 20, T0 + 24)), [fault_record()]))
    cov = got["scrape_coverage"]
    assert cov.status == "unknown" and "etcd/etcd2:2379" in cov.summary, cov.summary
    assert got["counts_agree"].status == "unknown"  # needs scrape_coverage


def test_the_same_misses_without_a_fault_record_are_a_gap() -> None:
    cov = verdicts(context(FakePrometheus(), None))["scrape_coverage"]
    assert cov.status == "unknown" and "etcd/etcd1:2379" in cov.summary


def test_a_server_short_of_what_the_restart_explains_fails() -> None:
    ctx = context(FakePrometheus(), [fault_record()])
    assert ctx.client is not None
    ctx.client = dataclasses.replace(ctx.client, operations={"READ": 9_300})  # 300 too many
    counts = verdicts(ctx)["counts_agree"]
    assert counts.status == "fail", counts.summary


def test_one_error_count_in_traffic_and_error_rate() -> None:
    got = verdicts(context(FakePrometheus(), [fault_record()]))
    assert "4 errors: 4 during 1 fault(s)" in got["ycsb_traffic"].summary
    assert "0 outside" in got["ycsb_traffic"].summary
    rate = got["error_rate"]
    assert rate.status == "pass" and "(0/" in rate.summary, rate.summary
    assert rate.evidence["error_count"]["during_by_fault"] == {"kill:leader": 4.0}


def test_an_interval_belongs_to_one_fault_only_and_the_grace_counts() -> None:
    a = FaultSpan(0, "a", "etcd1", None, 10.0, 12.0, grace_s=5.0)
    b = FaultSpan(1, "b", "etcd2", None, 15.0, 16.0, grace_s=5.0)
    assert owners(
        [9.0, 11.0, 16.5, 16.9, 20.5, 21.0], [10.0, 12.0, 17.5, 17.9, 21.5, 22.0], [b, a]
    ) == [
        -1,
        0,
        0,
        0,
        1,
        -1,
    ]
    iv = pd.DataFrame(
        {
            "start": [11.0, 16.5, 20.0, 30.0, 11.0],
            "end": [12.0, 17.5, 21.0, 31.0, 12.0],
            "operation": ["READ_ERROR", "UPDATE_ERROR", "READ_ERROR", "READ_ERROR", "TOTAL"],
            "count": [2, 3, 5, 7, 100],
        }
    )
    n = count_errors(iv, [a, b], total=17)
    assert n.during == {0: 5.0, 1: 5.0} and n.outside == 7.0 and n.attributed
    assert not count_errors(None, [a], total=3).attributed


def test_the_faults_table_and_every_check_count_the_same_errors(tmp_path: Path) -> None:
    """One error count: the faults table (faults.json as the run writes it), ycsb_traffic,
    error_rate and fault_errors agree on errors during each fault and outside them. A second
    fault (pause etcd2) adds errors in its grace; errors after that grace are the run's own."""
    pause = fault_record(
        index=1,
        label="pause:etcd2",
        service="etcd2",
        container="wb-etcd-x-etcd2-1",
        spec={
            "action": "pause",
            "target": "etcd2",
            "start_s": 22.0,
            "duration_s": 1.0,
            "text": "pause:etcd2@22+1",
        },
        scheduled_start=T0 + 22,
        scheduled_end=T0 + 23,
        start=T0 + 22,
        applied=T0 + 22.02,
        end=T0 + 23.0,
    )
    records = [fault_record(), pause]
    iv = client_intervals()
    extra = [(T0 + 26, 3), (T0 + 29, 2)]  # +26 s: in the pause's grace (23 + 5); +29 s: outside
    iv = pd.concat(
        [
            iv,
            pd.DataFrame(
                [
                    {"start": a, "end": a + 1, "operation": "UPDATE_ERROR", "count": n}
                    for a, n in extra
                ]
            ),
        ],
        ignore_index=True,
    )
    ctx = context(FakePrometheus(), records, max_errors_per_fault=100)
    ctx.client_intervals = iv
    ctx.faults, done = observation(records, iv)
    assert ctx.client is not None
    ctx.client = dataclasses.replace(ctx.client, errors={"READ": 4, "UPDATE": 5})
    # the table: faults.json as RunFaults.finish writes it (the count put on each recovery)
    rd = RunDir.create(tmp_path, "r1", "etcd", {})
    rd.save_faults(FaultsDoc(run_t0=T0, faults=done, error_grace_s=5.0))
    table = fault_summary(rd)
    assert table is not None
    per_fault = [row.metrics["errors_during"] for row in table.rows]
    assert per_fault == [4.0, 3.0] and "errors_after" not in table.metrics
    # the checks
    got = {v.name: v for v in run_checks([*CHECKS, "fault_errors"], ctx, "post")}
    assert "9 errors: 7 during 2 fault(s)" in got["ycsb_traffic"].summary
    assert "2 outside" in got["ycsb_traffic"].summary
    rate = got["error_rate"]
    assert rate.status == "fail" and "(2/" in rate.summary  # the 2 after the grace
    errs = got["fault_errors"]
    assert [f["errors"] for f in errs.evidence["faults"]] == per_fault
    assert sum(per_fault) + rate.evidence["errors_outside_faults"] == 9


def test_an_older_faults_json_keeps_its_own_two_error_columns_as_labelled() -> None:
    """Written before the one count (no error_grace_s): errors during / after, as that run
    counted them; a new file has one column saying what it counts."""
    old = Path(__file__).parents[1] / "data" / "20261201T100000.000Z-etcd-a-faults1"
    table = fault_summary(RunDir(old))
    assert table is not None
    assert table.metrics["errors_during"][0] == "errors during"
    assert table.metrics["errors_after"][0] == "errors after"
    assert "errors_after" not in METRICS and METRICS["errors_during"][0] == (
        "errors (applied..undo + 5 s)"
    )

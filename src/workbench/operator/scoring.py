"""The operator's scores, purely: from the faults, what the operator said and did, the cluster's
membership and the client's series to one FaultScore per applied fault, the integrity, the
false alarms (every time: the run phase's clock, seconds from `t0`).

Per fault, from its ONSET (the injector's `start`), watched until the next fault's onset or the
end of the run (its HORIZON):
- detect_s: the first `detect` event at or after the onset (named_target: its target is the
  faulted service or container); first_action_s: the first container event attributed to the
  operator; first_act_s: the first `act` event; resolved_claim_s: the first `resolved` event
  (said, never taken for recovery);
- recovery_s: from the onset to the start of the first stretch of at least `hold_s` in which the
  service is WHOLE: every member of the latest membership round healthy and in the cluster, as
  many healthy voting members as at the run's start, through the whole stretch; and the
  clients, over the stretch, at >= 90 % of the pre-fault throughput with the stretch's median
  per-interval p99 <= 2x the pre-fault level (workbench.faults.recovery's levels: the median
  per-interval p99 of the pre-fault window, so like is compared with like; one interval's p99
  is a handful of operations and swings 4x on an undisturbed run, so it neither makes nor breaks
  a recovery alone). An interval with no success breaks it. Time no membership round or client
  interval covers is not whole (it cannot be seen whole). No such stretch before the horizon: CENSORED (not recovered, counted);
- what the clients paid from the onset to the recovery (the horizon when censored):
  unavailability (the probe's endpoint outage when its samples are there, else the longest run of
  client intervals with no success), failed operations, operations below the pre-fault rate,
  p99 excess (ms*s above the pre-fault p99);
- integrity: voting members in the cluster in the first and the last membership round, and the
  read-back count (loaded vs found);
- false alarms: `detect` events outside every fault's window (onset to recovery, or the horizon,
  or a non-persistent fault's end when later, plus `grace_s`); actions without a fault: operator
  container events outside every window.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from itertools import groupby

import pandas as pd

from workbench.faults.availability import CLUSTER, attempts, outages
from workbench.faults.injector import windows
from workbench.faults.outcome import FaultRecord
from workbench.faults.recovery import P99_FACTOR, THROUGHPUT_BAND, aggregate, recoveries
from workbench.operator.contract import ContainerEvent, MembershipSample, OperatorEvent
from workbench.operator.scores import (
    GRACE_S,
    HOLD_S,
    FaultScore,
    Integrity,
    OperatorScores,
)

MAX_ROUND_GAP_S = 3.0  # a membership round speaks for at most this long
Span = tuple[float, float]


@dataclass(frozen=True)
class OperatorInputs:
    """Everything scoring reads. Unix seconds: records, events, container events, membership;
    the run phase's clock (seconds from t0): `series` (workbench.faults.recovery's client rows),
    `probe` (workbench.faults.availability's samples), `run_end_s`."""

    records: Sequence[FaultRecord]
    t0: float
    run_end_s: float
    events: Sequence[OperatorEvent] = ()
    container_events: Sequence[ContainerEvent] = ()
    membership: Sequence[MembershipSample] = ()
    series: pd.DataFrame | None = None
    probe: pd.DataFrame | None = None
    readback: tuple[int, int] | None = None  # (keys loaded, keys found)
    target_ops: float | None = None
    persistent: Collection[int] = field(default_factory=tuple)  # fault indexes


# --- spans ------------------------------------------------------------------------------------


def _merge(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1] + 1e-6:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        elif b > a:
            out.append((a, b))
    return out


def _rounds(samples: Sequence[MembershipSample], t0: float) -> list[tuple[float, list]]:
    ordered = sorted(samples, key=lambda s: s.t)
    return [(t - t0, list(g)) for t, g in groupby(ordered, key=lambda s: s.t)]


def _voting(round_: list[MembershipSample]) -> int:
    return sum(1 for s in round_ if s.voting and s.in_cluster)


def _healthy_voting(round_: list[MembershipSample]) -> int:
    return sum(1 for s in round_ if s.voting and s.in_cluster and s.healthy)


def membership_whole(samples: Sequence[MembershipSample], t0: float) -> list[Span]:
    """Where the membership was whole (run clock): each round speaks until the next one (at most
    MAX_ROUND_GAP_S)."""
    rounds = _rounds(samples, t0)
    if not rounds:
        return []
    need = _healthy_voting(rounds[0][1])
    out = []
    for i, (t, members) in enumerate(rounds):
        nxt = rounds[i + 1][0] if i + 1 < len(rounds) else t + MAX_ROUND_GAP_S
        whole = all(s.healthy and s.in_cluster for s in members)
        if whole and _healthy_voting(members) >= need:
            out.append((t, min(nxt, t + MAX_ROUND_GAP_S)))
    return _merge(out)


def _covers(spans: list[Span], a: float, b: float) -> bool:
    return any(x <= a + 1e-6 and y >= b - 1e-6 for x, y in spans)


def first_recovered(
    agg: pd.DataFrame,
    mgood: list[Span],
    start: float,
    until: float,
    hold: float,
    pre_thr: float,
    pre_p99: float | None,
) -> float | None:
    """The first time in [start, until - hold] from which, for `hold` seconds, the membership
    was whole throughout and the clients were back: the stretch's throughput >= THROUGHPUT_BAND
    of `pre_thr`, its median per-interval p99 <= P99_FACTOR x `pre_p99`, no interval without a
    success. Stretches start at the onset or at a client interval's start; the intervals inside
    must cover the stretch but for one interval's length (its edges)."""
    rows = agg[(agg["t_s"] - agg["dt"] >= start - 1e-6) & (agg["t_s"] <= until + 1e-6)]
    if rows.empty:
        return None
    step = float(rows["dt"].max())
    for a in sorted({start, *(float(x) for x in rows["t_s"] - rows["dt"])}):
        b = a + hold
        if b > until + 1e-6:
            return None
        if not _covers(mgood, a, b):
            continue
        w = rows[(rows["t_s"] - rows["dt"] >= a - 1e-6) & (rows["t_s"] <= b + 1e-6)]
        seen = float(w["dt"].sum())
        if seen < hold - step - 1e-6:
            continue  # not seen whole
        if float((w["throughput"] * w["dt"]).sum()) / seen < THROUGHPUT_BAND * pre_thr:
            continue
        if (w["throughput"] <= 0).any():
            continue
        if pre_p99 is not None and pre_p99 > 0:
            p99 = w["p99_ms"].dropna()
            if p99.empty or float(p99.median()) > P99_FACTOR * pre_p99:
                continue
        return a
    return None


# --- per fault --------------------------------------------------------------------------------


def _names(r: FaultRecord) -> set[str]:
    return {n for n in (r.service, r.container, r.spec.target) if n}


def _first(times: list[float], start: float, until: float) -> float | None:
    got = [t for t in times if start <= t < until]
    return min(got) - start if got else None


def _paid(s: FaultScore, agg: pd.DataFrame | None, probe: pd.DataFrame | None, end: float) -> None:
    a = s.onset_s
    if probe is not None and len(probe):
        window = probe[(probe["t_s"] >= a) & (probe["t_s"] < end)]
        att = attempts(window, CLUSTER)
        if len(att):
            spans = outages(att, end)
            s.unavailability_s = max((b - x for x, b, _ in spans), default=0.0)
            s.unavailability_from = "probe"
    if agg is None or agg.empty:
        s.reasons.setdefault("failed_ops", "no client intervals")
        return
    obs = agg[(agg["t_s"] > a) & (agg["t_s"] - agg["dt"] < end)]
    if s.unavailability_s is None and len(obs):
        run = best = 0.0
        for thr, dt in zip(obs["throughput"], obs["dt"], strict=True):
            run = run + dt if thr <= 0 else 0.0
            best = max(best, run)
        s.unavailability_s, s.unavailability_from = float(best), "client intervals"
    s.failed_ops = float(obs["errors"].sum())
    if s.pre_throughput is not None:
        short = (s.pre_throughput - obs["throughput"]).clip(lower=0) * obs["dt"]
        s.ops_below_pre = float(short.sum())
    if s.pre_p99_ms is not None:
        excess = (obs["p99_ms"] - s.pre_p99_ms).clip(lower=0).fillna(0.0) * obs["dt"]
        s.p99_excess_ms_s = float(excess.sum())
    else:
        s.reasons["p99_excess_ms_s"] = "no pre-fault p99"


def score(
    inp: OperatorInputs, *, hold_s: float = HOLD_S, grace_s: float = GRACE_S
) -> OperatorScores:
    """The scores of a run (see the module docstring)."""
    applied = sorted((r for r in inp.records if r.applied is not None), key=lambda r: r.start or 0)
    agg = aggregate(inp.series) if inp.series is not None and len(inp.series) else None
    wins = windows(applied, inp.t0)
    levels = (
        recoveries(inp.series, wins, target_ops=inp.target_ops)
        if inp.series is not None and len(inp.series) and wins
        else []
    )
    mgood = membership_whole(inp.membership, inp.t0)
    ev = lambda kind: [e.ts - inp.t0 for e in inp.events if e.kind == kind]  # noqa: E731
    detects = sorted((e for e in inp.events if e.kind == "detect"), key=lambda e: e.ts)
    op_actions = sorted(
        (c for c in inp.container_events if c.attributed == "operator"), key=lambda c: c.t
    )
    out = OperatorScores(hold_s=hold_s, grace_s=grace_s)
    fault_windows: list[Span] = []
    for i, r in enumerate(applied):
        onset = (r.start or 0.0) - inp.t0
        horizon = (applied[i + 1].start or 0.0) - inp.t0 if i + 1 < len(applied) else inp.run_end_s
        horizon = min(horizon, inp.run_end_s)
        s = FaultScore(
            index=r.index,
            label=r.label,
            target=r.service,
            onset_s=onset,
            persistent=r.index in inp.persistent,
        )
        names = _names(r)
        d = next((e for e in detects if onset <= e.ts - inp.t0 < horizon), None)
        if d is not None:
            s.detect_s = d.ts - inp.t0 - onset
            s.detect_named_target = d.target in names if d.target else False
        else:
            s.reasons["detect_s"] = "no detect event after the onset"
        act = next((c for c in op_actions if onset <= c.t - inp.t0 < horizon), None)
        if act is not None:
            s.first_action_s = act.t - inp.t0 - onset
            s.first_action = f"{act.action} {act.service or act.container or act.id[:12]}"
        s.first_act_s = _first(ev("act"), onset, horizon)
        s.resolved_claim_s = _first(ev("resolved"), onset, horizon)
        _recover(s, i, levels, agg, mgood, inp, onset, horizon, hold_s)
        end = onset + s.recovery_s if s.recovery_s is not None else horizon
        _paid(s, agg, inp.probe, end)
        out.faults.append(s)
        until = end
        if not s.persistent and r.end is not None:
            until = max(until, r.end - inp.t0)
        fault_windows.append((onset, until + grace_s))
    left_down = {f.target for f in out.faults if f.persistent and not f.recovered and f.target}
    out.integrity = integrity(inp.membership, inp.readback, excused=left_down)
    inside = lambda t: any(a <= t <= b for a, b in fault_windows)  # noqa: E731
    out.false_alarms = [e for e in detects if not inside(e.ts - inp.t0)]
    out.actions_without_fault = [
        c for c in op_actions if 0 <= c.t - inp.t0 <= inp.run_end_s and not inside(c.t - inp.t0)
    ]
    return out


def _recover(
    s: FaultScore,
    i: int,
    levels: list,
    agg: pd.DataFrame | None,
    mgood: list[Span],
    inp: OperatorInputs,
    onset: float,
    horizon: float,
    hold_s: float,
) -> None:
    if not inp.membership:
        s.reasons["recovery_s"] = "cannot tell: no membership samples"
        return
    if agg is None or agg.empty or i >= len(levels):
        s.reasons["recovery_s"] = "cannot tell: no client intervals"
        return
    lv = levels[i]
    s.pre_throughput, s.pre_p99_ms = lv.pre_throughput, lv.pre_p99_ms
    if s.pre_throughput is None or s.pre_throughput <= 0:
        why = lv.reasons.get("throughput_recovery_s", "no pre-fault throughput")
        s.reasons["recovery_s"] = f"cannot tell: {why}"
        return
    if s.pre_p99_ms is None:
        s.reasons["p99"] = "no pre-fault p99: recovery judged without the latency band"
    at = first_recovered(agg, mgood, onset, horizon, hold_s, s.pre_throughput, s.pre_p99_ms)
    if at is None:
        s.censored, s.censored_at_s = True, max(0.0, horizon - onset)
        s.reasons["recovery_s"] = (
            f"not recovered: never whole for {hold_s:g} s within {s.censored_at_s:.1f} s"
        )
        return
    s.recovered, s.recovery_s = True, at - onset


def integrity(
    membership: Sequence[MembershipSample],
    readback: tuple[int, int] | None,
    *,
    excused: Collection[str] = (),
) -> Integrity:
    """Voting members at the start and the end, and each of them up at the end (but the
    `excused`: a persistent fault's target nobody brought back, which is recovery's failure,
    not damage); loaded keys still readable."""
    out = Integrity()
    rounds = _rounds(membership, 0.0)
    members_ok: bool | None = None
    if rounds:
        first, last = rounds[0][1], rounds[-1][1]
        out.voting_start, out.voting_end = _voting(first), _voting(last)
        out.members_start = sorted(s.member for s in first if s.voting and s.in_cluster)
        out.members_end = sorted(s.member for s in last if s.voting and s.in_cluster)
        was_up = {s.member for s in first if s.healthy}
        down = sorted(
            s.member
            for s in last
            if s.voting and s.in_cluster and not s.healthy
            and s.member in was_up and s.member not in excused
        )  # fmt: skip
        out.down_end = down
        if out.voting_end != out.voting_start:
            out.reasons.append(
                f"{out.voting_end} voting member(s) at the end, {out.voting_start} at the start"
            )
        if down:
            out.reasons.append(
                f"down at the end, and no fault of the run left it down: {', '.join(down)}"
            )
        members_ok = out.voting_end == out.voting_start and not down
    else:
        out.reasons.append("cannot tell the members: no membership samples")
    if readback is not None:
        out.keys_loaded, out.keys_readable = readback
        if out.keys_readable < out.keys_loaded:
            out.reasons.append(f"{out.keys_loaded - out.keys_readable} loaded key(s) unreadable")
    else:
        out.reasons.append("cannot tell the keys: no read-back")
    keys_ok = None if readback is None else readback[1] >= readback[0]
    if members_ok is False or keys_ok is False:
        out.ok = False
    elif members_ok and keys_ok:
        out.ok = True
    return out

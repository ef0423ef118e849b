"""The search for capacity: widen geometrically until a probe fails, bisect, re-run the bracket.

    start (given, or `start_fraction` of an unthrottled probe, which runs twice: the spread of the
    two is the run-to-run noise) → widen ×`factor` while probes pass (step down ÷`factor` while
    they fail, when the start was already too high) → bisect the bracket [lo, hi] until it is
    narrower than `precision` or than the noise → re-run lo and hi `repeats` times each,
    interleaved (an end that proved a fluke, hi passing or lo failing as often as not: the search
    goes on beyond it, up to MAX_ROUNDS) → the capacity as an interval.

The interval: `high` is the lowest rate where every probe failed, `low` the highest rate below it
where every probe passed; a rate with both verdicts (within the noise of the capacity: it passed
once and failed in a re-run) lies inside, never at an end. A probe `unknown` (contended host, client-bound, too few samples) is run once more;
unknown again, the search ends naming the limit ("client-bound at ~2,300 ops/s").

Pure: the probes are an injected callable `probe(offered, step) -> Probe` (a run on a stack, the
native generator, or a simulated system in the tests); the state is the CapacityDoc it fills in,
and `on_probe(doc)` is called after each probe (the caller saves capacity.json then). Rates are
whole ops/s (the generators' target is an integer).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable

from workbench.capacity.judge import ACHIEVED_MIN
from workbench.capacity.record import CapacityDoc, Interval, Probe, Step

ProbeFn = Callable[[float, Step], Probe]
MIN_RATE = 1.0
MAX_ROUNDS = 3  # bisect + re-runs, again when an end of the bracket proved a fluke


class _Stop(Exception):
    """The search cannot go on: the doc says why."""


class Search:
    def __init__(
        self,
        doc: CapacityDoc,
        probe: ProbeFn,
        on_probe: Callable[[CapacityDoc], None] = lambda d: None,
    ) -> None:
        self.doc, self._probe, self.on_probe = doc, probe, on_probe
        self.s = doc.settings
        self.lo: float | None = None
        self.hi: float | None = None

    # ---- probes --------------------------------------------------------------------------
    def _one(self, offered: float, step: Step) -> Probe:
        if len(self.doc.probes) >= self.s.max_probes:
            self.doc.notes.append(f"stopped at the probe limit ({self.s.max_probes})")
            raise _Stop
        p = self._probe(offered, step).model_copy(update={"index": len(self.doc.probes)})
        self.doc.probes.append(p)
        self.on_probe(self.doc)
        return p

    def trial(self, rate: float, step: Step, *, move: bool = True) -> bool:
        """Pass or fail at `rate`; an unknown is run again, unknown twice stops the search.
        `move`: a pass above `lo` raises it, a fail below `hi` lowers it (not in re-runs)."""
        p = self._one(rate, step)
        if p.verdict == "unknown":
            p = self._one(rate, "repeat")
        if p.verdict == "unknown":
            self.doc.limit = p.limit
            self.doc.limit_text = limit_text(p)
            self.doc.status = "limited"
            raise _Stop
        ok = p.verdict == "pass"
        if move and ok and (self.lo is None or rate > self.lo):
            self.lo = rate
        if move and not ok and (self.hi is None or rate < self.hi):
            self.hi = rate
        self.doc.path.append((self.lo, self.hi))
        self.doc.noise = noise(self.doc.probes)
        return ok

    # ---- phases --------------------------------------------------------------------------
    def start_rate(self) -> float:
        if self.s.start is not None:
            return whole(self.s.start)
        a = self._one(0.0, "unthrottled")
        b = self._one(0.0, "unthrottled")
        top = min(a.achieved, b.achieved)
        if top <= 0:
            self.doc.status = "unknown"
            self.doc.limit_text = "the unthrottled probes did no operation"
            raise _Stop
        self.doc.noise = noise(self.doc.probes)
        return whole(self.s.start_fraction * top)

    def widen(self, rate: float) -> None:
        while self.lo is None or self.hi is None:
            if self.trial(rate, "widen" if self.hi is None else "step-down"):
                rate = whole(rate * self.s.factor)
            elif self.lo is None:
                if rate <= MIN_RATE:
                    self.doc.status = "unknown"
                    self.doc.limit_text = f"no rate passed, down to {MIN_RATE:g} ops/s"
                    raise _Stop
                rate = whole(rate / self.s.factor)

    def width(self) -> float:
        assert self.lo is not None and self.hi is not None
        return (self.hi - self.lo) / self.lo

    def bisect(self) -> None:
        while self.width() > max(self.s.precision, self.doc.noise or 0.0):
            assert self.lo is not None and self.hi is not None
            mid = whole((self.lo + self.hi) / 2)
            if mid in (self.lo, self.hi):
                break  # whole ops/s: nothing between
            self.trial(mid, "bisect")

    def final(self) -> None:
        lo, hi = self.lo, self.hi
        assert lo is not None and hi is not None
        for _ in range(self.s.repeats):
            self.trial(lo, "final", move=False)
            self.trial(hi, "final", move=False)

    def settled(self) -> bool:
        """After the re-runs: the upper end failed more often than it passed and the lower end
        passed more often than it failed. Else that end was a fluke: search beyond it again."""
        assert self.lo is not None and self.hi is not None
        t = tally(self.doc.probes)
        (hi_ok, hi_bad), (lo_ok, lo_bad) = t[self.hi], t[self.lo]
        if hi_bad <= hi_ok:
            self.doc.notes.append(
                f"{self.hi:,.0f} ops/s passed {hi_ok} of {hi_ok + hi_bad} probes: searched above"
            )
            self.lo = self.hi  # the next rate above that always failed, else widen again
            above = [r for r, (ok, _) in t.items() if r > self.lo and ok == 0]
            self.hi = min(above) if above else None
            self.widen(whole(self.lo * self.s.factor))
            return False
        if lo_ok <= lo_bad:
            self.doc.notes.append(
                f"{self.lo:,.0f} ops/s failed {lo_bad} of {lo_ok + lo_bad} probes: searched below"
            )
            self.hi = self.lo  # the next rate below that always passed, else step down again
            below = [r for r, (_, bad) in t.items() if r < self.hi and bad == 0]
            self.lo = max(below) if below else None
            self.widen(whole(self.hi / self.s.factor))
            return False
        return True

    def run(self) -> CapacityDoc:
        """Search; the doc's status, interval or limit say how it ended."""
        self.doc.status = "running"
        try:
            self.widen(self.start_rate())
            for _ in range(MAX_ROUNDS):
                self.bisect()
                self.final()
                if self.settled():
                    break
            else:
                self.doc.notes.append(f"the bracket did not settle in {MAX_ROUNDS} rounds")
        except _Stop:
            pass
        self.doc.capacity = interval(self.doc.probes, self.doc.noise, self.s.noise_z)
        if self.doc.status == "running":
            self.doc.status = "found" if self.doc.capacity is not None else "unknown"
        if self.doc.status == "limited" and self.doc.capacity is not None:
            self.doc.notes.append(
                "the interval is from the probes before the limit; the search did not finish"
            )
        return self.doc


def whole(rate: float) -> float:
    return float(max(MIN_RATE, round(rate)))


def limit_text(p: Probe) -> str:
    """`client-bound at ~2,300 ops/s`: the limit an unknown probe hit, at its achieved rate."""
    names = {"client": "client-bound", "host": "host contended", "samples": "too few samples"}
    head = names.get(p.limit or "", "unknown")
    return f"{head} at ~{p.achieved:,.0f} ops/s"


def noise(probes: list[Probe]) -> float | None:
    """The relative run-to-run spread of what the system can do, from repeated measurements of
    it: the achieved rates of the unthrottled probes, and of the probes it could not keep up
    with (achieved < ACHIEVED_MIN of offered): each group's relative standard deviation, pooled.
    None with fewer than two in every group."""
    groups = (
        [p.achieved for p in probes if p.offered == 0 and p.achieved > 0],
        [p.achieved for p in probes if p.offered > 0 and 0 < p.achieved < ACHIEVED_MIN * p.offered],
    )
    squares, dof = 0.0, 0
    for g in groups:
        if len(g) >= 2:
            mean = statistics.fmean(g)
            squares += sum((x / mean - 1) ** 2 for x in g)
            dof += len(g) - 1
    return math.sqrt(squares / dof) if dof else None


def tally(probes: list[Probe]) -> dict[float, tuple[int, int]]:
    """(passes, fails) by offered rate, over the judged probes at a set rate."""
    out: dict[float, tuple[int, int]] = {}
    for p in probes:
        if p.offered > 0 and p.verdict in ("pass", "fail"):
            ok, bad = out.get(p.offered, (0, 0))
            out[p.offered] = (ok + (p.verdict == "pass"), bad + (p.verdict == "fail"))
    return out


def interval(probes: list[Probe], spread: float | None = None, z: float = 1.5) -> Interval | None:
    """`high`: the lowest rate every judged probe of which failed; `low`: the highest rate below
    it every judged probe of which passed. A rate with both verdicts (within the noise of the
    capacity) lies inside (when every rate passed sometimes, `high` is the lowest that failed at
    least as often as it passed, else the highest that ever failed). With a measured `spread`, the interval is at least the middle ±
    z·spread: a bracket narrower than the noise does not know the capacity better than that
    (never above the highest rate that passed). None without both ends."""
    tally_ = tally(probes)
    failing = [r for r, (ok, bad) in tally_.items() if ok == 0]  # else: mostly, else: ever
    failing = failing or [r for r, (ok, bad) in tally_.items() if bad >= ok]
    failing = failing or [max((r for r, (_, bad) in tally_.items() if bad), default=math.nan)]
    if math.isnan(high := min(failing)):
        return None
    sustained = [r for r, (ok, bad) in tally_.items() if r < high and bad == 0]
    if not sustained:
        return None
    low = max(sustained)
    if spread:
        middle = (low + high) / 2
        low, high = min(low, middle * (1 - z * spread)), max(high, middle * (1 + z * spread))
    return Interval(low=round(low, 1), high=round(high, 1))

"""The search on simulated systems of known capacity: it brackets the truth, its interval covers
the truth in >= 90% of seeded trials with noise, it never reports above a hard ceiling, and it
ends naming the limit when probes stay unknown."""

from __future__ import annotations

import random

import pytest

from workbench.capacity import CapacityDoc, Objective, Probe, Search, Settings
from workbench.capacity.record import Step
from workbench.capacity.search import interval

OBJ = Objective(percentile=99, threshold_ms=50)


class Simulated:
    """A system sustaining `capacity` ops/s; each probe sees it moved by relative noise `sigma`
    (normal), never above `ceiling`. Unthrottled, it does 30% more than it sustains."""

    def __init__(
        self, capacity: float, sigma: float = 0.0, seed: int = 1, ceiling: float | None = None
    ) -> None:
        self.capacity, self.sigma = capacity, sigma
        self.ceiling = ceiling or float("inf")
        self.rng = random.Random(seed)
        self.calls: list[tuple[float, Step]] = []

    def __call__(self, offered: float, step: Step) -> Probe:
        self.calls.append((offered, step))
        now = min(self.capacity * (1 + self.rng.gauss(0, self.sigma)), self.ceiling)
        if offered == 0:
            return Probe(index=0, step=step, offered=0, achieved=1.3 * now, verdict="pass")
        ok = offered <= now
        return Probe(
            index=0,
            step=step,
            offered=offered,
            achieved=min(offered, self.capacity * (1 + self.rng.gauss(0, self.sigma))),
            verdict="pass" if ok else "fail",
        )


def search(system: Simulated, **settings: float) -> CapacityDoc:
    doc = CapacityDoc(id="t", objective=OBJ, settings=Settings(**settings))
    return Search(doc, system).run()


@pytest.mark.parametrize("capacity", [37.0, 800.0, 2340.0, 51_000.0])
def test_a_noiseless_system_is_bracketed_within_the_precision(capacity: float) -> None:
    sim = Simulated(capacity)
    doc = search(sim, precision=0.05)
    assert doc.status == "found" and doc.capacity is not None
    assert doc.capacity.low <= capacity < doc.capacity.high
    assert (doc.capacity.high - doc.capacity.low) / doc.capacity.low <= 0.05 + 1 / capacity
    assert doc.noise == 0.0
    # unthrottled twice, then widening from half of it, bisecting, 3 + 3 final re-runs
    steps = [s for _, s in sim.calls]
    assert steps[:2] == ["unthrottled", "unthrottled"] and steps[-6:] == ["final"] * 6
    assert len(doc.probes) == len(sim.calls) and [p.index for p in doc.probes] == list(
        range(len(doc.probes))
    )


def test_a_start_above_capacity_steps_down() -> None:
    sim = Simulated(800.0)
    doc = search(sim, start=5000)
    assert [s for _, s in sim.calls][:3] == ["widen", "step-down", "step-down"]
    assert doc.capacity is not None and doc.capacity.low <= 800 < doc.capacity.high


def test_with_noise_the_interval_covers_the_truth_in_90_percent_of_seeded_trials() -> None:
    covered, ceiling = 0, 1000.0 * 1.04
    for seed in range(200):
        doc = search(Simulated(1000.0, sigma=0.02, seed=seed, ceiling=ceiling), precision=0.02)
        assert doc.capacity is not None, doc.notes
        covered += doc.capacity.low <= 1000.0 <= doc.capacity.high
        assert doc.capacity.low <= ceiling  # never above what the system can ever do
    assert covered / 200 >= 0.90


def test_the_noise_measured_by_repeats_stops_the_bisection_early() -> None:
    quiet = search(Simulated(1000.0, sigma=0.0), precision=0.01)
    noisy = search(Simulated(1000.0, sigma=0.05, seed=3), precision=0.01)
    assert noisy.noise is not None and noisy.noise > 0.01
    steps = [[p.step for p in d.probes] for d in (quiet, noisy)]
    first_round = [s[: s.index("final")].count("bisect") for s in steps]
    assert first_round[1] < first_round[0]


def test_a_hard_ceiling_is_never_exceeded_even_when_probes_lie_low() -> None:
    # every probe above 700 fails whatever the noise; the truth (900) is never reachable
    for seed in range(50):
        doc = search(Simulated(900.0, sigma=0.1, seed=seed, ceiling=700.0))
        assert doc.capacity is not None and doc.capacity.low <= 700.0


def test_unknown_twice_ends_naming_the_limit() -> None:
    def probe(offered: float, step: Step) -> Probe:
        if offered >= 1600:
            return Probe(
                index=0, step=step, offered=offered, achieved=1480.0, verdict="unknown",
                limit="client", why=["client-bound: client used 97% of 1 cores"],
            )  # fmt: skip
        return Probe(index=0, step=step, offered=offered, achieved=offered, verdict="pass")

    doc = Search(CapacityDoc(id="t", objective=OBJ, settings=Settings(start=400)), probe).run()
    assert doc.status == "limited" and doc.limit == "client"
    assert doc.limit_text == "client-bound at ~1,480 ops/s"
    assert [p.step for p in doc.probes][-2:] == ["widen", "repeat"]
    assert doc.capacity is None and doc.exit_code() == 2
    assert doc.as_json()["capacity"] is None and doc.as_json()["limit"] == "client"


def test_unknown_once_is_repeated_and_the_search_goes_on() -> None:
    seen: set[float] = set()

    def probe(offered: float, step: Step) -> Probe:
        first = offered not in seen
        seen.add(offered)
        verdict = "unknown" if first and offered == 800 else ("pass" if offered < 1000 else "fail")
        return Probe(index=0, step=step, offered=offered, achieved=offered, verdict=verdict)  # type: ignore[arg-type]

    doc = Search(CapacityDoc(id="t", objective=OBJ, settings=Settings(start=400)), probe).run()
    assert doc.status == "found" and doc.capacity is not None
    assert ("repeat", 800.0) in [(p.step, p.offered) for p in doc.probes]


def test_nothing_passes_down_to_one_op_per_second() -> None:
    def probe(offered: float, step: Step) -> Probe:
        return Probe(index=0, step=step, offered=offered, achieved=offered, verdict="fail")

    doc = Search(CapacityDoc(id="t", objective=OBJ, settings=Settings(start=8)), probe).run()
    assert doc.status == "unknown" and doc.capacity is None
    assert [p.offered for p in doc.probes] == [8, 4, 2, 1]


def test_the_probe_limit_ends_the_search() -> None:
    doc = search(Simulated(100_000.0), start=1, max_probes=5)
    assert len(doc.probes) == 5 and doc.status == "unknown"
    assert any("probe limit" in n for n in doc.notes)


def test_an_upper_end_that_was_a_fluke_is_searched_beyond() -> None:
    seen: set[float] = set()

    def probe(offered: float, step: Step) -> Probe:
        fluke = offered == 800 and offered not in seen  # fails once, then passes
        seen.add(offered)
        ok = offered <= 1000 and not fluke
        return Probe(index=0, step=step, offered=offered, achieved=offered,
                     verdict="pass" if ok else "fail")  # fmt: skip

    doc = Search(CapacityDoc(id="t", objective=OBJ, settings=Settings(start=400)), probe).run()
    assert doc.status == "found" and doc.capacity is not None
    assert doc.capacity.low <= 1000 < doc.capacity.high and doc.capacity.low > 800
    assert any("800 ops/s passed" in n for n in doc.notes)


def test_interval_counts_a_rate_that_failed_in_its_re_runs_as_not_sustained() -> None:
    def p(rate: float, verdict: str) -> Probe:
        return Probe(index=0, step="final", offered=rate, achieved=rate, verdict=verdict)  # type: ignore[arg-type]

    probes = [p(500, "pass"), p(900, "pass"), p(1000, "fail"), p(900, "fail"), p(900, "pass"),
              p(1000, "fail"), p(1000, "pass"), p(1000, "fail")]  # fmt: skip
    got = interval(probes)
    assert got is not None and (got.low, got.high) == (500, 1000)

"""The planned order of a campaign's runs: interleaved (ABAB), blocked (AABB) or random (seeded).

Interleaving puts every configuration's repetition r before any repetition r+1, so slow drift of
a shared machine hits all configurations alike; blocked runs each configuration's repetitions
together; random is a seeded shuffle of the slots (the same seed, the same order). Run ids
are derived from the campaign id, the order index and the configuration. Executing is runner.py's.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

ORDERS = ("interleaved", "blocked", "random")


@dataclass(frozen=True)
class PlannedRun:
    index: int  # position in the execution order, from 0
    config: str
    repetition: int  # from 0

    def run_id(self, campaign_id: str, attempt: int = 1) -> str:
        """`<campaign_id>-003-t8-r1`; a second attempt (after an interrupted one) gets `-a2`."""
        base = f"{campaign_id}-{self.index:03d}-{self.config}-r{self.repetition}"
        return base if attempt == 1 else f"{base}-a{attempt}"


def plan(configs: list[str], repeat: int, order: str, seed: int = 1) -> list[PlannedRun]:
    """Every (configuration, repetition) once, in the given order."""
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}; valid: {', '.join(ORDERS)}")
    if order == "interleaved":
        pairs = [(c, r) for r in range(repeat) for c in configs]
    else:
        pairs = [(c, r) for c in configs for r in range(repeat)]
    if order == "random":  # shuffle the slots, then number each configuration's runs in order
        slots = [c for c, _ in pairs]
        random.Random(seed).shuffle(slots)
        pairs = [(c, slots[:i].count(c)) for i, c in enumerate(slots)]
    return [PlannedRun(i, c, r) for i, (c, r) in enumerate(pairs)]

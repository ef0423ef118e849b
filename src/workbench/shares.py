"""Splitting one load between N generators: disjoint key ranges, operation counts, target rates.

Pure arithmetic (base layer): the YCSB workload (several generator containers) and the Kubernetes
rendering (an Indexed Job's per-index properties) split the same way. Every split is exact: the
shares add up to the whole, no two key ranges overlap, and the remainder goes one unit each to the
first generators (so shares differ by at most 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from workbench.errors import ConfigError

# YCSB properties the split sets itself: given by hand they would overlap the generators' ranges
SPLIT_PROPERTIES = ("insertstart", "insertcount")


@dataclass(frozen=True)
class Share:
    """Generator `index`'s part of the load: its key range and its part of the run phase."""

    index: int
    insertstart: int
    insertcount: int
    operationcount: int | None  # None: the run is bounded by time
    target: int  # ops/s, 0: unthrottled

    def load_properties(self) -> dict[str, str]:
        return {"insertstart": str(self.insertstart), "insertcount": str(self.insertcount)}

    def run_properties(self) -> dict[str, str]:
        return {} if self.operationcount is None else {"operationcount": str(self.operationcount)}


def split_evenly(total: int, n: int) -> list[int]:
    """`total` in `n` integer parts that add up to it, the first `total % n` one larger."""
    if n < 1:
        raise ConfigError(f"generators: must be >= 1, got {n}")
    if total < 0:
        raise ConfigError(f"cannot split a negative amount ({total})")
    base, extra = divmod(total, n)
    return [base + (1 if i < extra else 0) for i in range(n)]


def problems(generators: int, recordcount: int, props: Mapping[str, str]) -> list[str]:
    """Why a load cannot be split between `generators` (empty when it can)."""
    out = []
    if generators < 1:
        out.append(f"generators: must be >= 1, got {generators}")
    elif generators > recordcount:
        out.append(
            f"generators: {generators} generators cannot share {recordcount} records "
            "(each needs at least one key of its own)"
        )
    if generators > 1:
        out.extend(
            f"props: {name} is set by the split between generators; leave it out"
            for name in SPLIT_PROPERTIES
            if name in props
        )
    return out


def shares(
    generators: int,
    recordcount: int,
    *,
    operationcount: int | None = None,
    target: int = 0,
    props: Mapping[str, str] | None = None,
) -> list[Share]:
    """Each generator's share: key ranges [insertstart, insertstart + insertcount) that tile
    [0, recordcount), and the operation count and target rate split the same way.

    A target below the number of generators would leave some with 0 (unthrottled in YCSB): refused.
    """
    bad = problems(generators, recordcount, props or {})
    if target and 0 < target < generators:
        bad.append(f"target: {target} ops/s cannot be split between {generators} generators")
    if operationcount is not None and operationcount < generators:
        bad.append(f"operationcount: {operationcount} is below generators ({generators})")
    if bad:
        raise ConfigError("; ".join(bad))
    counts = split_evenly(recordcount, generators)
    ops = split_evenly(operationcount, generators) if operationcount is not None else None
    rates = split_evenly(target, generators) if target else [0] * generators
    out, start = [], 0
    for i, count in enumerate(counts):
        out.append(Share(i, start, count, None if ops is None else ops[i], rates[i]))
        start += count
    return out

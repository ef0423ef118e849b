"""Splitting one load between generators: exact, disjoint, remainders first."""

from __future__ import annotations

import pytest

from workbench.errors import ConfigError
from workbench.shares import problems, shares, split_evenly


@pytest.mark.parametrize("total,n", [(10, 3), (1000, 7), (5, 5), (0, 2), (1, 1), (999_999, 30)])
def test_split_adds_up_and_differs_by_at_most_one(total: int, n: int) -> None:
    parts = split_evenly(total, n)
    assert len(parts) == n and sum(parts) == total
    assert max(parts) - min(parts) <= 1
    assert parts == sorted(parts, reverse=True)  # the remainder goes to the first ones


@pytest.mark.parametrize("records,n", [(1000, 3), (10, 10), (7, 2), (100_001, 4)])
def test_key_ranges_tile_the_records(records: int, n: int) -> None:
    got = shares(n, records)
    keys = [k for s in got for k in range(s.insertstart, s.insertstart + s.insertcount)]
    assert keys == list(range(records))  # no overlap, nothing lost, in order
    assert [s.index for s in got] == list(range(n))


def test_operations_and_target_split_too() -> None:
    got = shares(3, 1000, operationcount=10_001, target=1000)
    assert [s.operationcount for s in got] == [3334, 3334, 3333]
    assert [s.target for s in got] == [334, 333, 333]
    assert got[0].load_properties() == {"insertstart": "0", "insertcount": "334"}
    assert got[1].run_properties() == {"operationcount": "3334"}
    timed = shares(2, 10)
    assert timed[0].operationcount is None and timed[0].run_properties() == {}
    assert [s.target for s in timed] == [0, 0]


def test_bad_input() -> None:
    assert problems(0, 10, {}) == ["generators: must be >= 1, got 0"]
    assert "cannot share 3 records" in problems(4, 3, {})[0]
    assert "insertstart is set by the split" in problems(2, 10, {"insertstart": "5"})[0]
    assert problems(1, 10, {"insertstart": "5"}) == []  # one generator: the user's range stands
    with pytest.raises(ConfigError, match="target: 2 ops/s cannot be split"):
        shares(3, 10, target=2)
    with pytest.raises(ConfigError, match="operationcount: 2 is below generators"):
        shares(3, 10, operationcount=2)

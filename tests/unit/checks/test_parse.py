from __future__ import annotations

import json

import pytest

from workbench.checks import parse_go_duration, parse_id, parse_size


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("195GiB", 195 * 2**30),
        ("183.1GiB", round(183.1 * 2**30)),
        ("20 GiB", 20 * 2**30),
        ("33.11MiB", round(33.11 * 2**20)),
        ("0B", 0),
        ("1.5 KiB", 1536),
        ("2TiB", 2 * 2**40),
        ("10MB", 10_000_000),
        (4096, 4096),
    ],
)
def test_sizes(text: str, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("bad", ["", "GiB", "12 parsecs", "1.2.3GiB", "-5GiB"])
def test_bad_sizes(bad: str) -> None:
    with pytest.raises(ValueError, match="not a size"):
        parse_size(bad)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6h15m18.898s", 6 * 3600 + 15 * 60 + 18.898),
        ("1m24.170438017s", 84.170438017),
        ("517.175465ms", 0.517175465),
        ("2s", 2.0),
        ("1h", 3600.0),
        ("250µs", 0.00025),
        ("3us", 3e-6),
        ("15ns", 1.5e-8),
        ("-1.5h", -5400.0),
        ("0", 0.0),
    ],
)
def test_go_durations(text: str, expected: float) -> None:
    assert parse_go_duration(text) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("bad", ["", "5", "1d", "1h 2m", "s", "1.5"])
def test_bad_go_durations(bad: str) -> None:
    with pytest.raises(ValueError, match="not a Go duration"):
        parse_go_duration(bad)


def test_ids_above_2_53_stay_exact() -> None:
    big = 2**63 + 12345
    doc = json.loads(json.dumps({"member_id": big, "as_string": str(big)}))
    assert parse_id(doc["member_id"]) == big
    assert parse_id(doc["as_string"]) == big
    assert float(big) != big  # a float would have lost it
    with pytest.raises(ValueError):
        parse_id(2**64)
    with pytest.raises(ValueError):
        parse_id(1.0)  # type: ignore[arg-type]

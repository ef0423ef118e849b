"""Parsers for the units PD and Prometheus speak: binary sizes, Go durations, 64-bit ids."""

from __future__ import annotations

import re

_SIZE_UNITS = {
    "": 1,
    "B": 1,
    "KIB": 1 << 10,
    "MIB": 1 << 20,
    "GIB": 1 << 30,
    "TIB": 1 << 40,
    "PIB": 1 << 50,
    "EIB": 1 << 60,
    "KB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
    "TB": 1000**4,
    "PB": 1000**5,
    "EB": 1000**6,
}
_SIZE_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*$")


def parse_size(text: str | int | float) -> int:
    """PD's size strings to bytes: "183.1GiB", "20 GiB", "33.11MiB", "0B", or a plain number."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return int(text)
    m = _SIZE_RE.match(str(text))
    if not m or m.group(2).upper() not in _SIZE_UNITS:
        raise ValueError(f"not a size: {text!r}")
    return round(float(m.group(1)) * _SIZE_UNITS[m.group(2).upper()])


def parse_id(value: str | int) -> int:
    """A 64-bit id sent as a JSON number or a decimal string, as an exact int (never a float)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"not an integer id: {value!r}")
    n = int(value)
    if not 0 <= n < 1 << 64:
        raise ValueError(f"id out of uint64 range: {value!r}")
    return n

"""Small parsers of units shared by the YCSB parser, the checks and the cluster clients: Go
durations, RFC 3339 times, PD's binary sizes, 64-bit ids (base layer: no imports)."""

from __future__ import annotations

import re

_DUR_RE = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)")
_DUR_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def parse_go_duration(text: str) -> float:
    """A Go duration string ("6h15m18.898s", "1m24.17s", "517.1ms", "-1.5h", "0") to seconds.

    Raises ValueError for anything else.
    """
    s = text.strip()
    sign = -1.0 if s.startswith("-") else 1.0
    s = s.lstrip("+-")
    if s == "0":
        return 0.0
    pos, total = 0, 0.0
    for m in _DUR_RE.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _DUR_UNITS[m.group(2)]
        pos = m.end()
    if pos != len(s) or not s:
        raise ValueError(f"not a Go duration: {text!r}")
    return sign * total


def parse_rfc3339(text: str) -> float:
    """An RFC 3339 timestamp as Prometheus writes it ("2024-05-01T10:00:00.123456789Z", with any
    number of fraction digits, or an offset) to Unix seconds. Raises ValueError otherwise."""
    from datetime import datetime

    s = text.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    if "." in s:  # datetime takes at most 6 fraction digits
        head, _, rest = s.partition(".")
        digits = len(rest) - len(rest.lstrip("0123456789"))
        frac, tz = rest[:digits], rest[digits:]
        s = f"{head}.{(frac + '000000')[:6]}{tz}"
    dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        raise ValueError(f"RFC 3339 timestamp without an offset: {text!r}")
    return dt.timestamp()


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

"""Small parsers of units shared by the YCSB parser and the checks (base layer: no imports)."""

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

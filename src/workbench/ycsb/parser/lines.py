"""Line-level parsers of go-ycsb output: one plain line (``READ   - Takes(s): 1.0, Count: 5,
...``), one JSON block line, table cells, the TARGET line, Go durations. Pure."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from workbench import units
from workbench.ycsb.results import (
    OpStats,
    TargetReport,
)

TARGET_ROW = "TARGET"
RAW_HEADER = "operation,timestamp_us,latency_us"

# header name (upper-cased, spaces removed) -> OpStats attribute
_COLUMNS: dict[str, str] = {
    "TAKES(S)": "takes_s",
    "COUNT": "count",
    "OPS": "ops",
    "AVG(US)": "avg_us",
    "MIN(US)": "min_us",
    "MAX(US)": "max_us",
    "50TH(US)": "p50_us",
    "90TH(US)": "p90_us",
    "95TH(US)": "p95_us",
    "99TH(US)": "p99_us",
    "99.9TH(US)": "p999_us",
    "99.99TH(US)": "p9999_us",
}
_INT_ATTRS = {"count"}

_PLAIN_RE = re.compile(r"^(?P<name>[A-Za-z][A-Za-z0-9_\-]*)\s+-\s+(?P<body>\S.*?:\s.*)$")
_PAIR_RE = re.compile(r"\s*([^:,]+?):\s*([^,]*)")
_RUN_FINISHED_RE = re.compile(r"Run finished, takes\s+(\S+)")
_PROP_RE = re.compile(r'^"(?P<key>[^"]*)"="(?P<value>.*)"$')
_JAVA_FINAL_RE = re.compile(
    r"^\[(?P<name>[A-Za-z0-9_\-]+)\],\s*(?P<metric>[^,]+),\s*(?P<value>\S+)\s*$"
)
_JAVA_STATUS_RE = re.compile(
    r"(?P<sec>\d+(?:\.\d+)?)\s+sec:\s+(?P<ops>\d+)\s+operations;(?P<rest>.*)$"
)
_JAVA_BRACKET_RE = re.compile(r"\[(?P<name>[A-Za-z0-9_\-]+):\s*(?P<body>[^\]]*)\]")
_RAW_ROW_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*,\d+,-?\d+$")


# --------------------------------------------------------------------------- small parsers


def parse_go_duration(text: str) -> float | None:
    """Seconds in a Go ``time.Duration`` string (``1m24.17s``, ``517.1ms``, ``3µs``), else None."""
    try:
        return units.parse_go_duration(text)
    except ValueError:
        return None


def format_go_duration(seconds: float) -> str:
    """Format like Go's ``Duration.String`` (the native generator's ``Run finished`` line)."""
    ns = round(seconds * 1e9)
    if ns == 0:
        return "0s"
    neg = ns < 0
    ns = abs(ns)
    if ns < 1_000:
        out = f"{ns}ns"
    elif ns < 1_000_000:
        out = _trim(f"{ns / 1e3:.3f}") + "µs"
    elif ns < 1_000_000_000:
        out = _trim(f"{ns / 1e6:.6f}") + "ms"
    else:
        h, rem = divmod(ns, 3_600_000_000_000)
        m, rem = divmod(rem, 60_000_000_000)
        s = _trim(f"{rem / 1e9:.9f}") + "s"
        out = (f"{h}h" if h else "") + (f"{m}m" if h or m else "") + s
    return ("-" if neg else "") + out


def _trim(num: str) -> str:
    return num.rstrip("0").rstrip(".") if "." in num else num


def _to_number(attr: str, text: str) -> float | int | None:
    text = text.strip()
    if text in ("", "-", "NaN", "nan"):
        return None
    try:
        if attr in _INT_ATTRS:
            return int(float(text))
        return float(text)
    except ValueError:
        return None


def _norm_header(name: str) -> str:
    return name.strip().upper().replace(" ", "")


def _stats_from_pairs(name: str, pairs: Iterable[tuple[str, str]]) -> OpStats | None:
    values: dict[str, Any] = {}
    known = 0
    for key, raw in pairs:
        attr = _COLUMNS.get(_norm_header(key))
        if attr is None:
            continue
        known += 1
        values[attr] = _to_number(attr, raw)
    if not known:
        return None
    return OpStats(operation=name.strip(), **values)


def parse_plain_line(line: str) -> OpStats | None:
    """``READ   - Takes(s): 1.0, Count: 5, ...`` → ``OpStats`` (``None`` if not such a line)."""
    m = _PLAIN_RE.match(line.strip())
    if not m:
        return None
    pairs = _PAIR_RE.findall(m.group("body"))
    return _stats_from_pairs(m.group("name"), pairs)


def _parse_target_line(line: str) -> TargetReport | None:
    m = _PLAIN_RE.match(line.strip())
    if not m or m.group("name") != TARGET_ROW:
        return None
    pairs = {_norm_header(k): v for k, v in _PAIR_RE.findall(m.group("body"))}
    if "TARGET(OPS/S)" not in pairs:
        return None

    def num(key: str) -> float | None:
        return _f(pairs.get(key))

    return TargetReport(
        target_ops=num("TARGET(OPS/S)"),
        achieved_ops=num("ACHIEVED(OPS/S)"),
        behind_pct=num("BEHIND(%)"),
        max_lag_ms=num("MAXLAG(MS)"),
    )


def parse_json_block(line: str) -> list[OpStats] | None:
    """A json-style block (array of objects, values as strings) → rows, or ``None``."""
    text = line.strip()
    if not (text.startswith("[") and text.endswith("]")):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, list) or not data or not all(isinstance(d, dict) for d in data):
        return None
    rows = []
    for obj in data:
        name = obj.get("Operation")
        if not isinstance(name, str):
            return None
        row = _stats_from_pairs(name, ((str(k), str(v)) for k, v in obj.items()))
        if row is None:
            return None
        rows.append(row)
    return rows


def _is_table_border(line: str) -> bool:
    s = line.strip()
    return len(s) > 2 and s[0] == "+" and set(s) <= {"+", "-"}


def _table_cells(line: str) -> list[str] | None:
    s = line.strip()
    if len(s) < 2 or s[0] != "|" or s[-1] != "|":
        return None
    return [c.strip() for c in s[1:-1].split("|")]


_PAIR_EQ_RE = re.compile(r"\s*([^=,]+?)=([^,]*)")


def _f(text: str | None) -> float | None:
    value = None if text is None else _to_number("x", text)
    return None if value is None else float(value)


def _i(text: str | None) -> int | None:
    value = None if text is None else _to_number("count", text)
    return None if value is None else int(value)

"""Parse everything a YCSB tool prints: pure functions, no I/O.

Understood inputs (they may be mixed in one log, in any order, and may be cut short):

- go-ycsb blocks in `outputstyle` plain (``READ   - Takes(s): 1.0, Count: 5, ...``), json (one
  line holding an array of objects whose values are all strings) and table (tablewriter ASCII);
  the v1.0.0 format (no 50th/90th/95th columns, no TOTAL row) is just a block with fewer columns.
- Cumulative status blocks (before ``Run finished``) → per-interval series by differencing.
- ``Run finished, takes <Go duration>`` → ``run_seconds``; the block after it is the final block.
  A lone block with no ``Run finished`` line and no properties banner (a pasted final block) is
  the final block too.
- Status blocks are placed at ``interval_s`` multiples: the argument, else the log's
  ``measurement.interval``, else go-ycsb's default 10 s when the log shows go-ycsb's properties
  banner; with none of these they get no time (``t_s=None``, no interval rows), never a guess.
- The properties banner (``"key"="value"`` lines).
- raw/CSV measurement files (``operation,timestamp_us,latency_us``) → samples + derived final rows.
- Java YCSB's final block (``[READ], Operations, 10``) and its ``-s`` status lines.
- The native generator's extra rows: ``<OP>-INTENDED`` (latency from the intended start under
  ``target``), ``<OP>_NOTFOUND`` (the record did not exist: apart from successes and errors) and
  the ``TARGET - Target(ops/s): ...`` line (how far the run fell behind).

Lines that match none of these are kept in ``unknown_lines``; nothing here raises on bad input.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from workbench import units
from workbench.ycsb.results import (
    ERROR_SUFFIX,
    INTENDED_SUFFIX,
    NOTFOUND_SUFFIX,
    STAT_FIELDS,
    IntervalRow,
    OpStats,
    StatusBlock,
    TargetReport,
    YcsbResult,
)

__all__ = [
    "ERROR_SUFFIX",
    "INTENDED_SUFFIX",
    "NOTFOUND_SUFFIX",
    "STAT_FIELDS",
    "IntervalRow",
    "OpStats",
    "StatusBlock",
    "TargetReport",
    "YcsbResult",
    "cumulative_to_intervals",
    "exact_percentile",
    "format_go_duration",
    "parse",
    "parse_go_duration",
    "parse_json_block",
    "parse_plain_line",
    "parse_raw",
    "per_interval_to_intervals",
    "stats_from_samples",
]

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


# --------------------------------------------------------------------------- the main parser


class _State:
    def __init__(self) -> None:
        self.result = YcsbResult()
        self.blocks: list[tuple[list[OpStats], bool]] = []  # (rows, after "Run finished")
        self.current: list[OpStats] | None = None
        self.after_finish = False
        self.java_final: dict[str, dict[str, str]] = {}
        self.java_status: list[tuple[float, list[OpStats]]] = []

    def style(self, name: str) -> None:
        if name not in self.result.styles:
            self.result.styles.append(name)

    def close_block(self) -> None:
        if self.current:
            self.blocks.append((self.current, self.after_finish))
        self.current = None

    def add_row(self, row: OpStats) -> None:
        # go-ycsb sorts a block by name: a name not after the previous one starts a new block.
        if self.current and row.operation <= self.current[-1].operation:
            self.close_block()
        if self.current is None:
            self.current = []
        self.current.append(row)

    def add_block(self, rows: list[OpStats]) -> None:
        self.close_block()
        self.blocks.append((rows, self.after_finish))


def parse(text: str, *, interval_s: float | None = None) -> YcsbResult:
    """Parse a whole log (any style, possibly truncated) into a ``YcsbResult``.

    ``interval_s`` is the status interval used to place go-ycsb status blocks on a time axis;
    by default the ``measurement.interval`` property printed in the log, else 10 s.
    """
    lines = text.splitlines()
    if lines and lines[0].strip().lower().replace(" ", "") == RAW_HEADER:
        return parse_raw(text)
    st = _State()
    i = 0
    while i < len(lines):
        line = lines[i].rstrip("\r\n")
        i += 1
        if not line.strip():
            st.close_block()
            continue
        if _is_table_border(line):
            consumed = _consume_table(lines, i - 1, st)
            if consumed:
                i = consumed
                continue
        if line.strip().lower().replace(" ", "") == RAW_HEADER:
            # raw/CSV measurements after "Run finished": they are the final block
            st.close_block()
            j = i
            while j < len(lines) and _RAW_ROW_RE.match(lines[j].strip()):
                j += 1
            raw = parse_raw("\n".join(lines[i - 1 : j]))
            st.result.raw_samples.extend(raw.raw_samples)
            st.style("raw")
            if raw.final:
                st.add_block(raw.final)
            i = j
            continue
        if _handle_line(line, st):
            continue
        st.close_block()
        st.result.unknown_lines.append(line)
    st.close_block()
    _finish(st, interval_s)
    return st.result


def _handle_line(line: str, st: _State) -> bool:
    res = st.result
    stripped = line.strip()
    m = _RUN_FINISHED_RE.search(stripped)
    if m:
        st.close_block()
        res.run_seconds = parse_go_duration(m.group(1))
        st.after_finish = True
        return True
    m = _PROP_RE.match(stripped)
    if m:
        st.close_block()
        res.properties[m.group("key")] = m.group("value")
        return True
    if stripped.startswith("***"):
        st.close_block()
        return True
    target = _parse_target_line(stripped)
    if target is not None:
        st.close_block()
        res.target = target
        return True
    row = parse_plain_line(stripped)
    if row is not None:
        st.style("plain")
        st.add_row(row)
        return True
    rows = parse_json_block(stripped)
    if rows is not None:
        st.style("json")
        st.add_block(rows)
        return True
    m = _JAVA_FINAL_RE.match(stripped)
    if m:
        st.close_block()
        st.style("java")
        st.java_final.setdefault(m.group("name"), {})[m.group("metric").strip()] = m.group("value")
        return True
    m = _JAVA_STATUS_RE.search(stripped)
    if m:
        st.close_block()
        st.style("java")
        st.java_status.append((float(m.group("sec")), _java_status_rows(m.group("rest"))))
        return True
    return False


def _consume_table(lines: Sequence[str], start: int, st: _State) -> int:
    """Parse a tablewriter table starting at ``lines[start]``; return the next index or 0."""
    j = start + 1
    header = _table_cells(lines[j]) if j < len(lines) else None
    if not header or _norm_header(header[0]) != "OPERATION":
        return 0
    j += 1
    rows: list[OpStats] = []
    while j < len(lines):
        line = lines[j]
        if _is_table_border(line):
            j += 1
            if rows:
                break
            continue
        cells = _table_cells(line)
        if cells is None:
            break
        row = _stats_from_pairs(cells[0], zip(header[1:], cells[1:], strict=False))
        if row is not None:
            rows.append(row)
        j += 1
    st.style("table")
    if rows:
        st.add_block(rows)
    return j


def _java_status_rows(rest: str) -> list[OpStats]:
    rows = []
    for m in _JAVA_BRACKET_RE.finditer(rest):
        kv = dict(_PAIR_EQ_RE.findall(m.group("body")))
        count = _i(kv.get("Count"))
        if count is None:
            continue
        rows.append(
            OpStats(
                operation=m.group("name"),
                count=count,
                avg_us=_f(kv.get("Avg")),
                min_us=_f(kv.get("Min")),
                max_us=_f(kv.get("Max")),
                p50_us=_f(kv.get("50")),
                p90_us=_f(kv.get("90")),
                p95_us=_f(kv.get("95")),
                p99_us=_f(kv.get("99")),
                p999_us=_f(kv.get("99.9")),
                p9999_us=_f(kv.get("99.99")),
            )
        )
    return rows


_PAIR_EQ_RE = re.compile(r"\s*([^=,]+?)=([^,]*)")


def _f(text: str | None) -> float | None:
    value = None if text is None else _to_number("x", text)
    return None if value is None else float(value)


def _i(text: str | None) -> int | None:
    value = None if text is None else _to_number("count", text)
    return None if value is None else int(value)


def _java_final_rows(data: dict[str, dict[str, str]], res: YcsbResult) -> list[OpStats]:
    overall = data.get("OVERALL", {})
    if "RunTime(ms)" in overall:
        run_ms = _f(overall["RunTime(ms)"])
        if run_ms is not None and res.run_seconds is None:
            res.run_seconds = run_ms / 1000.0
    rows = []
    for name, metrics in sorted(data.items()):
        if name == "OVERALL" or "Operations" not in metrics:
            continue
        rows.append(
            OpStats(
                operation=name,
                count=_i(metrics.get("Operations")),
                avg_us=_f(metrics.get("AverageLatency(us)")),
                min_us=_f(metrics.get("MinLatency(us)")),
                max_us=_f(metrics.get("MaxLatency(us)")),
                p50_us=_f(metrics.get("50thPercentileLatency(us)")),
                p90_us=_f(metrics.get("90thPercentileLatency(us)")),
                p95_us=_f(metrics.get("95thPercentileLatency(us)")),
                p99_us=_f(metrics.get("99thPercentileLatency(us)")),
                p999_us=_f(metrics.get("99.9PercentileLatency(us)")),
                p9999_us=_f(metrics.get("99.99PercentileLatency(us)")),
            )
        )
    return rows


def _finish(st: _State, interval_s: float | None) -> None:
    res = st.result
    status = [rows for rows, after in st.blocks if not after]
    finals = [rows for rows, after in st.blocks if after]
    if finals:
        res.final = finals[-1]
        res.complete = True
        status.extend(finals[:-1])
    elif len(status) == 1 and not st.after_finish and not res.properties:
        res.final, status = status[0], []  # a pasted final block without its "Run finished"
        res.complete = True
    if st.java_final:
        java_rows = _java_final_rows(st.java_final, res)
        if java_rows:
            res.final = java_rows
            res.complete = True
    if interval_s is None:
        interval_s = _f(res.properties.get("measurement.interval"))
    if interval_s is None and res.properties:
        interval_s = 10.0  # go-ycsb's default: the banner shows whose log this is
    for idx, rows in enumerate(status):
        t_s = None if interval_s is None else (idx + 1) * interval_s
        res.status_blocks.append(StatusBlock(idx, tuple(rows), t_s=t_s))
    res.intervals = cumulative_to_intervals(res.status_blocks)
    if st.java_status:
        base = len(res.status_blocks)
        jblocks = [
            StatusBlock(base + k, tuple(rows), t_s=t, cumulative=False)
            for k, (t, rows) in enumerate(st.java_status)
        ]
        res.status_blocks.extend(jblocks)
        res.intervals.extend(per_interval_to_intervals(jblocks))


def cumulative_to_intervals(blocks: Sequence[StatusBlock]) -> list[IntervalRow]:
    """go-ycsb status blocks (cumulative) → per-interval rows by differencing counts."""
    out: list[IntervalRow] = []
    prev_count: dict[str, int] = {}
    prev_t = 0.0
    for block in blocks:
        if not block.cumulative or block.t_s is None:
            continue
        dt = block.t_s - prev_t
        for row in block.rows:
            if row.count is None:
                continue
            delta = row.count - prev_count.get(row.operation, 0)
            prev_count[row.operation] = row.count
            ops = delta / dt if dt > 0 else None
            out.append(IntervalRow(block.t_s, row.operation, row.count, delta, ops))
        prev_t = block.t_s
    return out


def per_interval_to_intervals(blocks: Sequence[StatusBlock]) -> list[IntervalRow]:
    """Java ``-s`` status blocks (per interval) → rows with a running cumulative count."""
    out: list[IntervalRow] = []
    cum: dict[str, int] = {}
    prev_t = 0.0
    for block in blocks:
        if block.t_s is None:
            continue
        dt = block.t_s - prev_t
        for row in block.rows:
            n = row.count or 0
            cum[row.operation] = cum.get(row.operation, 0) + n
            ops = n / dt if dt > 0 else None
            out.append(IntervalRow(block.t_s, row.operation, cum[row.operation], n, ops))
        prev_t = block.t_s
    return out


def parse_raw(text: str) -> YcsbResult:
    """A raw/CSV measurement file → samples plus final rows derived from them (exact)."""
    res = YcsbResult(styles=["raw"])
    by_op: dict[str, list[tuple[int, int]]] = {}
    for n, line in enumerate(text.splitlines()):
        s = line.strip()
        if not s or (n == 0 and s.lower().replace(" ", "") == RAW_HEADER):
            continue
        parts = s.split(",")
        try:
            op, ts, lat = parts[0], int(parts[1]), int(parts[2])
        except (IndexError, ValueError):
            res.unknown_lines.append(line)
            continue
        res.raw_samples.append((op, ts, lat))
        by_op.setdefault(op, []).append((ts, lat))
    for op in sorted(by_op):
        res.final.append(stats_from_samples(op, by_op[op]))
    res.complete = bool(res.final)
    if res.raw_samples:
        start = min(ts for _, ts, _ in res.raw_samples)
        end = max(ts + lat for _, ts, lat in res.raw_samples)
        res.run_seconds = (end - start) / 1e6
    return res


def exact_percentile(sorted_values: Sequence[int], pct: float) -> int:
    """The value at ``pct`` by HdrHistogram's rank rule, on exact data."""
    n = len(sorted_values)
    rank = max(1, int(pct * n / 100.0 + 0.5))
    return sorted_values[min(rank, n) - 1]


def stats_from_samples(op: str, samples: Sequence[tuple[int, int]]) -> OpStats:
    """Exact statistics of (start_us, latency_us) samples."""
    lats = sorted(lat for _, lat in samples)
    start = min(ts for ts, _ in samples)
    end = max(ts + lat for ts, lat in samples)
    takes = (end - start) / 1e6
    pct = {p: float(exact_percentile(lats, p)) for p in (50, 90, 95, 99, 99.9, 99.99)}
    return OpStats(
        operation=op,
        takes_s=takes,
        count=len(lats),
        ops=len(lats) / takes if takes > 0 else None,
        avg_us=sum(lats) / len(lats),
        min_us=float(lats[0]),
        max_us=float(lats[-1]),
        p50_us=pct[50],
        p90_us=pct[90],
        p95_us=pct[95],
        p99_us=pct[99],
        p999_us=pct[99.9],
        p9999_us=pct[99.99],
    )

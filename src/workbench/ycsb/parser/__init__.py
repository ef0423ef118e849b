"""Parse everything a YCSB tool prints: pure functions, no I/O.

    __init__.py  the state machine over a whole log (`parse`) and status blocks → intervals
    lines.py     one line at a time: plain, JSON, table cells, TARGET, Go durations
    java.py      Java YCSB's final block and status lines
    raw.py       raw/CSV measurement samples → exact final rows

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

from collections.abc import Sequence

from workbench.ycsb.parser.java import _java_final_rows, _java_status_rows
from workbench.ycsb.parser.lines import (
    _JAVA_FINAL_RE,
    _JAVA_STATUS_RE,
    _PROP_RE,
    _RAW_ROW_RE,
    _RUN_FINISHED_RE,
    RAW_HEADER,
    _f,
    _is_table_border,
    _norm_header,
    _parse_target_line,
    _stats_from_pairs,
    _table_cells,
    format_go_duration,
    parse_go_duration,
    parse_json_block,
    parse_plain_line,
)
from workbench.ycsb.parser.raw import exact_percentile, parse_raw, stats_from_samples
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

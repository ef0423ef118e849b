"""Merging several generators: interval logs by absolute time, final blocks, status intervals."""

from __future__ import annotations

import random
from pathlib import Path

from workbench.ycsb.intervals import hlog_header, hlog_line, new_histogram, read_hlog
from workbench.ycsb.merge import merge_final, merge_interval_rows, merge_logs, read_log, slot
from workbench.ycsb.results import IntervalRow, OpStats

T0 = 1_790_000_000.0


def _write(
    path: Path, start: float, intervals: list[tuple[float, float, dict[str, list[int]]]]
) -> None:
    """An interval log like the native generator's: (start_s, length_s, tag -> values)."""
    lines = [hlog_header(start)]
    for s, length, tags in intervals:
        for tag, values in tags.items():
            h = new_histogram()
            for v in values:
                h.record_value(v)
            lines.append(hlog_line(tag, s, length, h))
    path.write_text("".join(lines))


def test_slot_is_the_interval_holding_the_midpoint() -> None:
    assert slot(T0, T0 + 1.0, T0, 1.0) == 0
    assert slot(T0 + 0.016, T0 + 1.017, T0, 1.0) == 0  # 16 ms late: still the same interval
    assert slot(T0 + 1.016, T0 + 2.017, T0, 1.0) == 1
    assert slot(T0 + 3.0, T0 + 5.0, T0, 1.0) == 4  # a missed tick: a 2 s interval, once
    assert slot(T0 + 10.0, T0 + 10.04, T0, 1.0) == 10  # the partial last one


def test_merge_with_skewed_clocks_and_missing_intervals_equals_one_histogram(
    tmp_path: Path,
) -> None:
    rng = random.Random(7)
    everything = {"READ": new_histogram(), "UPDATE": new_histogram()}
    paths = []
    for g, skew in enumerate((0.0, 0.013, 0.087)):  # generators started 13 and 87 ms apart
        intervals = []
        for i in range(6):
            if g == 2 and i == 3:
                continue  # this generator missed a tick (its values land in the next one)
            tags = {}
            for tag in everything:
                values = [rng.randint(100, 200_000) for _ in range(rng.randint(0, 400))]
                for v in values:
                    everything[tag].record_value(v)
                tags[tag] = values
            length = 0.4 if i == 5 else 1.0  # the last interval is partial
            intervals.append((float(i), length, tags))
        p = tmp_path / f"g{g}.hlog"
        _write(p, T0 + skew, intervals)
        paths.append(p)
    out = tmp_path / "run.hlog"
    totals = merge_logs(paths, out, 1.0)
    assert totals is not None
    for tag, h in everything.items():
        assert totals[tag].get_total_count() == h.get_total_count()
        for p in (50, 90, 99, 99.9):
            assert totals[tag].get_value_at_percentile(p) == h.get_value_at_percentile(p)
        assert totals[tag].get_max_value() == h.get_max_value()
    # the written log reads back (StartTime written by hand) with the same counts per tag
    origin, ivs = read_log(out)
    assert origin == T0
    frame = read_hlog(out)
    for tag, h in everything.items():
        assert frame[frame["operation"] == tag]["count"].sum() == h.get_total_count()
    assert sorted(set(frame["t_s"])) == [1.0, 2.0, 3.0, 4.0, 5.0, 5.487]  # a grid, last partial
    starts = sorted({round(iv.start - T0, 3) for iv in ivs})
    assert starts == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_skewed_generators_line_up_interval_by_interval(tmp_path: Path) -> None:
    """Each generator's i-th interval (same values everywhere) lands in merged interval i."""
    paths = []
    for g, skew in enumerate((0.0, 0.016, 0.087)):
        p = tmp_path / f"g{g}.hlog"
        _write(p, T0 + skew, [(float(i), 1.0, {"TOTAL": [100] * (i + 1)}) for i in range(5)])
        paths.append(p)
    merge_logs(paths, tmp_path / "run.hlog", 1.0)
    frame = read_hlog(tmp_path / "run.hlog")
    assert list(frame["count"]) == [3, 6, 9, 12, 15]


def test_no_readable_log_merges_to_none(tmp_path: Path) -> None:
    assert merge_logs([tmp_path / "missing.hlog"], tmp_path / "out.hlog", 1.0) is None
    assert not (tmp_path / "out.hlog").exists()


def test_final_blocks_add_up() -> None:
    a = [OpStats("READ", 10.0, 100, 10.0, 500.0, 100.0, 9000.0, p99_us=800.0)]
    b = [
        OpStats("READ", 9.5, 300, 31.6, 1000.0, 80.0, 7000.0, p99_us=2000.0),
        OpStats("READ_ERROR", 9.5, 2, 0.2, 50.0, 40.0, 60.0),
    ]
    h = new_histogram()
    for v in [100] * 395 + [5000] * 5:
        h.record_value(v)
    got = {r.operation: r for r in merge_final([a, b], 10.0, {"READ": h})}
    r = got["READ"]
    assert (r.count, r.ops, r.min_us, r.max_us, r.takes_s) == (400, 40.0, 80.0, 9000.0, 10.0)
    assert r.avg_us == (100 * 500 + 300 * 1000) / 400
    assert r.p99_us == h.get_value_at_percentile(99)  # from the merged histogram, not a guess
    assert got["READ_ERROR"].count == 2 and got["READ_ERROR"].p99_us is None  # no histogram


def test_status_intervals_on_the_merged_grid() -> None:
    g0 = [IntervalRow(1.0, "READ", 10, 10, 10.0), IntervalRow(2.0, "READ", 30, 20, 20.0)]
    g1 = [IntervalRow(1.0, "READ", 5, 5, 5.0), IntervalRow(2.0, "READ", 12, 7, 7.0)]
    rows = merge_interval_rows([(0.0, g0), (0.05, g1)], 0.0, 1.0)
    # g1 started 50 ms later: 95% of each of its rows in the interval it mostly covers
    assert [(r.t_s, r.interval_count, r.count) for r in rows] == [
        (1.0, 15, 15),
        (2.0, 27, 42),
        (3.0, 0, 42),
    ]
    # 0.7 s apart (go-ycsb's containers): a row is split 30/70 over the two it straddles
    late = merge_interval_rows([(0.0, [IntervalRow(1.0, "READ", 100, 100, 100.0)]),
                                (0.7, [IntervalRow(1.0, "READ", 100, 100, 100.0)])], 0.0, 1.0)  # fmt: skip
    assert [(r.t_s, r.interval_count) for r in late] == [(1.0, 130), (2.0, 70)]
    assert late[-1].count == 200  # nothing lost to rounding

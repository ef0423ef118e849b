"""The parser on captured outputs of every style (go-ycsb, Java YCSB, raw CSV, native)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from workbench.ycsb.parser import (
    OpStats,
    format_go_duration,
    parse,
    parse_go_duration,
    parse_plain_line,
)

DATA = Path(__file__).parent / "data"


def read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["go_ycsb_plain.log", "go_ycsb_json.log", "go_ycsb_table.log"])
def test_go_ycsb_styles_give_identical_results(name: str) -> None:
    res = parse(read(name))
    assert res.complete
    assert [r.operation for r in res.final] == ["READ", "READ_ERROR", "TOTAL", "UPDATE"]
    read_row = res.get("READ")
    assert read_row == OpStats(
        "READ", 2.3, 11534, 5014.8, 1570, 480, 24111, 1347, 2367, 2931, 5303, 15999, 24111
    )
    assert res.get("READ_ERROR") is not None and res.error_count() == 4
    assert res.run_seconds == pytest.approx(2.320459918)
    assert res.properties["threadcount"] == "16"
    # two cumulative status blocks at a 1 s interval (from the properties banner)
    assert len(res.status_blocks) == 2
    iv = res.intervals_frame()
    read_iv = iv[iv.operation == "READ"]
    assert list(read_iv.t_s) == [1.0, 2.0]
    assert list(read_iv["count"]) == [4970, 10012]
    assert list(read_iv.interval_count) == [4970, 5042]
    assert list(read_iv.interval_ops) == [4970.0, 5042.0]
    # READ_ERROR first appears in block 2: its interval count is its full count
    err = iv[iv.operation == "READ_ERROR"]
    assert list(err.interval_count) == [3]


def test_styles_agree_frame_for_frame() -> None:
    frames = [parse(read(f"go_ycsb_{s}.log")).final_frame() for s in ("plain", "json", "table")]
    assert frames[0].equals(frames[1]) and frames[0].equals(frames[2])
    assert list(frames[0].columns)[:3] == ["operation", "takes_s", "count"]


def test_v100_format_missing_columns_are_missing_not_zero() -> None:
    res = parse(read("go_ycsb_v100.log"))
    assert res.complete and res.get("TOTAL") is None
    row = res.get("READ")
    assert row is not None
    assert row.p50_us is None and row.p90_us is None and row.p95_us is None
    assert row.p99_us == 37000 and row.count == 19001
    # no measurement.interval in the banner: go-ycsb's default 10 s
    assert sorted({r.t_s for r in res.intervals}) == [10.0, 20.0]
    upd = [r for r in res.intervals if r.operation == "UPDATE"]
    assert [r.interval_count for r in upd] == [503, 498]
    assert upd[1].interval_ops == pytest.approx(49.8)


def test_truncated_log_yields_what_it_holds() -> None:
    res = parse(read("go_ycsb_truncated.log"))
    assert not res.complete and res.final == [] and res.run_seconds is None
    assert len(res.status_blocks) == 3
    last = res.status_blocks[-1].rows
    assert last[0].operation == "READ" and last[0].count == 15001 and last[0].min_us is None


def test_sigint_log_and_unknown_lines_kept() -> None:
    res = parse(read("go_ycsb_sigint.log"))
    assert res.complete
    assert res.run_seconds == pytest.approx(84.170438017)
    assert "operation err: context deadline exceeded" in res.unknown_lines
    assert "Got signal [interrupt] to exit." in res.unknown_lines
    # the error line between blocks did not break the series
    assert [b.t_s for b in res.status_blocks] == [1.0, 2.0]


def test_raw_csv_measurements() -> None:
    res = parse(read("go_ycsb_raw.csv"))
    assert res.styles == ["raw"]
    assert len(res.raw_samples) == 10
    row = res.get("READ")
    assert row is not None
    assert row.count == 4 and row.min_us == 800 and row.max_us == 5000
    assert row.avg_us == 2000 and row.p50_us == 1000
    assert res.run_seconds == pytest.approx(0.011)
    assert res.raw_frame().shape == (10, 3)


def test_java_final_block_and_status_lines() -> None:
    res = parse(read("java_ycsb_run.log"))
    assert res.complete and res.run_seconds == pytest.approx(20.086)
    row = res.get("READ")
    assert row is not None
    assert row.count == 5000 and row.avg_us == pytest.approx(1175.5004)
    assert row.p95_us == 2447 and row.p99_us == 5063 and row.p50_us is None
    assert res.get("TOTAL_GCs") is None  # GC counters are not operations
    upd = [r for r in res.intervals if r.operation == "UPDATE"]
    # Java -s brackets are per interval: cumulative count is the running sum
    assert [r.interval_count for r in upd] == [2490, 2479, 31]
    assert [r.count for r in upd] == [2490, 4969, 5000]
    assert upd[0].interval_ops == pytest.approx(249.0)
    assert any("YCSB Client 0.17.0" in line for line in res.unknown_lines)


def test_native_output_with_intended_rows_and_target() -> None:
    res = parse(read("native_plain.log"))
    assert res.complete
    intended = res.get("TOTAL-INTENDED")
    service = res.get("TOTAL")
    assert intended is not None and service is not None
    assert intended.kind == "intended" and intended.base_operation == "TOTAL"
    assert intended.count == service.count == 3000
    assert res.target is not None and res.target.target_ops == 2000.0
    assert res.target.achieved_ops is not None and res.target.behind_pct is not None
    js = parse(read("native_json.log"))
    names = [r.operation for r in js.final]
    assert "READ_MODIFY_WRITE" in names and "READ_MODIFY_WRITE-INTENDED" in names
    assert js.target is not None
    table = parse(read("native_table_load.log"))
    ins = table.get("INSERT")
    assert ins is not None and ins.count == 1000


def test_plain_line_with_long_names_and_garbage() -> None:
    row = parse_plain_line(
        "READ_MODIFY_WRITE - Takes(s): 9.9, Count: 12, OPS: 1.2, Avg(us): 7, Min(us): 1,"
        " Max(us): 20, 99th(us): 20"
    )
    assert row is not None and row.operation == "READ_MODIFY_WRITE" and row.p99_us == 20
    assert row.base_operation == "READ_MODIFY_WRITE" and row.kind == "ok"
    assert parse_plain_line("hello - world") is None
    assert parse_plain_line("2024-01-01 10 sec: 5 operations;") is None


def test_empty_and_nonsense_input() -> None:
    res = parse("")
    assert not res.complete and res.final == [] and res.intervals == []
    res = parse("panic: runtime error\n[not json\n+--+\n")
    assert len(res.unknown_lines) == 3 and not res.complete


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2.320459918s", 2.320459918),
        ("517.175465ms", 0.517175465),
        ("1m24.170438017s", 84.170438017),
        ("1h0m1s", 3601.0),
        ("850µs", 0.00085),
        ("12us", 0.000012),
        ("0s", 0.0),
    ],
)
def test_go_durations(text: str, seconds: float) -> None:
    got = parse_go_duration(text)
    assert got is not None and math.isclose(got, seconds, rel_tol=1e-12)


def test_go_duration_format_roundtrip() -> None:
    for s in (0.000000123, 0.000456789, 0.517175465, 2.320459918, 84.170438017, 7322.5):
        text = format_go_duration(s)
        back = parse_go_duration(text)
        assert back is not None and back == pytest.approx(s, rel=1e-9), text
    assert format_go_duration(84.170438017) == "1m24.170438017s"
    assert format_go_duration(0.517175465) == "517.175465ms"
    assert parse_go_duration("soon") is None


def test_json_shape() -> None:
    d = parse(read("go_ycsb_v100.log")).to_json_dict()
    assert set(d) == {"final", "intervals", "run_seconds"}
    assert set(d["final"][0]) == {
        "operation", "takes_s", "count", "ops", "avg_us", "min_us", "max_us",
        "p50_us", "p90_us", "p95_us", "p99_us", "p999_us", "p9999_us",
    }  # fmt: skip
    assert d["final"][0]["p50_us"] is None
    assert set(d["intervals"][0]) == {
        "t_s", "operation", "count", "interval_count", "interval_ops",
    }  # fmt: skip
    json.dumps(d)


def test_client_summary_for_checks() -> None:
    s = parse(read("go_ycsb_plain.log")).client_summary(threads=16)
    assert s.operations == {"READ": 11534, "UPDATE": 11537}
    assert s.errors == {"READ": 4} and s.total_errors == 4
    assert s.total_ops == 23071 and s.threads == 16
    assert s.run_seconds == pytest.approx(2.320459918)
    native = parse(read("native_json.log")).client_summary()
    assert "READ_MODIFY_WRITE" in native.operations
    assert not any(k.endswith("INTENDED") for k in native.operations)
    assert native.target_ops == 2000.0
    old = parse(read("go_ycsb_v100.log")).client_summary()
    assert old.total is None and old.total_ops == 19001 + 999

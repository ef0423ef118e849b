"""HDR recording: percentiles within 0.1% of exact sorted latencies; output round-trips."""

from __future__ import annotations

import random

import pytest
from hdrh.histogram import HdrHistogram

from workbench.ycsb.native.measure import (
    PERCENTILES,
    Measurements,
    hdr_bucket,
    render,
    summary_of,
    with_totals,
)
from workbench.ycsb.parser import exact_percentile, parse


def latencies(n: int = 100_000, seed: int = 11) -> list[int]:
    rng = random.Random(seed)
    # a realistic mix: a lognormal body around 1 ms plus a slow tail up to ~2 s
    out = [int(rng.lognormvariate(7.0, 0.6)) for _ in range(n)]
    out += [int(rng.uniform(50_000, 2_000_000)) for _ in range(n // 100)]
    rng.shuffle(out)
    return out


def test_percentiles_within_0_1_percent_of_exact() -> None:
    values = latencies()
    meas = Measurements()
    rec = meas.recorder()
    for v in values:
        rec.record("READ", v)
    (row,) = meas.summary()
    exact = sorted(values)
    got = {
        50.0: row.p50_us, 90.0: row.p90_us, 95.0: row.p95_us,
        99.0: row.p99_us, 99.9: row.p999_us, 99.99: row.p9999_us,
    }  # fmt: skip
    for p in PERCENTILES:
        want = exact_percentile(exact, p)
        assert got[p] is not None
        assert abs(got[p] - want) <= 0.001 * want, (p, got[p], want)
    assert row.count == len(values)
    assert row.min_us == exact[0]
    assert row.max_us is not None and abs(row.max_us - exact[-1]) <= 0.001 * exact[-1]
    assert row.avg_us is not None
    assert row.avg_us == pytest.approx(sum(values) / len(values), rel=0.001)


def test_cheap_recording_equals_direct_hdr_recording() -> None:
    values = latencies(30_000, seed=5)
    direct = HdrHistogram(1, 86_400_000_000, 3)
    meas = Measurements()
    rec_a, rec_b = meas.recorder(), meas.recorder()  # two threads' recorders merge
    for i, v in enumerate(values):
        direct.record_value(v)
        (rec_a if i % 2 else rec_b).record("UPDATE", v)
    merged = meas.histogram("UPDATE")
    assert merged is not None
    for p in PERCENTILES:
        assert merged.get_value_at_percentile(p) == direct.get_value_at_percentile(p)
    assert merged.get_total_count() == direct.get_total_count()


def test_hdr_bucket_is_lowest_equivalent_value() -> None:
    h = HdrHistogram(1, 86_400_000_000, 3)
    for v in (0, 1, 2047, 2048, 2049, 4097, 123_456, 86_399_999_999):
        assert hdr_bucket(v) == h.get_lowest_equivalent_value(v)


@pytest.mark.parametrize("style", ["plain", "json", "table"])
def test_render_parses_back(style: str) -> None:
    meas = Measurements()
    rec = meas.recorder()
    for v in (5, 10, 20, 4000, 9000):
        rec.record("READ", v)
        rec.record("TOTAL", v)
    rec.record("READ_ERROR", 77)
    rows = meas.summary()
    text = "Run finished, takes 1.5s\n" + render(rows, style)
    res = parse(text)
    assert res.complete and res.run_seconds == 1.5
    assert [r.operation for r in res.final] == ["READ", "READ_ERROR", "TOTAL"]
    read = res.get("READ")
    assert read is not None and read.count == 5 and read.min_us == 5
    assert read.p50_us == rows[0].p50_us
    assert res.error_count() == 1


def test_total_added_up_equals_total_recorded() -> None:
    added, recorded = Measurements(), Measurements()
    ra, rr = added.recorder(), recorded.recorder()
    for i, v in enumerate(latencies(5000, seed=9)):
        op = ("READ", "UPDATE", "READ_MODIFY_WRITE")[i % 3]
        ra.record(op, v, 1000 + i)
        rr.record(op, v, 1000 + i)
        if op != "READ_MODIFY_WRITE":  # go-ycsb's TOTAL leaves it out
            rr.record("TOTAL", v, 1000 + i)
    got = summary_of(with_totals(added.snapshot()), 10_000_000)
    want = summary_of(recorded.snapshot(), 10_000_000)
    assert got == want

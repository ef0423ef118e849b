"""The conversion benchmark runs and its two converters agree on content (ratio not asserted at
this small size: timing is the benchmark's job)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench" / "bench_prometheus_frame.py"


def test_bench_converters_produce_the_same_content(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("bench_prometheus_frame", BENCH)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rc = mod.main(["--series", "12", "--points", "500", "--repeat", "1", "--min-ratio", "0"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert out["same_content"] is True and out["samples"] == 6000
    assert out["non_finite_values"] > 0  # NaN/±Inf made it through both converters

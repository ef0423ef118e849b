"""`workbench history`: listing, --json, --verdict exit codes, --csv, --html (escaped), and the
index page's link; `workbench run --label` into the parameters."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from workbench.cli import main
from workbench.cli.history_cmds import print_newest_verdict
from workbench.params import run_params_from_cli

from .conftest import make_run


def steps(results: Path, n: int = 13, at: int = 8, labels: dict[str, str] | None = None) -> None:
    rng = np.random.default_rng(1)
    for i in range(n):
        tp = (1000.0 if i < at else 800.0) * (1 + 0.01 * rng.standard_normal())
        make_run(results, i, throughput=tp, labels={"commit": f"c{i + 1}", **(labels or {})})


def test_listing_and_json(results: Path, capsys: pytest.CaptureFixture[str]) -> None:
    steps(results)
    assert main(["history", "--results", str(results), "--metric", "throughput"]) == 0
    out = capsys.readouterr().out
    assert "13 points" in out and "change at 8" in out and "commit c8..c9" in out
    assert main(["history", "--results", str(results), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [s["metric"] for s in doc["series"]] == ["throughput", "p99_ms"]
    assert doc["series"][0]["change_points"][0]["index"] == 8
    assert doc["series"][1]["change_points"] == []  # p99 did not move


def test_verdict_exit_codes(results: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "--results", str(results), "--verdict"]) == 2  # nothing at all
    steps(results)
    code = main(["history", "--results", str(results), "--verdict", "--metric", "throughput"])
    assert code == 1
    assert "verdict: regression" in capsys.readouterr().out
    code = main(["history", "--results", str(results), "--verdict", "--metric", "p99_ms"])
    assert code == 0
    assert main(["history", "--results", str(results), "--metric", "nope"]) == 3


def test_filters_by_key_and_label(results: Path, capsys: pytest.CaptureFixture[str]) -> None:
    steps(results, n=6, labels={"branch": "main"})
    make_run(results, 20, threads=8, labels={"branch": "dev"})
    main(["history", "--results", str(results), "--json", "--label", "branch=dev"])
    (s, _) = json.loads(capsys.readouterr().out)["series"]
    assert s["points"] == 1 and s["key"]["threads"] == "8"
    main(["history", "--results", str(results), "--json", "--where", "threads=4"])
    assert json.loads(capsys.readouterr().out)["series"][0]["points"] == 6
    assert main(["history", "--results", str(results), "--where", "threads"]) == 3


def test_csv_series(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(2)
    lines = ["time,throughput,commit"]
    for i in range(30):
        v = (500.0 if i < 18 else 560.0) * (1 + 0.01 * rng.standard_normal())
        lines.append(f"2026-01-{i + 1:02d} 10:00:00+00:00,{v:.2f},sha{i}")
    lines.insert(5, "2025-12-31 10:00:00+00:00,,sha-empty")  # out of order, no number: skipped
    f = tmp_path / "ci.csv"
    f.write_text("\n".join(lines) + "\n")
    argv = ["history", "--csv", str(f), "--time-column", "time", "--metric", "throughput"]
    assert main([*argv, "--attr", "commit", "--json"]) == 0
    (s,) = json.loads(capsys.readouterr().out)["series"]
    assert s["points"] == 30 and s["key"] == {"file": "ci.csv"}
    (cp,) = s["change_points"]
    assert cp["index"] == 18 and cp["time"].startswith("2026-01-19") and cp["strength"] == "strong"
    assert main([*argv, "--attr", "commit"]) == 0
    assert "commit sha17..sha18" in capsys.readouterr().out
    assert main([*argv, "--attr", "missing"]) == 3


def test_the_history_page_escapes_labels_and_the_index_links_it(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    steps(results, labels={"note": "<script>alert(1)</script>"})
    assert main(["history", "--results", str(results), "--html"]) == 0
    page = (results / "history.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # no CDN
    assert page.count("<svg") == 2 and "<title>" in page
    run8 = sorted(p.name for p in results.iterdir() if p.is_dir())[8]
    assert f'href="{run8}/report.html"' in page
    assert "c8 .. c9" in page  # the labels either side of the change
    assert 'href="history.html"' in (results / "index.html").read_text()


def test_run_labels_from_the_cli() -> None:
    p = run_params_from_cli([], labels=["commit=abc123", "branch=main"])
    assert p.labels == {"commit": "abc123", "branch": "main"}
    assert run_params_from_cli([]).labels == {}


def test_run_history_prints_the_newest_runs_verdict(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert print_newest_verdict(results) == 2 and "no runs" in capsys.readouterr().out
    steps(results, n=11, at=6)  # the fifth run after the step: the change point speaks
    assert print_newest_verdict(results, ("throughput",)) == 1
    assert "history: regression" in capsys.readouterr().out
    make_run(results, 30, threads=16)  # a new benchmark key: a series of one run
    assert print_newest_verdict(results) == 2
    assert "insufficient" in capsys.readouterr().out

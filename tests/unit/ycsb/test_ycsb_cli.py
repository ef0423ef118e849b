"""`workbench ycsb load|run|parse` through register() on a fresh argparse parser."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from workbench.cli.ycsb_cmds import register
from workbench.ycsb.parser import parse

REPO = Path(__file__).resolve().parents[3]
DATA = Path(__file__).parent / "data"
WORKLOAD_A = REPO / "subjects" / "etcd" / "workloads" / "workloada"


def call(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="workbench")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_parse_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert call(["ycsb", "parse", str(DATA / "go_ycsb_plain.log"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"final", "intervals", "run_seconds"}
    assert doc["run_seconds"] == pytest.approx(2.320459918)
    read = next(r for r in doc["final"] if r["operation"] == "READ")
    assert read["count"] == 11534 and read["p999_us"] == 15999.0 and read["takes_s"] == 2.3
    iv = [r for r in doc["intervals"] if r["operation"] == "TOTAL"]
    assert [(r["t_s"], r["count"], r["interval_count"]) for r in iv] == [
        (1.0, 9958, 9958),
        (2.0, 20031, 10073),
    ]
    assert iv[1]["interval_ops"] == 10073.0


def test_parse_json_nulls_for_missing_columns(capsys: pytest.CaptureFixture[str]) -> None:
    assert call(["ycsb", "parse", str(DATA / "go_ycsb_truncated.log"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["final"] == [] and doc["run_seconds"] is None and len(doc["intervals"]) == 8
    last = doc["intervals"][-1]
    assert (last["t_s"], last["operation"], last["count"]) == (3.0, "READ", 15001)


def test_parse_human(capsys: pytest.CaptureFixture[str]) -> None:
    assert call(["ycsb", "parse", str(DATA / "native_plain.log")]) == 0
    out = capsys.readouterr().out
    assert "TOTAL-INTENDED" in out and "target: 2000.0 ops/s" in out


def test_load_and_run_native(capsys: pytest.CaptureFixture[str]) -> None:
    assert call(["ycsb", "load", "basic", "-P", str(WORKLOAD_A), "--threads", "2"]) == 0
    res = parse(capsys.readouterr().out)
    assert res.get("INSERT") is not None and res.get("INSERT").count == 1000  # type: ignore[union-attr]
    assert res.properties["threadcount"] == "2"
    rc = call(
        ["ycsb", "run", "basic", "-P", str(WORKLOAD_A), "-p", "operationcount=300",
         "-p", "outputstyle=json", "--target", "3000", "--interval", "5"]
    )  # fmt: skip
    assert rc == 0
    res = parse(capsys.readouterr().out)
    assert res.get("TOTAL").count == 300  # type: ignore[union-attr]
    assert res.get("TOTAL-INTENDED") is not None and res.properties["target"] == "3000"


def test_bad_input_exit_code_and_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert call(["ycsb", "run", "nosuchdb", "-P", str(WORKLOAD_A)]) == 2
    err = capsys.readouterr().err
    assert "unknown binding 'nosuchdb'" in err and "basic" in err
    assert call(["ycsb", "run", "basic", "-P", "/nonexistent/workload"]) == 2
    assert "cannot read workload file" in capsys.readouterr().err

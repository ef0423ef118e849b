"""checks.json: the checks produce Verdicts, artifacts writes them (atomic, JSON-safe evidence)
and reads every shape an earlier writer left (a list; an object with `verdicts`)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from workbench.artifacts import RunDir, read_verdicts, write_verdicts
from workbench.errors import ConfigError
from workbench.model import Verdict


def test_checks_json_is_atomic_strict_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "run" / "checks.json"
    path.parent.mkdir()
    path.write_text("old")
    vs = [
        Verdict("a", "pre", "pass", "fine", {"x": math.nan, "y": math.inf, "ids": (2**64 - 1,)}),
        Verdict("b", "post", "fail", "bad", {"n": 1}, 5.0, 0.25),
    ]
    write_verdicts(path.parent, vs)
    doc = json.loads(path.read_text())
    assert doc[0]["evidence"] == {"x": None, "y": "+Inf", "ids": [18446744073709551615]}
    assert doc[1] == {
        "name": "b",
        "phase": "post",
        "status": "fail",
        "summary": "bad",
        "evidence": {"n": 1},
        "started_at": 5.0,
        "duration_s": 0.25,
    }
    assert os.listdir(path.parent) == ["checks.json"]  # no temporary file left behind
    assert read_verdicts(path.parent)[1] == vs[1]


def test_checks_json_keeps_the_old_file_when_writing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "checks.json"
    path.write_text('["old"]')

    def boom(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        write_verdicts(tmp_path, [Verdict("a", "pre", "pass", "x")])
    assert path.read_text() == '["old"]'
    assert os.listdir(tmp_path) == ["checks.json"]


def test_unknown_evidence_objects_become_strings(tmp_path: Path) -> None:
    path = write_verdicts(tmp_path, [Verdict("a", "pre", "pass", "x", {"o": object()})])
    assert json.loads(path.read_text())[0]["evidence"]["o"].startswith("<object")


def test_older_shapes_read_and_a_damaged_file_is_a_config_error(tmp_path: Path) -> None:
    v = Verdict("a", "post", "unknown", "why", {"n": 1}, 2.0, 0.5)
    (tmp_path / "checks.json").write_text(json.dumps({"verdicts": [v.to_dict()]}))
    assert read_verdicts(tmp_path) == [v]
    (tmp_path / "checks.json").write_text('[{"name": "a"}]')
    with pytest.raises(ConfigError, match=r"checks\.json is unreadable"):
        read_verdicts(tmp_path)
    assert read_verdicts(tmp_path / "nothing") == []


def test_a_run_directory_merges_re_run_verdicts(tmp_path: Path) -> None:
    rd = RunDir.create(tmp_path, "r", "etcd", {})
    rd.save_verdicts([Verdict("a", "pre", "fail", "1"), Verdict("b", "pre", "pass", "2")])
    rd.save_verdicts([Verdict("a", "pre", "pass", "again")])
    assert [(v.name, v.status) for v in rd.verdicts()] == [("a", "pass"), ("b", "pass")]

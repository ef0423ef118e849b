"""`workbench verify` exit codes, table and checks.json, with the live stack replaced."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import workbench.stack
from fakes.processes import require_binary
from workbench.cli import main, verify_cmds
from workbench.model import Verdict


@pytest.mark.parametrize(
    ("statuses", "code"),
    [
        (["pass", "pass", "skipped", "pass"], 0),
        (["pass", "unknown", "skipped", "pass"], 2),
        (["fail", "unknown", "skipped", "pass"], 1),
    ],
)
def test_exit_code_table_and_checks_json(
    statuses: list[str],
    code: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    attached: list[str] = []

    def fake_attach(manifest: Any, project: str, progress: Any = None) -> str:
        attached.append(project)
        return project

    def fake_verify(st: Any, phase: str = "pre") -> list[Verdict]:
        return [Verdict(f"c{i}", "pre", s, f"c{i} is {s}") for i, s in enumerate(statuses)]  # type: ignore[arg-type]

    monkeypatch.setattr(workbench.stack.Stack, "attach", staticmethod(fake_attach))
    monkeypatch.setattr(verify_cmds, "verify_stack", fake_verify)
    rc = main(["verify", "--project", "wb-etcd-test", "--run-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == code
    assert attached == ["wb-etcd-test"]
    assert [d["status"] for d in json.loads((tmp_path / "checks.json").read_text())] == statuses
    assert "c0 is " + statuses[0] in out


def test_attach_needs_exactly_one_running_project(monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.errors import StackError
    from workbench.manifest import load_manifest

    m = load_manifest("etcd")
    monkeypatch.setattr(workbench.stack, "running_projects", lambda prefix: {})
    with pytest.raises(StackError, match="no running etcd stack"):
        verify_cmds.find_project(m, None)
    monkeypatch.setattr(
        workbench.stack, "running_projects", lambda prefix: {f"{prefix}a": [], f"{prefix}b": []}
    )
    with pytest.raises(StackError, match="wb-etcd-a, wb-etcd-b"):
        verify_cmds.find_project(m, None)
    monkeypatch.setattr(workbench.stack, "running_projects", lambda prefix: {f"{prefix}a": []})
    assert verify_cmds.find_project(m, None) == "wb-etcd-a"


def test_missing_binaries_fail_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="apt-get install"):
        require_binary("no-such-binary-for-workbench")
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception):
        require_binary("no-such-binary-for-workbench")

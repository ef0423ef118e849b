"""A stack started from another state folder (another checkout, another WORKBENCH_STATE_DIR):
`status` lists it and `down` removes it with its volumes, whether or not its state files remain."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

from workbench.manifest import Manifest
from workbench.stack import running_projects


def _wb(*args: str, state: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("WORKBENCH_STATE_DIR", None)
    if state is not None:
        env["WORKBENCH_STATE_DIR"] = str(state)
    argv = [sys.executable, "-m", "workbench", *args]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300, check=False)


def _volumes(project: str) -> list[str]:
    argv = [
        "docker",
        "volume",
        "ls",
        "-q",
        "--filter",
        f"label=com.docker.compose.project={project}",
    ]
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.split()


def test_status_and_down_reach_a_stack_of_another_state_folder(
    etcd_manifest: Manifest, tmp_path: Path
) -> None:
    project = f"wb-etcd-foreign{secrets.token_hex(3)}"
    other = tmp_path / "other-state"
    up = _wb("up", "--project", project, state=other)
    try:
        assert up.returncode == 0, up.stderr
        ports = json.loads(up.stdout)["ports"]
        # its state files still in the other folder: read from there
        got = _wb("status", "--json")
        assert got.returncode == 0, got.stderr
        info = json.loads(got.stdout)[project]
        assert info["ports"] == ports and info["services"]["etcd0"] == "healthy"
        # the other folder gone: the ports come from the engine, and down still works
        shutil.rmtree(other)
        got = _wb("status", "--json")
        assert got.returncode == 0, got.stderr
        assert json.loads(got.stdout)[project]["ports"] == ports
        assert _volumes(project)
        down = _wb("down", "--project", project)
        assert down.returncode == 0, down.stderr
        assert project not in running_projects("wb-")
        assert _volumes(project) == []
    finally:
        if project in running_projects("wb-") or _volumes(project):
            subprocess.run(
                ["docker", "compose", "--project-name", project, "--file",
                 str(etcd_manifest.compose_file), "down", "--volumes", "--timeout", "0"],
                capture_output=True, check=False,
            )  # fmt: skip

"""`kill <pid>` of `workbench lab` stops the server it started (issue 24: JupyterLab was left
serving on its port). Local tier: real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from workbench.cli import run_cmds

PARENT = """
import sys
from pathlib import Path
from workbench.cli.run_cmds import serve
sys.exit(serve([sys.executable, "-c", "import time; time.sleep(120)"], cwd=Path.cwd(), grace_s=5))
"""


@pytest.mark.local
def test_sigterm_to_the_lab_stops_its_server(tmp_path: Path) -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], cwd=tmp_path, env=os.environ.copy())
    try:
        deadline = time.monotonic() + 20
        children: list[psutil.Process] = []
        while not children and time.monotonic() < deadline:
            children = psutil.Process(parent.pid).children()
            time.sleep(0.05)
        assert children, "the server child never started"
        time.sleep(0.3)  # the handler is installed right after the child starts
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(15) == 0
        _gone, alive = psutil.wait_procs(children, timeout=5)
        assert not alive, f"left serving: {alive}"
    finally:
        parent.kill()


def test_the_lab_asks_for_no_news() -> None:
    argv: list[list[str]] = []
    saved = run_cmds.serve
    run_cmds.serve = lambda a, cwd, grace_s=10.0: argv.append(a) or 0  # type: ignore[assignment]
    try:
        run_cmds.cmd_lab(type("A", (), {"port": 8899, "notebooks": Path("nb")})())  # type: ignore[arg-type]
    finally:
        run_cmds.serve = saved  # type: ignore[assignment]
    assert "--LabApp.news_url=None" in argv[0] and "--ServerApp.port=8899" in argv[0]

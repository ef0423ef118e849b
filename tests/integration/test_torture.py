"""Issue 11's torture test: runs that go wrong in every way a user meets, each bounded in time.
After each, the run directory's status and report say what happened, and `docker ps -a` shows
nothing of the run's project (no container, no stack of a dead run)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_run_e2e import CLI, REPO, assert_nothing_left, wait_for_stage, workbench

from workbench.artifacts import RunDir
from workbench.manifest import Manifest

RUN = ["run", "--duration", "10", "-p", "recordcount=200", "--threads", "2", "--no-setup"]


def start(
    results: Path, run_id: str, *extra: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, *RUN, "--results", str(results), "--run-id", run_id, *extra],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )


def finish(proc: subprocess.Popen[str], timeout: float = 240) -> tuple[int, str]:
    try:
        out, _ = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, out


def project_of(rd_path: Path) -> str:
    return str(json.loads((rd_path / "run.json").read_text())["project"])


def docker_kill(container: str) -> None:
    subprocess.run(["docker", "kill", container], capture_output=True, check=True, timeout=30)


def assert_reported(rd: RunDir, *statuses: str) -> None:
    assert rd.status in statuses, (rd.status, rd.record.error)
    html = (rd.path / "report.html").read_text()
    assert rd.status in html
    assert (rd.path.parent / "index.html").is_file()


def test_a_member_killed_mid_run(etcd_manifest: Manifest, tmp_path: Path) -> None:
    proc = start(tmp_path, "member")
    wait_for_stage(tmp_path / "member", "run", proc)
    docker_kill(f"{project_of(tmp_path / 'member')}-etcd1-1")
    code, out = finish(proc)
    rd = RunDir(tmp_path / "member")
    # the dead member's counter left the sum: never a `fail` of counts_agree for that reason
    verdicts = {v.name: v.status for v in rd.verdicts()}
    assert verdicts.get("counts_agree") != "fail", out[-3000:]
    assert code in (1, 2) and rd.record.exit_code() == code, out[-3000:]
    assert_reported(rd, "failed", "unknown")
    assert_nothing_left(rd)


def test_prometheus_killed_mid_run(etcd_manifest: Manifest, tmp_path: Path) -> None:
    proc = start(tmp_path, "prom")
    wait_for_stage(tmp_path / "prom", "run", proc)
    docker_kill(f"{project_of(tmp_path / 'prom')}-prometheus-1")
    code, out = finish(proc)
    rd = RunDir(tmp_path / "prom")
    verdicts = {v.name: v.status for v in rd.verdicts()}
    assert "unknown" in verdicts.values(), verdicts  # the server side cannot be verified
    assert code == rd.record.exit_code() and code in (1, 2, 3), out[-3000:]
    assert_reported(rd, "unknown", "failed", "error")
    assert_nothing_left(rd)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupted_by_a_signal(
    etcd_manifest: Manifest, tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    run_id = f"sig-{sig.name}"
    proc = start(tmp_path, run_id)
    wait_for_stage(tmp_path / run_id, "run", proc)
    proc.send_signal(sig)
    got, out = finish(proc)
    rd = RunDir(tmp_path / run_id)
    assert got == code, out[-3000:]
    assert rd.record.interrupted_by == sig.name and sig.name in (rd.record.error or "")
    assert_reported(rd, "aborted")
    assert_nothing_left(rd)


def test_kill_9_of_the_cli_then_down_stale(etcd_manifest: Manifest, tmp_path: Path) -> None:
    proc = start(tmp_path, "nine")
    wait_for_stage(tmp_path / "nine", "run", proc)
    project = project_of(tmp_path / "nine")
    kernels = [
        int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _ppid(p) == proc.pid
    ]
    proc.kill()  # SIGKILL: no handler, no salvage
    proc.communicate(timeout=30)  # reaps it and closes its pipe
    for pid in kernels:  # and its kernel, as a machine reboot or an OOM kill would
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    time.sleep(1)
    r = workbench("down", "--stale")
    assert r.returncode == 0 and project in r.stdout, r.stdout + r.stderr
    rd = RunDir(tmp_path / "nine")
    assert rd.status == "aborted" and "abandoned" in (rd.record.error or "")
    assert_reported(rd, "aborted")
    assert_nothing_left(rd)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_results_folder_that_fills_up(etcd_manifest: Manifest, tiny_disk: Path) -> None:
    proc = start(tiny_disk, "full", env={"WORKBENCH_MIN_FREE_MB": "1"})
    code, out = finish(proc)
    rd = RunDir(tiny_disk / "full")
    assert rd.status in ("error", "failed", "unknown", "passed"), out[-3000:]
    assert rd.status != "running"  # never left running
    assert code == rd.record.exit_code(), out[-3000:]
    assert (rd.path / "report.html").is_file() or "report could not be written" in out
    assert_nothing_left(rd)


def test_a_results_folder_without_room_is_refused_before_anything_starts(
    etcd_manifest: Manifest, tiny_disk: Path
) -> None:
    r = workbench(*RUN, "--results", str(tiny_disk), "--run-id", "no-room")
    assert r.returncode == 3 and "MiB free" in r.stderr, r.stderr
    assert not (tiny_disk / "no-room").exists()


def _ppid(proc_dir: Path) -> int:
    try:
        status = (proc_dir / "status").read_text()
    except OSError:
        return -1
    return int(next(x for x in status.splitlines() if x.startswith("PPid:")).split()[1])

"""The main job for real on the offline etcd stack: `workbench run`, plain papermill, the other
notebooks, and every failure path (stack never healthy, workload error, Ctrl-C, kernel death).

Each run leaves a run directory that is checked against the contract, and no container behind.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from workbench.artifacts import RunDir
from workbench.manifest import SUBJECTS_DIR, Manifest
from workbench.stack import Stack, running_projects

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
CLI = [str(Path(sys.executable).parent / "workbench")]
QUICK = ["--duration", "6", "-p", "recordcount=300", "--threads", "2"]


def workbench(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=timeout, cwd=REPO, check=False
    )


def papermill(nb: str, out: Path, *params: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "papermill", str(NOTEBOOKS / nb), str(out)]
    for i in range(0, len(params), 2):
        argv += ["-p", params[i], params[i + 1]]
    return subprocess.run(argv, capture_output=True, text=True, timeout=600, cwd=REPO, check=False)


def assert_nothing_left(rd: RunDir) -> None:
    project = rd.record.project
    assert project, "run.json names the compose project"
    assert project not in running_projects("wb-"), f"containers of {project} were left behind"


def assert_failure_recorded(rd: RunDir, status: str, needle: str) -> None:
    assert rd.status == status, rd.record
    assert needle in (rd.record.error or ""), rd.record.error
    assert rd.record.ended
    html = (rd.path / "report.html").read_text()
    assert 'class="failure"' in html and status in html
    assert (rd.path.parent / "index.html").is_file()


def wait_for_stage(
    rd_path: Path, stage: str, proc: subprocess.Popen[str], limit: float = 240
) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        run_json = rd_path / "run.json"
        if run_json.is_file():
            with_stages = json.loads(run_json.read_text()).get("stages", [])
            if any(s["name"] == stage and s["status"] == "running" for s in with_stages):
                time.sleep(2)  # well inside the stage
                return
        time.sleep(0.3)
    pytest.fail(f"stage {stage} never started")


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("results")


@pytest.fixture(scope="module")
def cli_run(
    etcd_manifest: Manifest, results: Path
) -> tuple[subprocess.CompletedProcess[str], RunDir]:
    r = workbench("run", "--subject", "etcd", "--workload", "a", *QUICK, "--results", str(results),
                  "--run-id", "cli-run")  # fmt: skip
    return r, RunDir(results / "cli-run")


@pytest.fixture(scope="module")
def papermill_run(etcd_manifest: Manifest, results: Path) -> RunDir:
    r = papermill("benchmark.ipynb", results / "papermill-out.ipynb", "workload", "c",
                  "duration", "5", "recordcount", "200", "threads", "2", "run_id", "pm-run",
                  "results_dir", str(results))  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    return RunDir(results / "pm-run")


def test_workbench_run_produces_the_contract(
    cli_run: tuple[subprocess.CompletedProcess[str], RunDir],
) -> None:
    r, rd = cli_run
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert r.stdout.strip().splitlines()[-1] == str(rd.path)
    assert "stage run" in r.stdout and "stage post_checks" in r.stdout  # progress by stage
    rec = rd.record
    assert rec.status == "passed" and rec.run_id == "cli-run" and rec.subject == "etcd"
    assert rec.schema_version == 2
    assert rec.params["workload"] == "a" and rec.params["duration"] == 6.0
    assert [s.name for s in rec.stages] == [
        "stack_up",
        "pre_checks",
        "load",
        "run",
        "post_checks",
        "metrics",
        "timeline",
        "finish",
    ]
    assert all(
        s.status == "ok" and s.ended is not None and s.ended >= s.started for s in rec.stages
    )
    fp = rec.fingerprint
    assert fp.engine["engine"] and fp.engine["compose"] and fp.compose_sha256
    assert {"etcd0", "etcd1", "etcd2", "prometheus"} <= set(fp.images)
    assert fp.host.cpu_count and fp.libraries["papermill"]
    verdicts = {v.name: v.status for v in rd.verdicts()}
    assert verdicts["cluster_healthy"] == "pass" and verdicts["ycsb_traffic"] == "pass"
    assert verdicts["grafana"] == "skipped" and "fail" not in verdicts.values()
    # the probe ran beside the load, still recorded as a pre check
    assert verdicts["probe_connectivity"] == "pass"
    # the run's container started during the settle after the load and was released after it;
    # its clock (the run mark) starts at the release, not at compose's "Creating" line
    run, settle = rec.phases["run"], rec.settle_after_load
    gate = run.gate
    assert gate is not None and settle is not None and run.launched_unix is not None
    assert run.launched_unix < gate.ready_unix
    assert settle.seen is not None and gate.released_unix is not None
    assert gate.released_unix >= settle.seen
    run_mark = next(m for m in rec.marks if m.name == "run")
    assert run_mark.start == max(gate.released_unix, gate.ready_unix)
    load_mark = next(m for m in rec.marks if m.name == "load")
    load_launched = rec.phases["load"].launched_unix
    assert load_launched is not None and load_mark.start > load_launched + 0.05  # first line
    # the stack went down beside the figures (begun before the finish stage), run.json says when
    finish_stage = rec.stages[-1]
    down = rec.teardown
    assert down is not None and down.background and down.started_unix < finish_stage.started
    for rel in ("run.json", "checks.json", "timeline.parquet", "notebook.ipynb", "report.html",
                "ycsb/load.log", "ycsb/run.log", "ycsb/run.final.csv", "ycsb/run.intervals.csv",
                "metrics/queries.json", "metrics/server_ops.parquet", "figures/throughput.png",
                "figures/latency.png", "logs/etcd0.log", "logs/prometheus.log"):  # fmt: skip
        assert (rd.path / rel).is_file(), rel
    assert "etcd" in (rd.path / "logs" / "etcd1.log").read_text()
    tl = rd.timeline()
    assert tl is not None and set(tl["source"]) == {"client", "server", "mark"}
    run_ops = tl[(tl["name"] == "client_ops") & (tl["phase"] == "run")]
    server = tl[tl["name"] == "server_ops"]
    assert run_ops["t_s"].between(0, 8).all() and server["t_s"].min() < 0 < server["t_s"].max()
    executed = nbformat.read(rd.path / "notebook.ipynb", as_version=4)
    assert any(c.get("outputs") for c in executed.cells if c.cell_type == "code")
    final = pd.read_csv(rd.path / "ycsb" / "run.final.csv")
    assert set(final["operation"]) >= {"READ", "UPDATE", "TOTAL"}
    assert_nothing_left(rd)


def test_index_ls_and_report_from_the_directory(
    cli_run: tuple[subprocess.CompletedProcess[str], RunDir], results: Path
) -> None:
    _, rd = cli_run
    index = (results / "index.html").read_text()
    assert "cli-run/report.html" in index
    ls = workbench("ls", "--results", str(results))
    assert ls.returncode == 0 and "cli-run" in ls.stdout and "passed" in ls.stdout
    (rd.path / "report.html").unlink()
    again = workbench("report", str(rd.path))
    assert again.returncode == 0 and (rd.path / "report.html").is_file()
    assert "data:image/png;base64," in (rd.path / "report.html").read_text()


def test_plain_papermill_run(papermill_run: RunDir) -> None:
    rd = papermill_run
    assert rd.status == "passed", rd.record.error
    final = rd.ycsb_final("run")
    assert final is not None and set(final["operation"]) == {"READ", "TOTAL"}  # workload c
    assert (rd.path / "report.html").is_file()
    assert_nothing_left(rd)


def test_compare_notebook(
    cli_run: tuple[subprocess.CompletedProcess[str], RunDir], papermill_run: RunDir, tmp_path: Path
) -> None:
    _, a = cli_run
    out = tmp_path / "compare.ipynb"
    r = papermill("compare.ipynb", out, "run_dirs", f"{a.path},{papermill_run.path}")
    assert r.returncode == 0, r.stderr[-3000:]
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert "Δ% ops/s" in html and "cli-run" in html and "pm-run" in html
    pngs = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(pngs) == 2 + 2 * 2  # the two overlays, then each run's throughput and latency


@pytest.fixture
def own_stack(etcd_manifest: Manifest, tmp_path: Path) -> Iterator[Stack]:
    """A stack for one test: the benchmarks after it in this module must have the host alone."""
    with Stack(etcd_manifest, run_dir=tmp_path / "own") as st:
        yield st


def test_verify_and_explore_attach_to_a_running_stack(own_stack: Stack, tmp_path: Path) -> None:
    etcd_stack = own_stack
    r = papermill("verify.ipynb", tmp_path / "verify.ipynb", "project", etcd_stack.project,
                  "results_dir", str(tmp_path), "run_id", "verify")  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    rd = RunDir(tmp_path / "verify")
    names = {v.name: v.status for v in rd.verdicts()}
    assert names == {
        "cluster_healthy": "pass", "prometheus_targets": "pass", "grafana": "skipped",
        "probe_connectivity": "pass", "ycsb_traffic": "pass",
    }  # fmt: skip
    assert rd.status == "passed" and rd.record.kind == "verify"
    assert all(h == "healthy" for h in etcd_stack.services_health().values())  # not torn down
    r = papermill("explore.ipynb", tmp_path / "explore.ipynb", "project", etcd_stack.project,
                  "lookback", "120")  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    nb = nbformat.read(tmp_path / "explore.ipynb", as_version=4)
    pngs = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(pngs) >= len(etcd_stack.manifest.queries)


def test_stack_never_healthy(etcd_manifest: Manifest, tmp_path: Path) -> None:
    subjects = tmp_path / "subjects"
    shutil.copytree(SUBJECTS_DIR, subjects)
    compose = subjects / "etcd" / "compose.yaml"
    marker = "  etcd2:\n    <<: *etcd\n"
    text = compose.read_text()
    assert marker in text
    compose.write_text(text.replace(marker, marker + '    healthcheck:\n      test: ["CMD-SHELL", '
                                    '"exit 1"]\n      interval: 1s\n      retries: 2\n'))  # fmt: skip
    manifest = subjects / "etcd" / "manifest.toml"
    manifest.write_text(
        manifest.read_text().replace("health_timeout_s = 90", "health_timeout_s = 15")
    )
    r = workbench("run", "--subject", str(subjects / "etcd"), *QUICK, "--results",
                  str(tmp_path / "res"), "--run-id", "sick")  # fmt: skip
    assert r.returncode == 3, r.stdout[-2000:] + r.stderr[-2000:]
    rd = RunDir(tmp_path / "res" / "sick")
    assert_failure_recorded(rd, "error", "etcd2")
    assert rd.stages()[0].name == "stack_up" and rd.stages()[0].status == "error"
    assert (rd.path / "logs" / "etcd0.log").is_file()
    assert_nothing_left(rd)


def test_time_bounded_run_through_the_go_ycsb_path(etcd_manifest: Manifest, tmp_path: Path) -> None:
    """The TiKV subject's path (tool = go-ycsb: bounded by SIGINT, not maxexecutiontime), run for
    real: the etcd subject's `ycsb` service has go-ycsb's command line and SIGINT behaviour.
    `docker compose run` does not forward SIGINT, so the pipeline must reach the named container
    through the engine; else the run never ends before its timeout and the container stays."""
    subjects = tmp_path / "subjects"
    shutil.copytree(SUBJECTS_DIR, subjects)
    manifest = subjects / "etcd" / "manifest.toml"
    text = manifest.read_text()
    assert 'tool = "native"' in text
    manifest.write_text(text.replace('tool = "native"', 'tool = "go-ycsb"'))
    started = time.monotonic()
    r = workbench("run", "--subject", str(subjects / "etcd"), *QUICK, "--results",
                  str(tmp_path / "res"), "--run-id", "sigint", timeout=300)  # fmt: skip
    wall = time.monotonic() - started
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    rd = RunDir(tmp_path / "res" / "sigint")
    run = rd.record.phases["run"]
    assert "maxexecutiontime=6" not in " ".join(run.argv)
    assert "--name" in run.argv
    # our SIGINT, 6 s after go-ycsb's own t=0 (not after `docker compose run`: it ran 4.9 s when
    # the bound counted the container's start-up)
    assert run.run_seconds is not None and 5.9 <= run.run_seconds <= 7.5, run
    assert run.tool == "go-ycsb"
    assert run.errors is not None and run.errors <= 2  # go-ycsb fails the calls in flight: 1/thread
    assert "Run finished" in (rd.path / "ycsb" / "run.log").read_text()
    assert wall < 200, wall
    assert_nothing_left(rd)


def test_bad_workload_properties_are_refused_before_anything_starts(
    etcd_manifest: Manifest, tmp_path: Path
) -> None:
    """Issue 11 item 4: a distribution the generator does not know used to start the stack and
    fail ~7 s later in the load container; now it is refused with every problem listed."""
    before = set(running_projects("wb-"))
    r = workbench("run", *QUICK, "-p", "requestdistribution=bogus", "-p", "recordcount=abc",
                  "--results", str(tmp_path), "--run-id", "bad-workload")  # fmt: skip
    assert r.returncode == 3, r.stdout[-2000:] + r.stderr[-2000:]
    assert "requestdistribution" in r.stderr and "recordcount" in r.stderr, r.stderr
    assert not (tmp_path / "bad-workload").exists()
    assert set(running_projects("wb-")) <= before


def _kernel_pids(parent: int) -> list[int]:
    out = []
    for proc_dir in Path("/proc").iterdir():
        if not proc_dir.name.isdigit():
            continue
        try:
            status = (proc_dir / "status").read_text()
            cmd = (proc_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        ppid = int(next(x for x in status.splitlines() if x.startswith("PPid:")).split()[1])
        if ppid == parent and "ipykernel" in cmd:
            out.append(int(proc_dir.name))
    return out


@pytest.mark.parametrize("how", ["ctrl-c", "kernel-death"])
def test_interrupted_runs_are_recorded_and_cleaned(
    etcd_manifest: Manifest, tmp_path: Path, how: str
) -> None:
    run_id = f"cut-{how}"
    proc = subprocess.Popen(
        [
            *CLI,
            "run",
            "--duration",
            "120",
            "-p",
            "recordcount=200",
            "--results",
            str(tmp_path),
            "--run-id",
            run_id,
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_stage(tmp_path / run_id, "run", proc)
        if how == "ctrl-c":
            proc.send_signal(signal.SIGINT)
        else:
            kernels = _kernel_pids(proc.pid)
            assert len(kernels) == 1, kernels
            os.kill(kernels[0], signal.SIGKILL)
        out, _ = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == (130 if how == "ctrl-c" else 3), out[-3000:]
    rd = RunDir(tmp_path / run_id)
    if how == "ctrl-c":
        assert_failure_recorded(rd, "aborted", "interrupted by SIGINT")
        assert rd.record.interrupted_by == "SIGINT"
        assert [s.status for s in rd.stages() if s.name == "run"] == ["aborted"]
    else:
        assert_failure_recorded(rd, "error", "DeadKernelError")
    assert {v.name for v in rd.verdicts()} >= {"cluster_healthy", "probe_connectivity"}
    assert (rd.path / "logs" / "etcd0.log").is_file() and (rd.path / "ycsb" / "load.log").is_file()
    assert_nothing_left(rd)


def test_interrupt_inside_the_pipeline(etcd_manifest: Manifest, tmp_path: Path) -> None:
    """Ctrl-C where the pipeline runs (JupyterLab's interrupt, or a script): the stage records
    `aborted`, the stack goes, the report shows it."""
    script = (
        "import sys\nfrom workbench.params import validate_run\nfrom workbench import Benchmark\n"
        "p = validate_run({'duration': 120, 'recordcount': 200, 'results_dir': sys.argv[1], "
        "'run_id': 'inproc'})\nBenchmark(p).execute()\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        wait_for_stage(tmp_path / "inproc", "run", proc)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0 and "KeyboardInterrupt" in out
    rd = RunDir(tmp_path / "inproc")
    assert_failure_recorded(rd, "aborted", "interrupted")
    assert [s.status for s in rd.stages() if s.name == "run"] == ["aborted"]
    assert rd.record.teardown_s is not None
    assert_nothing_left(rd)

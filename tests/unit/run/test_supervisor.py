"""The supervisor with a fake kernel (executor): the record handed over and taken back, salvage
after a dead kernel, interrupts, exit codes. No papermill, no Docker."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from workbench.artifacts import RunDir
from workbench.params import validate_run
from workbench.run import supervisor


class DeadKernelError(RuntimeError):
    """What nbclient raises when the kernel dies (no `ename`: not a cell's own error)."""


class CellError(Exception):
    ename = "CheckFailed"
    evalue = "1 check(s) did not pass:\n  - counts_agree"


@pytest.fixture
def quiet_world(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """No stack, no report rendering: record what salvage and conclude would do."""
    seen: dict[str, Any] = {"downs": [], "renders": 0}

    class FakeStack:
        def __init__(self, *a: Any, **kw: Any) -> None:
            self.project, self.ports = "wb-etcd-fake", {"WB_PROM_PORT": 1}

        @classmethod
        def attach(cls, manifest: Any, project: str) -> FakeStack:
            st = cls()
            st.project = project
            return st

        def prestart(self) -> None:
            seen["prestarted"] = self.project

        def capture_logs(self, dest: Path) -> list[Path]:
            return []

        def down(self) -> None:
            seen["downs"].append(self.project)

    def render(path: Path) -> Path:
        seen["renders"] += 1
        return path / "report.html"

    monkeypatch.setattr(supervisor, "Stack", FakeStack)
    monkeypatch.setattr(supervisor.report, "render", render)
    monkeypatch.setattr(supervisor.report, "render_index", render)
    return seen


def _params(tmp_path: Path, **kw: Any) -> Any:
    return validate_run({"subject": "etcd", "results_dir": str(tmp_path), **kw})


def _kernel_that_finishes(status: str) -> supervisor.Executor:
    def execute(parameters: dict[str, Any], run_dir: Path) -> None:
        rd = RunDir.open_handoff(parameters["results_dir"], parameters["run_id"])
        assert rd is not None and rd.path == run_dir
        rd.finish(status)

    return execute


@pytest.mark.parametrize(
    ("status", "code"), [("passed", 0), ("failed", 1), ("unknown", 2), ("error", 3)]
)
def test_the_kernel_finishes_the_record_and_the_status_is_the_exit_code(
    tmp_path: Path, quiet_world: dict[str, Any], status: str, code: int
) -> None:
    got = supervisor.run(_params(tmp_path), quiet=True, execute=_kernel_that_finishes(status))
    assert got == code
    (run_dir,) = tmp_path.iterdir()
    rd = RunDir(run_dir)
    assert rd.status == status and rd.record.prestart is not None
    assert quiet_world["prestarted"] == rd.record.project
    assert quiet_world["downs"] == []  # the kernel's own conductor tore it down


def test_a_dead_kernel_is_salvaged_from_outside(
    tmp_path: Path, quiet_world: dict[str, Any]
) -> None:
    def dies(parameters: dict[str, Any], run_dir: Path) -> None:
        raise DeadKernelError("Kernel died")

    assert supervisor.run(_params(tmp_path), quiet=True, execute=dies) == 3
    (run_dir,) = tmp_path.iterdir()
    rd = RunDir(run_dir)
    assert rd.status == "error" and "DeadKernelError: Kernel died" in (rd.record.error or "")
    assert quiet_world["downs"] == [rd.record.project]  # the prestarted stack is removed


def test_a_kernel_that_ends_with_the_record_open_is_an_error_never_passed(
    tmp_path: Path, quiet_world: dict[str, Any]
) -> None:
    assert supervisor.run(_params(tmp_path), quiet=True, execute=lambda p, d: None) == 3
    (run_dir,) = tmp_path.iterdir()
    assert "without finishing" in (RunDir(run_dir).record.error or "")


def test_a_cell_error_after_the_record_was_finished_keeps_that_status(
    tmp_path: Path, quiet_world: dict[str, Any]
) -> None:
    def fails_after_saving(parameters: dict[str, Any], run_dir: Path) -> None:
        _kernel_that_finishes("failed")(parameters, run_dir)
        raise CellError()

    assert supervisor.run(_params(tmp_path), quiet=True, execute=fails_after_saving) == 1
    assert quiet_world["downs"] == []


def test_an_interrupt_here_is_aborted_and_torn_down(
    tmp_path: Path, quiet_world: dict[str, Any]
) -> None:
    def interrupted(parameters: dict[str, Any], run_dir: Path) -> None:
        raise KeyboardInterrupt("SIGTERM")

    assert supervisor.run(_params(tmp_path), quiet=True, execute=interrupted) == 130
    (run_dir,) = tmp_path.iterdir()
    rd = RunDir(run_dir)
    assert rd.status == "aborted" and "SIGTERM" in (rd.record.error or "")
    assert quiet_world["downs"] == [rd.record.project]


def test_the_first_signal_goes_to_the_kernel_the_second_interrupts_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[tuple[int, int]] = []
    monkeypatch.setattr(supervisor.os, "kill", lambda pid, sig: sent.append((pid, sig)))
    handler = supervisor.Interrupts(kernels=lambda: [4242])
    handler(signal.SIGTERM, None)
    assert sent == [(4242, signal.SIGINT)]
    with pytest.raises(KeyboardInterrupt, match="SIGINT"):
        handler(signal.SIGINT, None)
    assert sent == [(4242, signal.SIGINT)]
    with pytest.raises(KeyboardInterrupt, match="SIGTERM"):  # no kernel: interrupt at once
        supervisor.Interrupts(kernels=list)(signal.SIGTERM, None)


def test_an_existing_run_id_is_refused_before_anything_starts(
    tmp_path: Path, quiet_world: dict[str, Any]
) -> None:
    from workbench.errors import ConfigError

    RunDir.create(tmp_path, "taken", "etcd", {})
    with pytest.raises(ConfigError, match="exists already"):
        supervisor.run(_params(tmp_path, run_id="taken"), quiet=True, execute=lambda p, d: None)
    assert "prestarted" not in quiet_world


def test_the_kernels_progress_events_reach_the_user_none_dropped(
    tmp_path: Path, quiet_world: dict[str, Any]
) -> None:
    """Every event the kernel appends is printed by the supervisor, whatever its text: a
    failed report rendering matched no pattern of the old log scraping and was lost."""
    texts = [
        ("stage_start", "[r] stage finish ..."),
        ("warning", "report rendering failed: OSError: [Errno 28] No space left on device"),
        ("result", "  post counts_agree         PASS     client 10 vs server 10 ops"),
        ("error", "something new the supervisor has never seen"),
    ]

    def kernel(parameters: dict[str, Any], run_dir: Path) -> None:
        rd = RunDir.open_handoff(parameters["results_dir"], parameters["run_id"])
        assert rd is not None
        for kind, text in texts:
            rd.progress.emit(kind, text)  # type: ignore[arg-type]
        rd.finish("passed")

    params, _manifest, rd = supervisor.prepare(_params(tmp_path))
    shown: list[str] = []
    supervisor.supervise(
        {**params.to_dict()}, rd.path, quiet=False, execute=kernel, out=shown.append
    )
    assert shown == [t for _, t in texts]
    quiet: list[str] = []

    def another(parameters: dict[str, Any], run_dir: Path) -> None:
        RunDir(run_dir).progress.emit("warning", "shown only without --quiet")

    supervisor.supervise({}, rd.path, quiet=True, execute=another, out=quiet.append)
    assert quiet == []


def test_a_half_written_or_foreign_line_is_kept_not_dropped(tmp_path: Path) -> None:
    log = RunDir.create(tmp_path, "r1", "etcd", {}).progress
    log.emit("info", "stack healthy in 3.0s")
    with open(log.path, "a", encoding="utf-8") as fh:
        fh.write('not json at all\n{"t": 1.0, "kind": "result", "te')
    got = log.read()
    assert [(e.kind, e.text) for e in got] == [
        ("info", "stack healthy in 3.0s"),
        ("warning", "not json at all"),
    ]
    with open(log.path, "a", encoding="utf-8") as fh:
        fh.write('xt": "  run: TOTAL done"}\n')
    assert [(e.kind, e.text) for e in log.read()] == [("result", "  run: TOTAL done")]

"""Issue 11, one test per item the lead fixed (each failed on the previous main): exit codes,
existing run ids, `down` refusing stacks in use, unknown never shown as error, results folders,
a full disk, stale runs, and the smaller things. No Docker, no kernel."""

from __future__ import annotations

import errno
import json
import os
import signal
import stat
from pathlib import Path
from typing import Any

import pytest

from workbench import cli
from workbench.artifacts import RunDir, run_status
from workbench.artifacts import rundir as rundir_mod
from workbench.errors import ConfigError, StackError
from workbench.model import Verdict
from workbench.params import validate_run
from workbench.run import finishing, supervisor
from workbench.stack import compose


def _params(tmp_path: Path, **kw: Any) -> Any:
    return validate_run({"subject": "etcd", "results_dir": str(tmp_path), **kw})


@pytest.fixture
def no_stack(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    downs: list[str] = []

    class FakeStack:
        def __init__(self, *a: Any, **kw: Any) -> None:
            self.project, self.ports = "wb-etcd-fake", {}

        @classmethod
        def attach(cls, manifest: Any, project: str, **kw: Any) -> FakeStack:
            st = cls()
            st.project = project
            return st

        def prestart(self) -> None: ...

        def capture_logs(self, dest: Path) -> list[Path]:
            return []

        def down(self) -> None:
            downs.append(self.project)

    monkeypatch.setattr(supervisor, "Stack", FakeStack)
    monkeypatch.setattr(supervisor.report, "render", lambda p: Path(p) / "report.html")
    monkeypatch.setattr(supervisor.report, "render_index", lambda p: Path(p) / "index.html")
    return downs


# 3. exit codes stop a shell loop ---------------------------------------------------------------
def test_sigterm_during_a_run_exits_143_and_names_the_signal(
    tmp_path: Path, no_stack: list[str]
) -> None:
    def terminated(parameters: dict[str, Any], run_dir: Path) -> None:
        signal.raise_signal(signal.SIGTERM)  # no kernel to forward to: interrupts here

    code = supervisor.run(_params(tmp_path), quiet=True, execute=terminated)
    (run_dir,) = tmp_path.iterdir()
    rd = RunDir(run_dir)
    assert code == 143 and rd.status == "aborted" and rd.record.interrupted_by == "SIGTERM"
    assert "SIGTERM" in (rd.record.error or "") and "KeyboardInterrupt" not in (
        rd.record.error or ""
    )


@pytest.mark.parametrize(
    ("status", "signal_name", "code"),
    [
        ("passed", None, 0),
        ("failed", None, 1),
        ("unknown", None, 2),
        ("error", None, 3),
        ("aborted", "SIGINT", 130),
        ("aborted", "SIGTERM", 143),
        ("aborted", None, 130),
    ],
)
def test_every_final_status_has_its_exit_code(
    tmp_path: Path, status: str, signal_name: str | None, code: int
) -> None:
    rd = RunDir.create(tmp_path, "r", "etcd", {})
    rd.update(interrupted_by=signal_name)
    rd.finish(status)
    assert RunDir(rd.path).record.exit_code() == code


def test_input_errors_exit_3_never_a_verdict_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as bad_arg:  # argparse's own error
        cli.main(["run", "--threads", "many"])
    assert bad_arg.value.code == 3
    assert cli.main(["report", "/nonexistent/run"]) == 3  # a WorkbenchError
    err = capsys.readouterr().err
    assert "invalid int value" in err and "not a run directory" in err


# 5. unknown is unknown, with the reason ------------------------------------------------------------
def test_an_unknown_verdict_makes_the_run_unknown_with_its_reason() -> None:
    vs = [
        Verdict("counts_agree", "post", "pass", "ok"),
        Verdict("scrape_coverage", "post", "unknown", "etcd1 scraped 20% of the window"),
    ]
    assert run_status(vs) == "unknown"
    status, why = finishing.status(vs)
    assert (
        status == "unknown" and why == "scrape_coverage: unknown: etcd1 scraped 20% of the window"
    )


def test_the_console_says_which_checks_did_not_pass(
    tmp_path: Path, no_stack: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    def kernel(parameters: dict[str, Any], run_dir: Path) -> None:
        rd = RunDir.open_handoff(parameters["results_dir"], parameters["run_id"])
        assert rd is not None
        rd.save_verdicts([Verdict("counts_agree", "post", "fail", "client 10 vs server 9")])
        rd.finish("failed")

    assert supervisor.run(_params(tmp_path), execute=kernel) == 1
    assert "counts_agree fail: client 10 vs server 9" in capsys.readouterr().out


# 1. a run id that exists is refused ------------------------------------------------------------------
def test_an_existing_run_id_never_mixes_two_runs(tmp_path: Path) -> None:
    first = RunDir.create(tmp_path, "same", "etcd", {"duration": 5})
    first.finish("passed")
    before = (first.path / "run.json").read_text()
    with pytest.raises(ConfigError, match="exists already"):
        RunDir.create(tmp_path, "same", "etcd", {"duration": 9})
    assert (first.path / "run.json").read_text() == before


# 7. unwritable or full results folders ----------------------------------------------------------------
@pytest.mark.parametrize("where", ["/etc/hostname/x", "/dev/null", "/proc/x"])
def test_results_folders_that_cannot_hold_a_run_are_refused_clearly(where: str) -> None:
    with pytest.raises(ConfigError, match="results folder"):
        supervisor.check_results_dir(Path(where))


def test_a_results_folder_without_room_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="MiB free; a run needs at least"):
        supervisor.check_results_dir(tmp_path, min_free=2**62)


def test_a_full_disk_still_finishes_the_record_from_the_reserve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rd = RunDir.create(tmp_path, "r", "etcd", {})
    assert (rd.path / rundir_mod.RESERVE_NAME).stat().st_size == rundir_mod.RESERVE_BYTES
    real = rundir_mod.write_json
    calls = {"n": 0}

    def full_once(path: Path, obj: Any, mode: int = 0o644) -> Path:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, obj, mode)

    monkeypatch.setattr(rundir_mod, "write_json", full_once)
    rd.finish("error", error="OSError: [Errno 28] No space left on device")
    assert RunDir(rd.path).status == "error"  # written after the reserve was released
    assert not (rd.path / rundir_mod.RESERVE_NAME).exists()

    def always_full(path: Path, obj: Any, mode: int = 0o644) -> Path:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(rundir_mod, "write_json", always_full)
    with pytest.raises(OSError):  # no reserve left: the next failure is the real one
        rd.save()


# 2. and 8. `down` and stale runs ------------------------------------------------------------------
@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "stacks"
    monkeypatch.setattr(compose, "STACKS_DIR", d)
    return d


def test_owner_claims_tell_live_runs_stale_runs_and_stacks_started_by_hand(state_dir: Path) -> None:
    compose.claim("wb-etcd-live", os.getpid(), Path("/r/live"))
    compose.claim("wb-etcd-dead", 2**22 + 12345, Path("/r/dead"))  # no such pid
    compose.claim("wb-etcd-hand", 2**22 + 12346, None)
    assert compose.owner_alive(compose.owner("wb-etcd-live"))
    assert not compose.owner_alive(compose.owner("wb-etcd-dead"))
    assert compose.owner_alive(compose.owner("wb-etcd-hand"))  # never stale
    compose.claim("wb-etcd-dead", os.getpid(), Path("/r/dead"))  # the kernel adopting it
    assert compose.owner("wb-etcd-dead")["pids"][-1] == os.getpid()  # type: ignore[index]
    compose.forget("wb-etcd-dead")
    assert compose.owner("wb-etcd-dead") is None


def test_down_refuses_a_live_runs_stack_and_several_stacks(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import workbench.stack as stack_pkg

    running = {"wb-etcd-aaaa": [], "wb-etcd-bbbb": []}
    monkeypatch.setattr(stack_pkg, "running_projects", lambda prefix: dict(running))
    # what the engine says of projects without state files here: none recorded, nothing published
    monkeypatch.setattr(compose, "recorded_env_file", lambda project: None)
    monkeypatch.setattr(compose, "published_ports", lambda manifest, project: {})
    compose.claim("wb-etcd-aaaa", os.getpid(), Path("/results/run-1"))
    with pytest.raises(
        StackError, match=r"in use by a live workbench run: wb-etcd-aaaa \(run /results/run-1\)"
    ):
        cli.stack_cmds.cmd_down(_down_args())
    compose.forget("wb-etcd-aaaa")
    with pytest.raises(StackError, match="2 etcd stacks are up: wb-etcd-aaaa, wb-etcd-bbbb"):
        cli.stack_cmds.cmd_down(_down_args())


def _down_args(**kw: Any) -> Any:
    import argparse

    base = {
        "subject": "etcd",
        "project": None,
        "logs": None,
        "stale": False,
        "all": False,
        "force": False,
    }
    return argparse.Namespace(**{**base, **kw})


def test_down_stale_closes_an_abandoned_run_and_removes_its_stack(
    tmp_path: Path, state_dir: Path, no_stack: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rd = RunDir.create(tmp_path / "results", "killed", "etcd", {"subject": "etcd"}, handoff=True)
    rd.update(project="wb-etcd-dead1")
    compose.claim("wb-etcd-dead1", 2**22 + 777, rd.path)  # its CLI and kernel are gone
    compose.claim("wb-etcd-live1", os.getpid(), tmp_path / "other")
    up = {"wb-etcd-dead1": [], "wb-etcd-live1": []}
    # a stack that was taken down is no longer running
    monkeypatch.setattr(
        supervisor,
        "running_projects",
        lambda prefix: {p: v for p, v in up.items() if p not in no_stack},
    )

    lines = supervisor.reap_stale(supervisor.load_manifest("etcd"), progress=lambda m: None)
    assert [ln.split(":")[0] for ln in lines] == ["wb-etcd-dead1"]
    assert no_stack == ["wb-etcd-dead1"]  # salvage tore it down; the live run's stack stays
    again = RunDir(rd.path)
    assert again.status == "aborted" and "abandoned" in (again.record.error or "")


# 10. smaller things ---------------------------------------------------------------------------------
def test_run_json_is_world_readable_like_every_other_artifact(tmp_path: Path) -> None:
    rd = RunDir.create(tmp_path, "r", "etcd", {})
    assert stat.S_IMODE((rd.path / "run.json").stat().st_mode) == 0o644


def test_ycsb_parse_of_nothing_recognised_is_an_error(tmp_path: Path) -> None:
    f = tmp_path / "notes.txt"
    f.write_text("hello\nthis is not YCSB output\n")
    assert cli.main(["ycsb", "parse", str(f)]) == 3


def test_lab_runs_as_root_on_loopback_with_a_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(cli.run_cmds, "serve", lambda argv, cwd: seen.append(argv) or 0)
    monkeypatch.setattr(cli.run_cmds.os, "geteuid", lambda: 0)
    assert cli.main(["lab", "--port", "18888"]) == 0
    (argv,) = seen
    assert "--allow-root" in argv and "--ServerApp.ip=127.0.0.1" in argv
    token = next(a for a in argv if a.startswith("--IdentityProvider.token=")).split("=", 1)[1]
    assert (
        len(token) >= 32 and f"http://127.0.0.1:18888/lab?token={token}" in capsys.readouterr().out
    )


def test_verify_without_a_stack_leaves_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import workbench.stack as stack_pkg

    monkeypatch.setattr(stack_pkg, "running_projects", lambda prefix: {})
    monkeypatch.chdir(tmp_path)
    assert cli.main(["verify", "--subject", "etcd"]) == 3
    assert not (tmp_path / "results").exists()


def test_headline_of_a_load_only_run_has_no_invented_zero(tmp_path: Path) -> None:
    from workbench.artifacts.record import Summary

    line = supervisor.headline("passed", Summary(), tmp_path / "report.html")
    assert line.startswith("passed: —, service-time p99 —;") and "0.0" not in line
    assert json.loads(json.dumps({"ok": True}))  # the helper imports stay used

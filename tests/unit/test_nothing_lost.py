"""Nothing left behind (issue 24): no scratch file after a failed write or a finished run."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pytest

from workbench import report
from workbench.artifacts import RunDir
from workbench.artifacts.rundir import RESERVE_NAME
from workbench.jsonio import replace_atomically


def _full_disk(self: Path, data: bytes) -> int:
    with open(self, "wb") as fh:  # half of it made it to the disk
        fh.write(data[: len(data) // 2])
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_figure_written_on_a_full_disk_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rd = RunDir.create(tmp_path, "r", "etcd", {})
    rd.release_reserve()  # nothing left to give back: the error reaches the caller
    monkeypatch.setattr(Path, "write_bytes", _full_disk)
    with pytest.raises(OSError, match="No space"):
        rd.save_png("resources", b"\x89PNG" * 100)
    assert list((rd.path / "figures").iterdir()) == []


def test_replace_atomically_keeps_the_old_file_when_the_write_fails(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("old")

    def fails(tmp: Path) -> None:
        tmp.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        replace_atomically(target, fails)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_the_reserve_goes_once_a_run_is_over_however_it_ended(
    tmp_path: Path, fixed_png: Any
) -> None:
    live = RunDir.create(tmp_path, "live", "etcd", {})  # running, its process (this one) alive
    killed = RunDir.create(tmp_path, "killed", "etcd", {})
    killed.update(pid=2**22 + 4321)  # its process is gone: abandoned
    done = RunDir.create(tmp_path, "done", "etcd", {})
    done.finish("passed")
    report.render(done.path)
    assert not (done.path / RESERVE_NAME).exists()
    report.render_index(tmp_path)  # after any run: the killed run's reserve is swept
    assert not (killed.path / RESERVE_NAME).exists()
    assert (live.path / RESERVE_NAME).stat().st_size == 2 * 1024 * 1024

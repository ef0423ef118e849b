"""The run's hold on its stack: open it (new, adopted from the supervisor's prestart, or attached
to a running project), record where it is, and take it down once: now, or in a thread while the
figures are drawn. The conductor calls these; the `Stack` itself lives in `workbench.stack`."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

from workbench.artifacts import RunDir
from workbench.artifacts.record import Prestart, StackUp, Teardown
from workbench.errors import StackError, WorkbenchError
from workbench.manifest import Manifest
from workbench.stack import Stack

Progress = Callable[[str], None]
ATTACH_HEALTH_S = 30.0  # an attached stack must be healthy again within this before a run


def _safe(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception:  # best effort: missing stays missing
        return None


class StackControl:
    def __init__(
        self,
        manifest: Manifest,
        rd: RunDir,
        progress: Progress,
        *,
        project: str = "",
        keep: bool = False,
    ) -> None:
        self.manifest, self.rd, self.progress = manifest, rd, progress
        self.attach_to = project
        self.keep = keep
        self.stack: Stack | None = None
        self.healthy_at: float | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._span: tuple[float, float] | None = None
        self._down_s: float | None = None

    def require(self) -> Stack:
        if self.stack is None:
            raise WorkbenchError("the stack is not up: call stack_up() first")
        return self.stack

    def open(self) -> Stack:
        """Bring the stack up, health-gated (or attach), and record project, ports and times."""
        begun = time.time()
        pre: Prestart | None = None
        if self.attach_to:
            st = Stack.attach(self.manifest, self.attach_to, progress=self.progress)
            self.rd.update(project=st.project, ports=st.ports, attached=True)
            if not st.services_health():
                raise StackError(f"no running containers in project {self.attach_to!r}")
            took = st.recheck(ATTACH_HEALTH_S)  # health gated again: it is not ours to trust
            self.progress(f"attached to {st.project}: healthy (re-checked in {took:.1f}s)")
            self.stack = st
        else:
            pre = self.rd.record.prestart
            if pre is not None:  # the supervisor began it while the kernel started
                st = Stack.adopt(self.manifest, pre.project, self.rd.path, progress=self.progress)
            else:
                st = Stack(self.manifest, run_dir=self.rd.path, progress=self.progress)
            self.rd.update(project=st.project, ports=st.ports)
            st.__enter__()  # on failure Stack tears itself down (logs captured) and raises
            self.rd.update(ports=st.ports)  # new ones when a chosen port was taken meanwhile
            self.stack = st
        self.healthy_at = time.time()
        started = pre.started_unix if pre is not None else begun
        up_s = self.healthy_at - started if pre is not None else st.timings.healthy_s
        self.rd.update(
            stack_up_s=up_s, stack_up=StackUp(started_unix=started, healthy_unix=self.healthy_at)
        )
        return st

    def down(self, force: bool = False) -> None:
        """Take the stack down now, or wait for the background teardown (and raise what it
        raised); record how long it took."""
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
            err, self._error = self._error, None
            if err is not None:
                raise err
        self._down_now(force)
        if self._span is not None and self.rd.record.teardown is None:
            t0, t1 = self._span
            self.rd.update(
                teardown_s=self._down_s,
                teardown=Teardown(started_unix=t0, ended_unix=t1, background=thread is not None),
            )

    def _down_now(self, force: bool = False) -> None:
        st, self.stack = self.stack, None
        if st is None:
            return
        if not st.owned or (self.keep and not force):  # attached or kept: a copy of its logs
            _safe(lambda: st.capture_logs(self.rd.logs_dir))
            if st.owned:
                self.progress(f"keeping stack {st.project} (workbench down --project {st.project})")
            return
        started = time.time()
        try:
            st.__exit__(None, None, None)
        finally:
            self._span = (started, time.time())
        self._down_s = st.timings.down_s

    def down_in_background(self) -> None:
        """Nothing needs the stack once the metrics are in: take it down (logs first) in a
        thread; `down()` waits for it. A kept or attached stack is left to `down()`."""
        st = self.stack
        if st is None or self._thread is not None or not st.owned or self.keep:
            return

        def work() -> None:
            try:
                self._down_now()
            except BaseException as exc:  # re-raised by down() in the caller's thread
                self._error = exc

        self._thread = threading.Thread(target=work, name="stack-down", daemon=False)
        self._thread.start()

    def image_ids(self) -> dict[str, str]:
        return (_safe(self.require().image_ids) or {}) if self.stack else {}

    def close_quietly(self) -> None:
        with contextlib.suppress(Exception):
            self.down(force=True)

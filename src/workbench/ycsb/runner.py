"""Build YCSB command lines and run them: live lines, a raw log, time bounds, evidence on failure.

The runner knows nothing about stacks: a caller that wants go-ycsb inside a Compose network passes
an argv prefix (``docker compose ... run --rm -T ycsb``, from ``Stack.run_argv``) and this module
appends the YCSB argv to it.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from workbench.errors import ConfigError, WorkloadError
from workbench.ycsb.parser import YcsbResult, parse

PHASES = ("load", "run")
NATIVE_MODULE = ("python", "-m", "workbench.ycsb.native")
# a time-bounded run counts its duration from the tool's start line; without one, from this long
# after the launch (a container's start-up on a busy host)
START_LINE_WAIT_S = 30.0


def _client_args(
    phase: str,
    db: str,
    workload_files: Sequence[str | os.PathLike[str]],
    properties: Mapping[str, object] | None,
    threads: int | None,
    target: int | None,
    interval: int | None,
    table: str | None,
) -> list[str]:
    if phase not in PHASES:
        raise ConfigError(f"YCSB phase must be one of {', '.join(PHASES)}, not {phase!r}")
    if not db:
        raise ConfigError("YCSB binding name (db) is empty")
    argv = [phase, db]
    for f in workload_files:
        argv += ["-P", os.fspath(f)]
    for key, value in (properties or {}).items():
        if not key or "=" in key:
            raise ConfigError(f"bad YCSB property name {key!r}")
        argv += ["-p", f"{key}={_prop_value(value)}"]
    if threads is not None:
        argv += ["--threads", str(int(threads))]
    if target is not None:
        argv += ["--target", str(int(target))]
    if interval is not None:
        argv += ["--interval", str(int(interval))]
    if table:
        argv += ["--table", table]
    return argv


def _prop_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def build_go_ycsb_argv(
    phase: str,
    db: str,
    *,
    workload_files: Sequence[str | os.PathLike[str]] = (),
    properties: Mapping[str, object] | None = None,
    threads: int | None = None,
    target: int | None = None,
    interval: int | None = None,
    table: str | None = None,
    executable: Sequence[str] = ("go-ycsb",),
) -> list[str]:
    """``go-ycsb load|run <db> -P f -p k=v --threads N --target T --interval S``.

    ``executable`` is what starts go-ycsb: ``("go-ycsb",)`` for a local binary, ``()`` when the
    caller's prefix already ends in a service whose entrypoint is go-ycsb (``pingcap/go-ycsb``),
    ``("/go-ycsb",)`` to name it inside such an image.
    """
    args = _client_args(phase, db, workload_files, properties, threads, target, interval, table)
    return [*executable, *args]


def build_native_argv(
    phase: str,
    db: str,
    *,
    workload_files: Sequence[str | os.PathLike[str]] = (),
    properties: Mapping[str, object] | None = None,
    threads: int | None = None,
    target: int | None = None,
    interval: int | None = None,
    table: str | None = None,
    executable: Sequence[str] | None = None,
    start_on_stdin: bool = False,
) -> list[str]:
    """The native generator with go-ycsb's command line (``start_on_stdin``: it waits for a
    line on stdin before the first operation; see ``run_ycsb(start_gate=...)``).

    Default executable: this interpreter with ``-m workbench.ycsb.native``; inside a container
    pass ``NATIVE_MODULE`` (``python -m workbench.ycsb.native``) or ``("workbench", "ycsb")``.
    """
    exe = list(executable) if executable is not None else [sys.executable, "-m", NATIVE_MODULE[2]]
    args = _client_args(phase, db, workload_files, properties, threads, target, interval, table)
    return [*exe, *args, *(["--start-on-stdin"] if start_on_stdin else [])]


@dataclass
class RunOutcome:
    """A finished YCSB process: its argv, exit code, full output and parsed result."""

    argv: list[str]
    returncode: int
    output: str
    result: YcsbResult
    log_path: Path | None
    interrupted: bool
    wall_seconds: float
    #: with a start gate: when the start line was written (Unix s), the tool's t=0
    released_at: float | None = None

    @property
    def command(self) -> str:
        return shlex.join(self.argv)


def run_ycsb(
    argv: Sequence[str],
    *,
    log_path: str | os.PathLike[str] | None = None,
    on_line: Callable[[str], None] | None = None,
    duration_s: float | None = None,
    grace_s: float = 30.0,
    timeout_s: float | None = None,
    interval_s: float | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    tail_lines: int = 40,
    interrupt_argv: Sequence[str] | None = None,
    kill_argv: Sequence[str] | None = None,
    start_gate: Callable[[], None] | None = None,
    duration_from: Callable[[], float | None] | None = None,
) -> RunOutcome:
    """Run a YCSB command (argv list, never a shell), streaming each output line as it comes.

    - ``on_line`` gets every line (stdout and stderr merged) live; ``log_path`` gets them too.
    - ``duration_s``: after that many seconds send SIGINT and keep reading, so the final block is
      still collected; if the process has not ended ``grace_s`` later it is killed. The seconds
      count from the launch, or with ``duration_from`` from the unix time it returns (the tool's
      own t=0, e.g. its start line: a container's start-up is no part of the run); while it
      returns None they count from ``START_LINE_WAIT_S`` after the launch.
    - ``timeout_s``: hard limit; the process is killed and ``WorkloadError`` raised.
    - A non-zero exit raises ``WorkloadError`` (argv, exit code, output tail), except after our
      own SIGINT when the final block was printed (some wrappers report 130 for that).
    - ``interrupt_argv`` / ``kill_argv``: commands that interrupt / remove the real YCSB process
      when it is not our child. Needed with ``docker compose run``: on SIGINT the Compose client
      exits 130 at once, does not forward the signal, and leaves the container running. Run it
      with ``--name N`` and pass ``workbench.docker.cli.kill(N, "INT")`` and
      ``workbench.docker.cli.rm(N)``.
    - ``start_gate``: for a tool started with ``--start-on-stdin`` (the native generator). It is
      called in a thread once the process runs; when it returns, a start line is written to the
      tool's stdin and the time kept as ``released_at``. If it raises, stdin is closed instead
      and the tool exits without an operation. The tool starts up meanwhile.
    """
    argv = [os.fspath(a) for a in argv]
    if not argv:
        raise ConfigError("empty YCSB argv")
    tail: deque[str] = deque(maxlen=tail_lines)
    lines: list[str] = []
    log: IO[str] | None = None
    if log_path is not None:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - closed in finally
    started = time.monotonic()
    try:
        try:
            proc = subprocess.Popen(
                argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL if start_gate is None else subprocess.PIPE,
                text=True,
                encoding="utf-8",
                errors="replace",
                bufsize=1,
                env=None if env is None else dict(env),
                cwd=cwd,
            )
        except OSError as exc:
            raise WorkloadError(argv, None, f"cannot start: {exc}") from exc

        def pump() -> None:
            assert proc.stdout is not None
            for raw in proc.stdout:
                line = raw.rstrip("\n")
                lines.append(line)
                tail.append(line)
                if log is not None:
                    log.write(line + "\n")
                    log.flush()
                if on_line is not None:
                    with contextlib.suppress(Exception):
                        on_line(line)

        reader = threading.Thread(target=pump, name="ycsb-output", daemon=True)
        reader.start()
        released: list[float] = []
        gate_error: list[BaseException] = []

        def release() -> None:
            assert proc.stdin is not None and start_gate is not None
            try:
                start_gate()
                released.append(time.time())
                proc.stdin.write("start\n")
                proc.stdin.flush()
            except BaseException as exc:  # BrokenPipe: the tool already ended
                gate_error.append(exc)
            finally:
                with contextlib.suppress(OSError):
                    proc.stdin.close()

        gate = None
        if start_gate is not None:
            gate = threading.Thread(target=release, name="ycsb-start-gate", daemon=True)
            gate.start()
        try:
            interrupted, killed = _supervise(
                proc, started, duration_s, grace_s, timeout_s, interrupt_argv, kill_argv,
                duration_from,
            )  # fmt: skip
        except BaseException:  # e.g. KeyboardInterrupt: do not leave the child running
            _kill(proc, kill_argv)
            raise
        finally:
            if gate is not None:
                gate.join(timeout=10)
            reader.join(timeout=10)
            if proc.stdout is not None and not reader.is_alive():
                proc.stdout.close()
        rc = proc.returncode
    finally:
        if log is not None:
            log.close()
    wall = time.monotonic() - started
    output = "\n".join(lines) + ("\n" if lines else "")
    result = parse(output, interval_s=interval_s)
    tail_text = "\n".join(tail)
    if killed == "timeout":
        raise WorkloadError(argv, rc, f"{tail_text}\ntimed out after {timeout_s}s")
    if killed == "grace":
        raise WorkloadError(
            argv, rc, f"{tail_text}\ndid not stop within {grace_s}s of SIGINT; killed"
        )
    if gate_error and not released and not isinstance(gate_error[0], OSError):
        # our own reason last: the error shows the last meaningful lines first
        raise WorkloadError(argv, rc, f"{tail_text}\nstart gate failed: {gate_error[0]!r}")
    if rc != 0 and not (interrupted and result.complete):
        raise WorkloadError(argv, rc, tail_text)
    return RunOutcome(
        argv=list(argv),
        returncode=rc,
        output=output,
        result=result,
        log_path=Path(log_path) if log_path is not None else None,
        interrupted=interrupted,
        wall_seconds=wall,
        released_at=released[0] if released else None,
    )


def _supervise(
    proc: subprocess.Popen[str],
    started: float,
    duration_s: float | None,
    grace_s: float,
    timeout_s: float | None,
    interrupt_argv: Sequence[str] | None = None,
    kill_argv: Sequence[str] | None = None,
    duration_from: Callable[[], float | None] | None = None,
) -> tuple[bool, str | None]:
    """Wait for ``proc``; SIGINT after the duration, kill after grace/timeout."""
    interrupted = False
    sigint_at: float | None = None

    def run_for(now: float) -> tuple[float, bool]:  # seconds of the duration gone by; t0 known
        t0 = duration_from() if duration_from is not None else None
        if t0 is not None:
            return time.time() - t0, True
        waited = START_LINE_WAIT_S if duration_from is not None else 0.0
        return max(0.0, now - started - waited), duration_from is None

    while True:
        now = time.monotonic()
        if timeout_s is not None and now - started >= timeout_s:
            _kill(proc, kill_argv)
            return interrupted, "timeout"
        gone, known = run_for(now)
        if duration_s is not None and not interrupted and gone >= duration_s:
            if interrupt_argv:
                _side_command(interrupt_argv)
            else:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGINT)
            interrupted = True
            sigint_at = now
        if sigint_at is not None and now - sigint_at >= grace_s:
            _kill(proc, kill_argv)
            return interrupted, "grace"
        waits = [0.5 if known else 0.05]  # the tool's start line is seen within 50 ms
        if duration_s is not None and not interrupted:
            waits.append(max(0.0, duration_s - gone))
        if timeout_s is not None:
            waits.append(max(0.0, started + timeout_s - now))
        try:
            proc.wait(timeout=max(0.01, min(waits)))
            return interrupted, None
        except subprocess.TimeoutExpired:
            continue


def _side_command(argv: Sequence[str]) -> None:
    """Best effort (the process may already be gone): interrupt or remove the real process."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(
            list(argv), stdin=subprocess.DEVNULL, capture_output=True, timeout=30, check=False
        )


def _kill(proc: subprocess.Popen[str], kill_argv: Sequence[str] | None = None) -> None:
    if kill_argv:
        _side_command(kill_argv)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)

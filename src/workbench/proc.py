"""Running external commands: argv lists only, logged with shlex.join, errors with evidence."""

from __future__ import annotations

import logging
import shlex
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from workbench.errors import CommandError

log = logging.getLogger("workbench")


def tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def run(
    argv: Sequence[str],
    *,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    input_text: str | None = None,
    cwd: Path | str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run argv, capture stdout+stderr as text; raise CommandError (argv, code, tail) on failure."""
    argv = [str(a) for a in argv]
    log.debug("run: %s", shlex.join(argv))
    try:
        proc = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=dict(env) if env is not None else None,
            input=input_text,
            cwd=cwd,
            check=False,
        )
    except FileNotFoundError as exc:
        raise CommandError(argv, None, f"executable not found: {argv[0]}") from exc
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        text = out.decode(errors="replace") if isinstance(out, bytes) else out
        raise CommandError(argv, None, f"timed out after {timeout}s\n{tail(text)}") from exc
    if check and proc.returncode != 0:
        raise CommandError(argv, proc.returncode, tail(proc.stdout + proc.stderr))
    return proc


def ok(argv: Sequence[str], timeout: float = 20) -> bool:
    """True when argv runs and exits 0 (used for cheap prerequisite probes)."""
    try:
        return run(argv, timeout=timeout, check=False).returncode == 0
    except CommandError:
        return False


def start(argv: Sequence[str]) -> subprocess.Popen[str]:
    """Start a long-running argv (a port-forward) with its output on one text pipe; the caller
    stops it."""
    argv = [str(a) for a in argv]
    log.debug("start: %s", shlex.join(argv))
    try:
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    except FileNotFoundError as exc:
        raise CommandError(argv, None, f"executable not found: {argv[0]}") from exc


def stream(
    argv: Sequence[str],
    *,
    log_path: Path,
    on_line: Callable[[str], None] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
) -> None:
    """Run argv, write every output line to log_path, call on_line for each; raise on failure."""
    argv = [str(a) for a in argv]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    last: list[str] = []
    with log_path.open("a") as fh:
        fh.write(f"$ {shlex.join(argv)}\n")
        with subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=dict(env) if env is not None else None,
            cwd=cwd,
        ) as proc:
            assert proc.stdout is not None
            try:
                for line in proc.stdout:
                    fh.write(line)
                    last.append(line.rstrip("\n"))
                    del last[:-40]
                    if on_line:
                        on_line(line.rstrip("\n"))
            except BaseException:
                proc.kill()
                raise
            rc = proc.wait()
    if rc != 0:
        raise CommandError(argv, rc, "\n".join(last))

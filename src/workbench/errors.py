"""One error tree for the whole workbench.

Every error carries the evidence a user needs to act on it (papermill/httpx habit): the file and
key of a bad manifest, the argv and output tail of a failed command, the query and response of a
failed Prometheus call.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence


class WorkbenchError(Exception):
    """Base of every error the workbench raises on purpose."""


class ConfigError(WorkbenchError):
    """Bad input: a manifest, a parameter, a workload file. Raised before anything starts."""


class ManifestError(ConfigError):
    """A subject manifest is unreadable or wrong; names the file and the key."""

    def __init__(self, path: object, key: str, message: str) -> None:
        self.path = str(path)
        self.key = key
        super().__init__(f"{self.path}: [{key}] {message}")


class ParameterError(ConfigError):
    """One or more run parameters are invalid; lists every problem at once."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid parameters ({len(self.problems)}):\n{lines}")


class PrerequisiteError(WorkbenchError):
    """Something the machine needs (engine, Compose, an image) is missing and cannot be made here."""


class CommandError(WorkbenchError):
    """An external command failed: holds argv, return code and the tail of its output."""

    def __init__(self, argv: Sequence[str], returncode: int | None, output_tail: str = "") -> None:
        self.argv = list(argv)
        self.returncode = returncode
        self.output_tail = output_tail
        msg = f"command failed (exit {returncode}): {shlex.join(self.argv)}"
        if output_tail:
            msg += "\n--- output tail ---\n" + output_tail
        super().__init__(msg)


class StackError(WorkbenchError):
    """A stack did not come up healthy, or could not be inspected or torn down."""


class UnhealthyStackError(StackError):
    """Health gating timed out; names the unhealthy services with their last log lines."""

    def __init__(
        self, unhealthy: dict[str, str], timeout_s: float, failed_after_s: float | None = None
    ) -> None:
        self.unhealthy = dict(unhealthy)
        self.timeout_s = timeout_s
        when = (  # `compose up` that failed early is not a timeout
            f"stack up failed after {failed_after_s:.1f}s"
            if failed_after_s is not None
            else f"stack not healthy after {timeout_s:.0f}s"
        )
        parts = [f"{when}; unhealthy: {', '.join(unhealthy)}"]
        for name, tail in unhealthy.items():
            parts.append(f"--- {name} (last log lines) ---\n{tail}")
        super().__init__("\n".join(parts))


class PortConflictError(StackError):
    """A host port chosen free was bound by another process before Compose could publish it."""

    def __init__(self, address: str, after_s: float, output_tail: str) -> None:
        self.address = address
        self.after_s = after_s
        super().__init__(
            f"stack up failed after {after_s:.1f}s: host port {address} was taken by another "
            f"process between choosing it and publishing it (bind: address already in use)\n"
            f"{output_tail}"
        )


class WorkloadError(CommandError):
    """A YCSB load or run phase failed. Its text puts the reason first: the last meaningful lines
    of the tool's output (Compose's progress lines left out), then the argv, shortened."""

    REASON_LINES = 6
    ARGV_CHARS = 160

    def __str__(self) -> str:
        reason = reason_lines(self.output_tail, self.REASON_LINES)
        argv = shlex.join(self.argv)
        if len(argv) > self.ARGV_CHARS:
            argv = argv[: self.ARGV_CHARS - 3] + "..."
        head = f"command failed (exit {self.returncode})"
        if not reason:
            return f"{head}: {argv}"
        return "\n".join(
            [f"{head}: {reason[0]}", *(f"  {r}" for r in reason[1:]), f"  argv: {argv}"]
        )


_ANSI = r"\x1b\[[0-9;?]*[A-Za-z]"
_PROGRESS = (
    r"^(\[\+\]|[✔✘⠿⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]|"
    r"(Container|Network|Volume|Image|Service)\s+\S+\s+"
    r"(Creat|Start|Run|Stop|Remov|Wait|Health|Recreat|Pull|Built|Build|Exit))"
)


def reason_lines(output: str, n: int) -> list[str]:
    """The last `n` non-empty lines of a tool's output that are not Compose progress lines
    (`[+] Running 3/3`, `Container x  Started`, spinner glyphs), in order, colour codes removed."""
    keep = []
    for raw in output.splitlines():
        line = re.sub(_ANSI, "", raw).strip()
        if line and not re.match(_PROGRESS, line) and not line.startswith("--- "):
            keep.append(line)
    return keep[-n:]


class QueryError(WorkbenchError):
    """A Prometheus (or other HTTP API) request failed; holds the query and the response."""

    def __init__(self, message: str, query: str = "", response: str = "") -> None:
        self.query = query
        self.response = response
        text = message
        if query:
            text += f"\nquery: {query}"
        if response:
            text += f"\nresponse: {response[:2000]}"
        super().__init__(text)


class ClusterError(QueryError):
    """A cluster's own API (etcd, PD) failed. `error_class` sorts the cause, one word a table can
    count: `timeout` (no answer within the deadline), `refused` (nothing listens: a killed member),
    `transport` (another connection error), `http` (an answer that is not 200), `server` (a 200
    that carries etcd's `{"error", "code"}`, e.g. "etcdserver: no leader"), `unreadable` (an answer
    whose shape cannot be read). Translated once, in workbench.cluster.http."""

    error_class = "transport"

    def __init__(self, message: str, query: str = "", response: str = "") -> None:
        super().__init__(message, query=query, response=response)


class ClusterUnreachable(ClusterError):
    """No answer: timeout, refused or another transport error (`error_class` says which)."""

    def __init__(self, message: str, error_class: str, query: str = "") -> None:
        super().__init__(message, query=query)
        self.error_class = error_class


class ClusterAnswerError(ClusterError):
    """The cluster answered, but with an error: an HTTP status (`http`) or an error body (`server`)."""

    def __init__(
        self, message: str, error_class: str, status: int, query: str = "", response: str = ""
    ) -> None:
        super().__init__(message, query=query, response=response)
        self.error_class, self.status = error_class, status


class ClusterUnreadable(ClusterError):
    """The cluster answered 200 with a body whose shape cannot be read."""

    error_class = "unreadable"


class CheckFailed(WorkbenchError):
    """Raised (separately from checking) when verdicts include failures."""


def connection_refused(exc: BaseException) -> bool:
    """A transport error whose cause is a refused TCP connection (nothing listens there)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError) or "connection refused" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False

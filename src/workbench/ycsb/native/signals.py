"""SIGINT/SIGTERM handling of a native run, as go-ycsb's: the first stops and prints, a second exits."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, Protocol


class Stoppable(Protocol):
    def request_stop(self, reason: str = ...) -> None: ...


def _stdout_write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


@contextlib.contextmanager
def sigint_stops(client: Stoppable, write: Callable[[str], None] = _stdout_write) -> Iterator[None]:
    """Like go-ycsb: first SIGINT/SIGTERM finishes the run and prints; a second exits with 1."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    seen: list[int] = []

    def handler(signum: int, frame: Any) -> None:
        name = "interrupt" if signum == signal.SIGINT else "terminated"
        if seen:
            write(f"\nGot signal [{name}] again to exit.\n")
            os._exit(1)
        seen.append(signum)
        write(f"\nGot signal [{name}] to exit.\n")
        client.request_stop(f"signal {name}")

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)

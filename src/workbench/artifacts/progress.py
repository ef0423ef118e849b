"""A run's progress as typed events, one JSON line each in `progress.jsonl` of its directory.

    {"t": 1764756000.1, "kind": "stage_start", "text": "[run-id] stage load ..."}

The conductor (inside the notebook's kernel, or in-process) appends an event for each stage's
start and end, each verdict and phase total (`result`), each thing that went wrong without
stopping the run (`warning`) or that did (`error`), and the stack's own lines (`info`). The
supervisor follows the file (`ProgressLog.follow`) and prints every event's text as it comes:
nothing is matched back out of a notebook's log, so nothing is dropped. Appends are one
`write` of a whole line to a file opened for appending; a reader only takes complete lines.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from workbench.waiting import wait_until

PROGRESS_FILE = "progress.jsonl"
EventKind = Literal["stage_start", "stage_end", "result", "warning", "error", "info"]
FOLLOW_EVERY_S = 0.2


class ProgressEvent(BaseModel):
    """One line of a run's progress: when (unix s), what kind, the text a user reads."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    t: float
    kind: EventKind
    text: str


class ProgressLog:
    """The events of one run directory: `emit` appends, `read` takes what is new since the
    last read (complete lines only), `follow` hands each new event to a callback until stopped."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._offset = 0
        self._lock = threading.Lock()

    def emit(self, kind: EventKind, text: str) -> ProgressEvent:
        event = ProgressEvent(t=time.time(), kind=kind, text=text)
        line = event.model_dump_json() + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line)
        return event

    def read(self) -> list[ProgressEvent]:
        """The events appended since the last read; a line that is not an event is kept as
        a `warning` with its text, never dropped."""
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self._offset)
                data = fh.read()
        except FileNotFoundError:
            return []
        done = data.rfind(b"\n") + 1  # a line still being written is read next time
        self._offset += done
        out = []
        for raw in data[:done].decode("utf-8", errors="replace").splitlines():
            if raw.strip():
                out.append(parse_event(raw))
        return out

    def follow(
        self,
        on_event: Callable[[ProgressEvent], None],
        stop: threading.Event,
        every: float = FOLLOW_EVERY_S,
    ) -> None:
        """Hand every event to `on_event` until `stop` is set, then the last ones."""

        def pump() -> bool:
            for event in self.read():
                on_event(event)
            return False

        wait_until(pump, timeout=float("inf"), every=every, stop=stop)
        pump()

    def events(self) -> list[ProgressEvent]:
        """Every event of the file, from its start (the reading position is not moved)."""
        return ProgressLog(self.path).read()


def parse_event(line: str) -> ProgressEvent:
    try:
        return ProgressEvent.model_validate(json.loads(line))
    except (ValueError, ValidationError):
        return ProgressEvent(t=time.time(), kind="warning", text=line.rstrip())

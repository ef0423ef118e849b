"""`EventRecorder`: a compose project's container events, recorded on a background thread.

Between `start()` and `stop()` a daemon thread follows the engine's event stream (filtered by
the project's label and the lifecycle actions); when the stream is quiet for `quiet_s` it
reconnects from the last event seen, so the thread notices `stop()` within that time. `stop()`
then asks once more for everything up to now (the engine ends that answer itself), so an event
just before the stop is not lost; deliveries seen twice count once. Nothing raises into the run:
without an engine, or when the stream fails, `error` says why and the events seen so far stand.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Protocol

from workbench.docker.engine import Engine
from workbench.docker.events import LIFECYCLE, Event, event_filters


class EventSource(Protocol):
    def events(
        self,
        *,
        since_ns: int | None = None,
        until_ns: int | None = None,
        filters: dict[str, list[str]] | None = None,
        read_timeout: float | None = None,
    ) -> Iterable[Event]: ...

    def close(self) -> None: ...


class EventRecorder:
    def __init__(
        self,
        project: str | None,
        *,
        actions: Iterable[str] | None = LIFECYCLE,
        engine: Callable[[], EventSource] = Engine.connect,
        clock: Callable[[], float] = time.time,
        quiet_s: float = 1.0,
        retry_s: float = 1.0,
    ) -> None:
        self.filters = event_filters(project, actions=actions)
        self._make_engine, self._clock = engine, clock
        self.quiet_s, self.retry_s = quiet_s, retry_s
        self.error: str | None = None
        self._engine: EventSource | None = None
        self._seen: dict[tuple[int, str, str, str | None], Event] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._since_ns = 0
        self._thread = threading.Thread(target=self._loop, name="docker-events", daemon=True)

    def _now_ns(self) -> int:
        return int(self._clock() * 1e9)

    def start(self) -> EventRecorder:
        """Begin recording from now; without an engine, record nothing (see `error`)."""
        self._since_ns = self._now_ns()
        try:
            self._engine = self._make_engine()
        except Exception as exc:
            self.error = f"engine not reachable: {exc}"
            return self
        self._thread.start()
        return self

    def __enter__(self) -> EventRecorder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def events(self) -> list[Event]:
        """The events seen so far, by time."""
        with self._lock:
            return sorted(self._seen.values(), key=lambda e: e.time_ns)

    def _add(self, event: Event) -> None:
        with self._lock:
            self._seen.setdefault(event.key, event)

    def _resume_ns(self) -> int:
        with self._lock:
            return max((k[0] for k in self._seen), default=self._since_ns)

    def _loop(self) -> None:
        assert self._engine is not None
        while not self._stop.is_set():
            try:
                stream = self._engine.events(
                    since_ns=self._resume_ns(), filters=self.filters, read_timeout=self.quiet_s
                )
                for event in stream:
                    self._add(event)
                    if self._stop.is_set():
                        break
            except Exception as exc:
                self.error = f"event stream failed: {exc}"
                self._stop.wait(self.retry_s)

    def stop(self) -> list[Event]:
        """End recording with a last bounded query up to now; the events seen, by time. A second
        call returns the same list."""
        if self._stop.is_set():
            return self.events
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.quiet_s + 10)
        if self._engine is not None:
            try:
                for event in self._engine.events(
                    since_ns=self._resume_ns(), until_ns=self._now_ns(), filters=self.filters
                ):
                    self._add(event)
            except Exception as exc:
                self.error = f"last event query failed: {exc}"
            try:
                self._engine.close()
            except Exception as exc:
                self.error = self.error or f"closing the engine client failed: {exc}"
        return self.events

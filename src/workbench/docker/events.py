"""The engine's event stream as typed events: a pure parser (no I/O) and the query's filters.

`GET /events` answers one JSON object per line; a container's looks like (engine 20.10, API 1.41):

    {"status":"kill","id":"e345…","from":"debian:bookworm-slim","Type":"container",
     "Action":"kill","Actor":{"ID":"e345…","Attributes":{"com.docker.compose.project":"wb-x",
     "com.docker.compose.service":"etcd0","image":"debian:bookworm-slim",
     "name":"wb-x-etcd0-1","signal":"9"}},"scope":"local","time":1796293008,
     "timeNano":1796293008286479920}

`die` carries `exitCode`, `kill` its `signal` (a number); `health_status: healthy` and
`exec_start: /bin/sh -c true` put a detail after the colon. Engines before API 1.22 sent only
`status`, `id`, `from` and `time`: read as well. The recorded stream the tests read is
`tests/fakes/captured/docker/events-container-lifecycle.jsonl`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from workbench.docker.cli import PROJECT_LABEL, SERVICE_LABEL

# What a container goes through (the `event` filter matches the part before a colon).
LIFECYCLE = (
    "create", "start", "restart", "pause", "unpause", "stop", "kill", "die", "oom", "destroy",
    "health_status",
)  # fmt: skip


@dataclass(frozen=True)
class Event:
    """One engine event. `time_ns` is the engine's `timeNano` (Unix nanoseconds); `action` the
    verb (`kill`, `die`, `health_status`, `exec_start`...), `detail` what followed its colon
    (`healthy`, the exec'd command) or None; `attributes` the actor's (labels included)."""

    time_ns: int
    action: str
    id: str
    type: str = "container"
    detail: str | None = None
    name: str | None = None
    service: str | None = None
    project: str | None = None
    image: str | None = None
    attributes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def time(self) -> float:
        """Unix seconds (a float: below a microsecond, read `time_ns`)."""
        return self.time_ns / 1e9

    @property
    def signal(self) -> int | None:
        """The signal number of a `kill` event."""
        return _int(self.attributes.get("signal"))

    @property
    def exit_code(self) -> int | None:
        """The exit code of a `die` (or `exec_die`) event."""
        return _int(self.attributes.get("exitCode"))

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (for a run file): every field, with `signal` and `exit_code`."""
        return {
            "time_ns": self.time_ns,
            "action": self.action,
            "detail": self.detail,
            "type": self.type,
            "id": self.id,
            "name": self.name,
            "service": self.service,
            "project": self.project,
            "image": self.image,
            "signal": self.signal,
            "exit_code": self.exit_code,
            "attributes": dict(self.attributes),
        }

    @property
    def key(self) -> tuple[int, str, str, str | None]:
        """What makes two deliveries of one event the same (a reconnect may repeat one)."""
        return (self.time_ns, self.id, self.action, self.detail)


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def parse_event(doc: Mapping[str, Any]) -> Event:
    """One decoded JSON object of the stream; ValueError when it is not an event."""
    actor = doc.get("Actor") or {}
    raw_attrs = actor.get("Attributes") or {}
    if not isinstance(actor, Mapping) or not isinstance(raw_attrs, Mapping):
        raise ValueError(f"event with a malformed Actor: {str(doc)[:200]}")
    attrs = {str(k): str(v) for k, v in raw_attrs.items()}
    verb = doc.get("Action") or doc.get("status")
    ident = actor.get("ID") or doc.get("id")
    if not isinstance(verb, str) or not verb or not isinstance(ident, str):
        raise ValueError(f"event without an action or an id: {str(doc)[:200]}")
    if isinstance(doc.get("timeNano"), int):
        time_ns = int(doc["timeNano"])
    elif isinstance(doc.get("time"), int | float):
        time_ns = int(doc["time"]) * 1_000_000_000
    else:
        raise ValueError(f"event without a time: {str(doc)[:200]}")
    action, colon, detail = verb.partition(":")
    return Event(
        time_ns=time_ns,
        action=action.strip(),
        id=ident,
        type=str(doc.get("Type") or "container"),
        detail=detail.strip() if colon else None,
        name=attrs.get("name"),
        service=attrs.get(SERVICE_LABEL),
        project=attrs.get(PROJECT_LABEL),
        image=attrs.get("image") or doc.get("from"),
        attributes=MappingProxyType(attrs),
    )


def parse_line(line: str) -> Event | None:
    """One line of the stream; None for a blank line (ValueError for anything else unreadable)."""
    if not line.strip():
        return None
    doc = json.loads(line)
    if not isinstance(doc, dict):
        raise ValueError(f"event line is not an object: {line[:200]!r}")
    return parse_event(doc)


def parse_lines(lines: Iterable[str]) -> list[Event]:
    """Every event of a recorded stream, in its order."""
    return [e for e in map(parse_line, lines) if e is not None]


def event_filters(
    project: str | None = None,
    *,
    type: str = "container",
    actions: Iterable[str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> dict[str, list[str]]:
    """The `filters` of `GET /events`: a compose project's containers, maybe only some actions."""
    all_labels = {**({PROJECT_LABEL: project} if project is not None else {}), **(labels or {})}
    out: dict[str, list[str]] = {"type": [type]}
    if all_labels:
        out["label"] = [f"{k}={v}" for k, v in all_labels.items()]
    if actions is not None:
        out["event"] = list(actions)
    return out


def ns_param(time_ns: int) -> str:
    """A `since`/`until` value with nanoseconds (`seconds.nanoseconds`, what the engine reads)."""
    return f"{time_ns // 1_000_000_000}.{time_ns % 1_000_000_000:09d}"

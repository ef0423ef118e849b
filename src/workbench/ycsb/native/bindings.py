"""Database bindings of the native generator, in a registry that names the valid choices.

A binding is created once per run from the properties (``Binding(props)``), validates its own
properties into ``props.problems``, and opens one ``Session`` per worker thread. A session
method raises ``NotFound`` when the record does not exist (counted as ``<OP>_NOTFOUND``, apart
from successes and errors) and any other exception to report a failed operation (``<OP>_ERROR``).
``error_class(exc)`` sorts a failed operation's exception into ``timeout`` (the binding's
per-operation timeout, e.g. ``etcd.timeout``, ran out), ``connection_refused`` (nothing listens:
a killed member), ``server_error`` (the server answered with an error) or ``other``.

A binding may say its per-request timeout (``default_deadline_s``, the default of the request
policy's ``request.deadline``, `native.policy`), and a session may take an operation's deadline
(``set_deadline(perf_counter_ns)``, 0: none) to bound each attempt by what is left of it. A
binding whose calls block on sockets says ``blocking_io = True`` (its process switches threads
less often, `worker.IO_SWITCH_INTERVAL_S`).
"""

from __future__ import annotations

import random
import socket
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from workbench.errors import ConfigError
from workbench.params.ycsbprops import ERROR_CLASSES
from workbench.ycsb.native.props import Props

Record = Mapping[str, bytes]


class NotFound(Exception):
    """The operation's record (or, for a scan, any record from the start key) does not exist."""


class Session(Protocol):
    """One worker thread's connection to the database."""

    def read(self, table: str, key: str, fields: Sequence[str] | None) -> dict[str, bytes]: ...

    def scan(
        self, table: str, start_key: str, count: int, fields: Sequence[str] | None
    ) -> list[dict[str, bytes]]: ...

    def update(self, table: str, key: str, values: Record) -> None: ...

    def insert(self, table: str, key: str, values: Record) -> None: ...

    def delete(self, table: str, key: str) -> None: ...

    def close(self) -> None: ...


class Binding(Protocol):
    def session(self, thread_id: int) -> Session: ...

    def close(self) -> None: ...


BindingFactory = Callable[[Props], Binding]
_REGISTRY: dict[str, BindingFactory] = {}


def register_binding(name: str, factory: BindingFactory) -> None:
    """Make ``name`` a valid ``<db>`` argument (tests use this to inject faulty bindings)."""
    _REGISTRY[name] = factory


def binding_names() -> list[str]:
    return sorted(_REGISTRY)


def create_binding(name: str, props: Props) -> Binding:
    factory = _REGISTRY.get(name)
    if factory is None:
        raise ConfigError(f"unknown binding {name!r}; valid bindings: {', '.join(binding_names())}")
    return factory(props)


# --------------------------------------------------------------------------- basic


def _stdout_write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _fields_text(fields: Sequence[str] | None) -> str:
    return "".join(f + " " for f in fields) if fields else "<all fields> "


def _values_text(values: Record) -> str:
    return "".join(f"{k}={v.decode('latin-1')} " for k, v in values.items())


class _BasicSession:
    """go-ycsb's basic db: optionally sleeps and prints; stores nothing, reads return nothing."""

    def __init__(self, db: BasicBinding, seed: int) -> None:
        self.db = db
        self.rng = random.Random(seed)

    def _call(self, line: str | None) -> None:
        db = self.db
        if db.delay_ms > 0:
            ms = self.rng.randrange(db.delay_ms) if db.randomize else db.delay_ms
            if ms:
                time.sleep(ms / 1000)
        if db.verbose and line is not None:
            db.write(line + "\n")

    def read(self, table: str, key: str, fields: Sequence[str] | None) -> dict[str, bytes]:
        db = self.db
        self._call(f"READ {table} {key} [ {_fields_text(fields)}]" if db.verbose else None)
        return {}

    def scan(
        self, table: str, start_key: str, count: int, fields: Sequence[str] | None
    ) -> list[dict[str, bytes]]:
        v = self.db.verbose
        self._call(f"SCAN {table} {start_key} {count} [ {_fields_text(fields)}]" if v else None)
        return []

    def update(self, table: str, key: str, values: Record) -> None:
        v = self.db.verbose
        self._call(f"UPDATE {table} {key} [ {_values_text(values)}]" if v else None)

    def insert(self, table: str, key: str, values: Record) -> None:
        v = self.db.verbose
        self._call(f"INSERT {table} {key} [ {_values_text(values)}]" if v else None)

    def delete(self, table: str, key: str) -> None:
        self._call(f"DELETE {table} {key}" if self.db.verbose else None)

    def close(self) -> None:
        return None


class _NullSession:
    """The basic db without delay or output: each call returns at once (the generator's own
    cost is what is measured)."""

    def read(self, table: str, key: str, fields: Sequence[str] | None) -> dict[str, bytes]:
        return {}

    def scan(
        self, table: str, start_key: str, count: int, fields: Sequence[str] | None
    ) -> list[dict[str, bytes]]:
        return []

    def update(self, table: str, key: str, values: Record) -> None:
        return None

    def insert(self, table: str, key: str, values: Record) -> None:
        return None

    def delete(self, table: str, key: str) -> None:
        return None

    def close(self) -> None:
        return None


class BasicBinding:
    """go-ycsb's ``basic`` db: measures the generator itself, or a simulated store.

    Properties as go-ycsb's: ``verbose`` (false) prints every operation as go-ycsb does
    (``INSERT usertable <key> [ field0=<value> ... ]``, ``READ usertable <key> [ <all fields> ]``,
    ``SCAN usertable <key> <count> [ ... ]``, ``UPDATE ...``, ``DELETE usertable <key>``; values are
    printed as their bytes); ``basicdb.simulatedelay`` (ms, 0) makes each call sleep that long, or
    with ``basicdb.randomizedelay`` (true) a uniform whole number of ms in [0, simulatedelay).
    A read always succeeds (nothing is stored, nothing is "not found"), as in go-ycsb.
    """

    def __init__(self, props: Props) -> None:
        self.verbose = props.get_bool("verbose", False)
        self.delay_ms = props.get_int("basicdb.simulatedelay", 0)
        self.randomize = props.get_bool("basicdb.randomizedelay", True)
        if self.delay_ms < 0:
            props.problems.append(f"basicdb.simulatedelay must be >= 0, got {self.delay_ms}")
        self.write: Callable[[str], None] = _stdout_write
        self._seed = time.time_ns()
        self.default_deadline_s = 0.0  # no I/O: no deadline

    def attach_output(self, write: Callable[[str], None]) -> None:
        """Print verbose lines through the client's writer (serialised with its own output)."""
        self.write = write

    def session(self, thread_id: int) -> Session:
        if self.delay_ms <= 0 and not self.verbose:
            return _NullSession()
        return _BasicSession(self, self._seed + thread_id)

    def close(self) -> None:
        return None


# --------------------------------------------------------------------------- errors


def error_class(exc: BaseException) -> str:
    """timeout | connection_refused | server_error | other (see the module docstring)."""
    cause = getattr(exc, "cause", None)
    if cause is not None:
        return error_class(cause)
    kind = getattr(exc, "kind", None)
    if kind in ERROR_CLASSES:
        return str(kind)
    name = type(exc).__name__
    if isinstance(exc, TimeoutError | socket.timeout) or "Timeout" in name:
        return "timeout"
    if isinstance(exc, ConnectionRefusedError) or name == "ConnectError":
        return "connection_refused"
    return "other"


register_binding("basic", BasicBinding)

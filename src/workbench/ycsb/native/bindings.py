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
(``set_deadline(perf_counter_ns)``, 0: none) to bound each attempt by what is left of it.
"""

from __future__ import annotations

import base64
import http.client
import json
import random
import socket
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

from workbench.cluster.gateway import (
    KV_DELETERANGE,
    KV_PUT,
    KV_RANGE,
    b64,
    prefix_end,
    put_body,
    range_body,
)
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


# --------------------------------------------------------------------------- etcd


def encode_record(values: Record) -> bytes:
    """A record as stored by go-ycsb's etcd binding: JSON object, values base64 (Go []byte)."""
    return json.dumps({k: b64(v) for k, v in values.items()}, separators=(",", ":")).encode()


def decode_record(data: bytes, fields: Sequence[str] | None) -> dict[str, bytes]:
    obj = json.loads(data)
    if not isinstance(obj, dict):
        raise ValueError("record is not a JSON object")
    if fields is None:
        return {k: base64.b64decode(v) for k, v in obj.items()}
    return {k: base64.b64decode(obj[k]) for k in fields if k in obj}


class EtcdError(Exception):
    """A failed etcd gateway call: `kind` is an ERROR_CLASSES name, `cause` the last transport
    exception when no endpoint answered."""

    def __init__(
        self, message: str, kind: str = "server_error", cause: Exception | None = None
    ) -> None:
        super().__init__(message)
        self.kind, self.cause = kind, cause


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


class _HttpxTransport:
    """httpx (the project's HTTP client): convenient, but ~0.7 ms of client CPU per request."""

    def __init__(self, timeout: float) -> None:
        import httpx

        self.errors: tuple[type[Exception], ...] = (httpx.TransportError,)
        self.client = httpx.Client(timeout=timeout)

    def post(self, base: str, path: str, body: bytes, timeout: float) -> tuple[int, bytes]:
        resp = self.client.post(base + path, content=body, headers=_JSON_HEADERS, timeout=timeout)
        return resp.status_code, resp.content

    def close(self) -> None:
        self.client.close()


class _StdlibTransport:
    """http.client keep-alive connections: about 5x less client CPU per request than httpx."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.conns: dict[str, http.client.HTTPConnection] = {}
        self.errors: tuple[type[Exception], ...] = (OSError, http.client.HTTPException)

    def post(self, base: str, path: str, body: bytes, timeout: float) -> tuple[int, bytes]:
        conn = self.conns.get(base)
        if conn is None:
            parts = urlsplit(base)
            cls = (
                http.client.HTTPSConnection
                if parts.scheme == "https"
                else http.client.HTTPConnection
            )
            conn = cls(parts.hostname or "localhost", parts.port, timeout=timeout)
            self.conns[base] = conn
        elif conn.timeout != timeout:  # the deadline's remainder: the next connect and reads
            conn.timeout = timeout
            if conn.sock is not None:
                conn.sock.settimeout(timeout)
        try:
            conn.request("POST", path, body=body, headers=_JSON_HEADERS)
            resp = conn.getresponse()
            return resp.status, resp.read()
        except Exception:
            conn.close()
            del self.conns[base]
            raise

    def close(self) -> None:
        for conn in self.conns.values():
            conn.close()
        self.conns.clear()


class _Transport(Protocol):
    errors: tuple[type[Exception], ...]

    def post(self, base: str, path: str, body: bytes, timeout: float) -> tuple[int, bytes]: ...

    def close(self) -> None: ...


_JSON_HEADERS = {"Content-Type": "application/json"}
TRANSPORTS: dict[str, Callable[[float], _Transport]] = {
    "httpx": _HttpxTransport,
    "http.client": _StdlibTransport,
}


class _EtcdSession:
    def __init__(
        self,
        endpoints: Sequence[str],
        first: int,
        timeout: float,
        serializable: bool,
        transport: str,
    ) -> None:
        self.endpoints = list(endpoints)
        self.index = first % len(self.endpoints)
        self.serializable = serializable
        self.timeout = timeout
        self.deadline_ns = 0
        self.transport = TRANSPORTS[transport](timeout)

    def set_deadline(self, deadline_ns: int) -> None:
        """The operation's deadline (perf_counter_ns, 0: none): each attempt's timeout is what
        is left of it, at most `etcd.timeout`."""
        self.deadline_ns = deadline_ns

    def _attempt_timeout(self) -> float:
        if not self.deadline_ns:
            return self.timeout
        left = (self.deadline_ns - time.perf_counter_ns()) / 1e9
        if left <= 0:
            raise EtcdError("the request's deadline passed", kind="timeout")
        return min(self.timeout, left)

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        payload = json.dumps(body, separators=(",", ":")).encode()
        last: Exception | None = None
        for _ in range(len(self.endpoints)):
            base = self.endpoints[self.index]
            try:
                status, content = self.transport.post(base, path, payload, self._attempt_timeout())
            except self.transport.errors as exc:
                # connection trouble: move to the next endpoint; only a reply is final
                last = exc
                self.index = (self.index + 1) % len(self.endpoints)
                continue
            if status != 200:
                text = content[:300].decode("utf-8", "replace")
                raise EtcdError(f"POST {base}{path}: HTTP {status}: {text}")
            data: dict[str, Any] = json.loads(content)
            return data
        raise EtcdError(
            f"no etcd endpoint answered ({', '.join(self.endpoints)}): {last!r}",
            kind="other",
            cause=last,
        )

    @staticmethod
    def _key(table: str, key: str) -> bytes:
        return f"{table}:{key}".encode()

    def read(self, table: str, key: str, fields: Sequence[str] | None) -> dict[str, bytes]:
        body = range_body(self._key(table, key), serializable=self.serializable)
        kvs = self._post(KV_RANGE, body).get("kvs") or []
        if not kvs:
            raise NotFound(f"could not find value for key [{table}:{key}]")
        return decode_record(base64.b64decode(kvs[0].get("value", "")), fields)

    def scan(
        self, table: str, start_key: str, count: int, fields: Sequence[str] | None
    ) -> list[dict[str, bytes]]:
        body = range_body(
            self._key(table, start_key),
            range_end=prefix_end(f"{table}:".encode()),
            limit=count,
            serializable=self.serializable,
        )
        kvs = self._post(KV_RANGE, body).get("kvs") or []
        if not kvs:
            raise NotFound(f"no record at or after key [{table}:{start_key}]")
        return [decode_record(base64.b64decode(kv.get("value", "")), fields) for kv in kvs]

    def _put(self, table: str, key: str, values: Record, prev_kv: bool) -> dict[str, Any]:
        # go-ycsb's etcd binding stores the given fields as the whole record (no read-merge).
        return self._post(KV_PUT, put_body(self._key(table, key), encode_record(values), prev_kv))

    def update(self, table: str, key: str, values: Record) -> None:
        # the put happens either way (as in go-ycsb); prev_kv says whether the record existed
        if not self._put(table, key, values, True).get("prev_kv"):
            raise NotFound(f"update of a key that did not exist [{table}:{key}]")

    def insert(self, table: str, key: str, values: Record) -> None:
        self._put(table, key, values, False)

    def delete(self, table: str, key: str) -> None:
        self._post(KV_DELETERANGE, {"key": b64(self._key(table, key))})

    def close(self) -> None:
        self.transport.close()


def parse_endpoints(raw: str) -> tuple[list[str], list[str]]:
    """``etcd.endpoints`` → (base URLs, problems). Accepts ``host:port`` as ``http://host:port``."""
    urls, problems = [], []
    for item in (p.strip() for p in raw.split(",")):
        if not item:
            continue
        url = item if "://" in item else f"http://{item}"
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.port is None:
            problems.append(f"etcd.endpoints: {item!r} is not http://host:port")
            continue
        urls.append(f"{parts.scheme}://{parts.netloc}")
    if not urls and not problems:
        problems.append("etcd.endpoints is empty")
    return urls, problems


class EtcdBinding:
    """etcd v3 through its JSON gRPC gateway (``/v3/kv/...``), one client per thread.

    Properties: ``etcd.endpoints`` (comma list of ``http://host:port``; each thread starts on a
    different one and moves on when one cannot be reached), ``etcd.timeout`` (seconds, 10: the
    per-operation timeout of each endpoint tried; a frozen member costs at most this long),
    ``etcd.serializable_reads`` (false), ``etcd.transport`` (``http.client``, the default: keep-alive
    connections at several times less client CPU per operation than ``httpx``, measured by
    bench/bench_ycsb_peer.py; or ``httpx``).
    """

    def __init__(self, props: Props) -> None:
        self.endpoints, problems = parse_endpoints(
            props.get_str("etcd.endpoints", "http://localhost:2379")
        )
        props.problems.extend(problems)
        self.timeout = props.get_float("etcd.timeout", 10.0)
        self.serializable = props.get_bool("etcd.serializable_reads", False)
        self.transport = props.choice("etcd.transport", "http.client", TRANSPORTS, "etcd transport")
        self.default_deadline_s = self.timeout  # request.deadline's default: one attempt's

    def session(self, thread_id: int) -> Session:
        return _EtcdSession(
            self.endpoints, thread_id, self.timeout, self.serializable, self.transport
        )

    def close(self) -> None:
        return None


register_binding("basic", BasicBinding)
register_binding("etcd", EtcdBinding)

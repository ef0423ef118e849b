"""Database bindings of the native generator, in a registry that names the valid choices.

A binding is created once per run from the properties (``Binding(props)``), validates its own
properties into ``props.problems``, and opens one ``Session`` per worker thread. A session
method raises any exception to report a failed operation (counted as ``<OP>_ERROR``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

from workbench.errors import ConfigError
from workbench.ycsb.native.props import Props

Record = Mapping[str, bytes]


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


class _BasicSession:
    """Does nothing (measures the generator itself); reads return an empty record."""

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
    def __init__(self, props: Props) -> None:
        self.props = props

    def session(self, thread_id: int) -> Session:
        return _BasicSession()

    def close(self) -> None:
        return None


# --------------------------------------------------------------------------- etcd


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _prefix_end(prefix: bytes) -> bytes:
    """The smallest key greater than every key starting with ``prefix`` (etcd range_end)."""
    arr = bytearray(prefix)
    while arr:
        if arr[-1] < 0xFF:
            arr[-1] += 1
            return bytes(arr)
        arr.pop()
    return b"\x00"


def encode_record(values: Record) -> bytes:
    """A record as stored by go-ycsb's etcd binding: JSON object, values base64 (Go []byte)."""
    return json.dumps({k: _b64(v) for k, v in values.items()}, separators=(",", ":")).encode()


def decode_record(data: bytes, fields: Sequence[str] | None) -> dict[str, bytes]:
    obj = json.loads(data)
    if not isinstance(obj, dict):
        raise ValueError("record is not a JSON object")
    if fields is None:
        return {k: base64.b64decode(v) for k, v in obj.items()}
    return {k: base64.b64decode(obj[k]) for k in fields if k in obj}


class EtcdError(Exception):
    """A failed etcd gateway call (HTTP status or a missing key)."""


class _EtcdSession:
    def __init__(self, endpoints: Sequence[str], first: int, timeout: float, serializable: bool):
        import httpx

        self._httpx = httpx
        self.endpoints = list(endpoints)
        self.index = first % len(self.endpoints)
        self.serializable = serializable
        self.client = httpx.Client(timeout=timeout)

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        httpx = self._httpx
        last: Exception | None = None
        for _ in range(len(self.endpoints)):
            url = self.endpoints[self.index] + path
            try:
                resp = self.client.post(url, json=body)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                last = exc
                self.index = (self.index + 1) % len(self.endpoints)
                continue
            if resp.status_code != 200:
                raise EtcdError(f"POST {url}: HTTP {resp.status_code}: {resp.text[:300]}")
            data: dict[str, Any] = resp.json()
            return data
        raise EtcdError(f"no etcd endpoint reachable ({', '.join(self.endpoints)}): {last}")

    @staticmethod
    def _key(table: str, key: str) -> bytes:
        return f"{table}:{key}".encode()

    def read(self, table: str, key: str, fields: Sequence[str] | None) -> dict[str, bytes]:
        body: dict[str, Any] = {"key": _b64(self._key(table, key))}
        if self.serializable:
            body["serializable"] = True
        kvs = self._post("/v3/kv/range", body).get("kvs") or []
        if not kvs:
            raise EtcdError(f"could not find value for key [{table}:{key}]")
        return decode_record(base64.b64decode(kvs[0].get("value", "")), fields)

    def scan(
        self, table: str, start_key: str, count: int, fields: Sequence[str] | None
    ) -> list[dict[str, bytes]]:
        body: dict[str, Any] = {
            "key": _b64(self._key(table, start_key)),
            "range_end": _b64(_prefix_end(f"{table}:".encode())),
            "limit": count,
        }
        if self.serializable:
            body["serializable"] = True
        kvs = self._post("/v3/kv/range", body).get("kvs") or []
        return [decode_record(base64.b64decode(kv.get("value", "")), fields) for kv in kvs]

    def update(self, table: str, key: str, values: Record) -> None:
        # go-ycsb's etcd binding stores the given fields as the whole record (no read-merge).
        body = {"key": _b64(self._key(table, key)), "value": _b64(encode_record(values))}
        self._post("/v3/kv/put", body)

    def insert(self, table: str, key: str, values: Record) -> None:
        self.update(table, key, values)

    def delete(self, table: str, key: str) -> None:
        self._post("/v3/kv/deleterange", {"key": _b64(self._key(table, key))})

    def close(self) -> None:
        self.client.close()


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
    """etcd v3 through its JSON gRPC gateway (``/v3/kv/...``), one httpx client per thread."""

    def __init__(self, props: Props) -> None:
        self.endpoints, problems = parse_endpoints(
            props.get_str("etcd.endpoints", "http://localhost:2379")
        )
        props.problems.extend(problems)
        self.timeout = props.get_float("etcd.timeout", 10.0)
        self.serializable = props.get_bool("etcd.serializable_reads", False)

    def session(self, thread_id: int) -> Session:
        return _EtcdSession(self.endpoints, thread_id, self.timeout, self.serializable)

    def close(self) -> None:
        return None


register_binding("basic", BasicBinding)
register_binding("etcd", EtcdBinding)

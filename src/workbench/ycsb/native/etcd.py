"""The native generator's etcd binding: etcd v3 through its JSON gateway (``/v3/kv/...``), over
one keep-alive HTTP/1.1 connection per thread and endpoint (`native.rawhttp`).

Records are stored as go-ycsb's etcd binding stores them: the key ``<table>:<key>``, the value a
JSON object of the fields, each value base64 (Go's ``[]byte``). The request bodies are built as
bytes from pre-encoded pieces (the same bytes ``json.dumps`` would give, without its per-call
cost); a put's reply is not parsed: ``prev_kv`` is in it exactly when the key existed (the gateway
omits empty fields, and every other value in it is a number or base64).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from workbench.cluster.gateway import KV_DELETERANGE, KV_PUT, KV_RANGE, b64, prefix_end, range_body
from workbench.ycsb.native.bindings import NotFound, Record, Session, register_binding
from workbench.ycsb.native.props import Props
from workbench.ycsb.native.rawhttp import ERRORS, HttpConnection

_b64 = binascii.b2a_base64
_FIELD_KEYS: dict[str, bytes] = {}  # field name -> its JSON key and the value's opening quote


def encode_record(values: Record) -> bytes:
    """A record as stored by go-ycsb's etcd binding: JSON object, values base64 (Go []byte);
    the bytes of ``json.dumps({k: b64(v)}, separators=(",", ":"))``."""
    parts = []
    keys = _FIELD_KEYS
    for k, v in values.items():
        fk = keys.get(k)
        if fk is None:
            fk = keys[k] = json.dumps(k).encode("ascii") + b':"'
        parts.append(fk + _b64(v, newline=False) + b'"')
    return b"{" + b",".join(parts) + b"}"


def decode_record(data: bytes, fields: Sequence[str] | None) -> dict[str, bytes]:
    obj = json.loads(data)
    if not isinstance(obj, dict):
        raise ValueError("record is not a JSON object")
    if fields is None:
        return {k: base64.b64decode(v) for k, v in obj.items()}
    return {k: base64.b64decode(obj[k]) for k in fields if k in obj}


def put_payload(key: bytes, value: bytes, prev_kv: bool) -> bytes:
    """The gateway's put body (`cluster.gateway.put_body`, as bytes)."""
    tail = b'","prev_kv":true}' if prev_kv else b'"}'
    return b'{"key":"%s","value":"%s%s' % (
        _b64(key, newline=False),
        _b64(value, newline=False),
        tail,
    )


class EtcdError(Exception):
    """A failed etcd gateway call: `kind` is an ERROR_CLASSES name, `cause` the last transport
    exception when no endpoint answered."""

    def __init__(
        self, message: str, kind: str = "server_error", cause: Exception | None = None
    ) -> None:
        super().__init__(message)
        self.kind, self.cause = kind, cause


class _EtcdSession:
    def __init__(
        self, endpoints: Sequence[str], first: int, timeout: float, serializable: bool
    ) -> None:
        self.endpoints = list(endpoints)
        self.index = first % len(self.endpoints)
        self.serializable = serializable
        self.timeout = timeout
        self.deadline_ns = 0
        self.conns: list[HttpConnection] = []
        for url in self.endpoints:
            parts = urlsplit(url)
            host, port = parts.hostname or "localhost", parts.port or 80
            self.conns.append(HttpConnection(host, port, timeout, tls=parts.scheme == "https"))

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

    def _post(self, path: str, payload: bytes) -> bytes:
        last: Exception | None = None
        for _ in range(len(self.endpoints)):
            conn = self.conns[self.index]
            try:
                status, content = conn.post(path, payload, self._attempt_timeout())
            except ERRORS as exc:
                # connection trouble: move to the next endpoint; only a reply is final
                last = exc
                self.index = (self.index + 1) % len(self.endpoints)
                continue
            if status != 200:
                text = content[:300].decode("utf-8", "replace")
                raise EtcdError(f"POST {self.endpoints[self.index]}{path}: HTTP {status}: {text}")
            return content
        raise EtcdError(
            f"no etcd endpoint answered ({', '.join(self.endpoints)}): {last!r}",
            kind="other",
            cause=last,
        )

    def _range(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        data = json.loads(self._post(KV_RANGE, json.dumps(body, separators=(",", ":")).encode()))
        kvs: list[dict[str, Any]] = data.get("kvs") or []
        return kvs

    def read(self, table: str, key: str, fields: Sequence[str] | None) -> dict[str, bytes]:
        kvs = self._range(range_body(f"{table}:{key}".encode(), serializable=self.serializable))
        if not kvs:
            raise NotFound(f"could not find value for key [{table}:{key}]")
        return decode_record(base64.b64decode(kvs[0].get("value", "")), fields)

    def scan(
        self, table: str, start_key: str, count: int, fields: Sequence[str] | None
    ) -> list[dict[str, bytes]]:
        body = range_body(
            f"{table}:{start_key}".encode(),
            range_end=prefix_end(f"{table}:".encode()),
            limit=count,
            serializable=self.serializable,
        )
        kvs = self._range(body)
        if not kvs:
            raise NotFound(f"no record at or after key [{table}:{start_key}]")
        return [decode_record(base64.b64decode(kv.get("value", "")), fields) for kv in kvs]

    def update(self, table: str, key: str, values: Record) -> None:
        # go-ycsb's etcd binding stores the given fields as the whole record (no read-merge);
        # the put happens either way (as in go-ycsb); prev_kv says whether the record existed
        payload = put_payload(f"{table}:{key}".encode(), encode_record(values), True)
        if b'"prev_kv":' not in self._post(KV_PUT, payload):
            raise NotFound(f"update of a key that did not exist [{table}:{key}]")

    def insert(self, table: str, key: str, values: Record) -> None:
        self._post(KV_PUT, put_payload(f"{table}:{key}".encode(), encode_record(values), False))

    def delete(self, table: str, key: str) -> None:
        body = json.dumps({"key": b64(f"{table}:{key}".encode())}, separators=(",", ":"))
        self._post(KV_DELETERANGE, body.encode())

    def close(self) -> None:
        for conn in self.conns:
            conn.close()


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
    """etcd v3 through its JSON gRPC gateway (``/v3/kv/...``), one session per thread.

    Properties: ``etcd.endpoints`` (comma list of ``http://host:port``; each thread starts on a
    different one and moves on when one cannot be reached), ``etcd.timeout`` (seconds, 10: the
    per-operation timeout of each endpoint tried; a frozen member costs at most this long),
    ``etcd.serializable_reads`` (false). (``etcd.transport``, which chose httpx or http.client,
    is gone: one transport, `native.rawhttp`, at a fraction of either's client CPU.)
    """

    def __init__(self, props: Props) -> None:
        self.endpoints, problems = parse_endpoints(
            props.get_str("etcd.endpoints", "http://localhost:2379")
        )
        props.problems.extend(problems)
        self.timeout = props.get_float("etcd.timeout", 10.0)
        self.serializable = props.get_bool("etcd.serializable_reads", False)
        self.default_deadline_s = self.timeout  # request.deadline's default: one attempt's

    def session(self, thread_id: int) -> Session:
        return _EtcdSession(self.endpoints, thread_id, self.timeout, self.serializable)

    def close(self) -> None:
        return None


register_binding("etcd", EtcdBinding)

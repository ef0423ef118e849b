"""The native generator's etcd binding: etcd v3 through its gRPC API (`native.grpcwire`, one HTTP/2
connection per thread and endpoint, protobuf written and read here) or through its JSON gateway
(``/v3/kv/...``, one keep-alive HTTP/1.1 connection, `native.rawhttp`).

Records are stored as go-ycsb's etcd binding stores them: the key ``<table>:<key>``, the value a
JSON object of the fields, each value base64 (Go's ``[]byte``). The request bodies are built as
bytes from pre-encoded pieces (the same bytes ``json.dumps`` would give, without its per-call
cost). A put's reply says whether the key existed by holding ``prev_kv`` (protobuf field 2; in
the gateway's JSON the key ``"prev_kv"``, which it omits when empty; every other value there is a
number or base64, so a byte search is exact).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

from workbench.cluster.gateway import KV_DELETERANGE, KV_PUT, KV_RANGE, b64, prefix_end, range_body
from workbench.ycsb.native.bindings import NotFound, Record, Session, register_binding
from workbench.ycsb.native.grpcwire import GrpcConnection, GrpcStatus
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


def _varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _ld(tag: int, data: bytes) -> bytes:
    """A length-delimited protobuf field (``tag``: field number << 3 | 2, one byte)."""
    return bytes((tag,)) + _varint(len(data)) + data


def pb_fields(buf: bytes) -> Iterator[tuple[int, int | bytes]]:
    """A protobuf message's top-level fields: (number, int for varints and fixed, bytes)."""
    pos, end = 0, len(buf)
    while pos < end:
        key = shift = 0
        while True:
            b = buf[pos]
            pos += 1
            key |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        wire = key & 7
        if wire == 0 or wire == 2:
            n = shift = 0
            while True:
                b = buf[pos]
                pos += 1
                n |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
            if wire == 0:
                yield key >> 3, n
            else:
                yield key >> 3, buf[pos : pos + n]
                pos += n
        elif wire == 1 or wire == 5:
            size = 8 if wire == 1 else 4
            yield key >> 3, int.from_bytes(buf[pos : pos + size], "little")
            pos += size
        else:
            raise ValueError(f"protobuf wire type {wire} is not read here")


def pb_put(key: bytes, value: bytes, prev_kv: bool) -> bytes:
    """etcdserverpb.PutRequest: key 1, value 2, prev_kv 4."""
    return _ld(0x0A, key) + _ld(0x12, value) + (b"\x20\x01" if prev_kv else b"")


def pb_range(
    key: bytes, range_end: bytes = b"", limit: int = 0, serializable: bool = False
) -> bytes:
    """etcdserverpb.RangeRequest: key 1, range_end 2, limit 3, serializable 7."""
    return (
        _ld(0x0A, key)
        + (_ld(0x12, range_end) if range_end else b"")
        + (b"\x18" + _varint(limit) if limit else b"")
        + (b"\x38\x01" if serializable else b"")
    )


def pb_values(reply: bytes) -> list[bytes]:
    """The values of a RangeResponse's kvs (field 2; a KeyValue's value is its field 5)."""
    out = []
    for num, kv in pb_fields(reply):
        if num == 2 and isinstance(kv, bytes):
            value = b""
            for n, v in pb_fields(kv):
                if n == 5 and isinstance(v, bytes):
                    value = v
            out.append(value)
    return out


def pb_has_prev(reply: bytes) -> bool:
    """Whether a PutResponse holds prev_kv (field 2): the key existed before the put."""
    return any(num == 2 for num, _ in pb_fields(reply))


GRPC_RANGE, GRPC_PUT = "/etcdserverpb.KV/Range", "/etcdserverpb.KV/Put"
GRPC_DELETERANGE = "/etcdserverpb.KV/DeleteRange"


class _Session:
    """One thread's connections, one per endpoint; the failover and the deadline."""

    def __init__(
        self, endpoints: Sequence[str], first: int, timeout: float, serializable: bool
    ) -> None:
        self.endpoints = list(endpoints)
        self.index = first % len(self.endpoints)
        self.serializable = serializable
        self.timeout = timeout
        self.deadline_ns = 0
        self.conns: list[Any] = []
        for url in self.endpoints:
            parts = urlsplit(url)
            host, port = parts.hostname or "localhost", parts.port or 80
            self.conns.append(self.connection(host, port, timeout, parts.scheme == "https"))

    def connection(self, host: str, port: int, timeout: float, tls: bool) -> Any:
        raise NotImplementedError

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

    def _send(self, target: str, payload: bytes) -> bytes:
        last: Exception | None = None
        for _ in range(len(self.endpoints)):
            try:
                return self.request(self.conns[self.index], target, payload)
            except ERRORS as exc:
                # connection trouble: move to the next endpoint; only a reply is final
                last = exc
                self.index = (self.index + 1) % len(self.endpoints)
        raise EtcdError(
            f"no etcd endpoint answered ({', '.join(self.endpoints)}): {last!r}",
            kind="other",
            cause=last,
        )

    def request(self, conn: Any, target: str, payload: bytes) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        for conn in self.conns:
            conn.close()


class _GrpcSession(_Session):
    """etcd's own gRPC API (`grpcwire`, protobuf by hand): what etcd's Go client speaks."""

    def connection(self, host: str, port: int, timeout: float, tls: bool) -> GrpcConnection:
        return GrpcConnection(host, port, timeout, tls=tls)

    def request(self, conn: GrpcConnection, target: str, payload: bytes) -> bytes:
        try:
            return conn.call(target, payload, self._attempt_timeout())
        except GrpcStatus as exc:
            raise EtcdError(f"{self.endpoints[self.index]}{target}: {exc}") from None

    def read(self, table: str, key: str, fields: Sequence[str] | None) -> dict[str, bytes]:
        k = f"{table}:{key}".encode()
        values = pb_values(self._send(GRPC_RANGE, pb_range(k, serializable=self.serializable)))
        if not values:
            raise NotFound(f"could not find value for key [{table}:{key}]")
        return decode_record(values[0], fields)

    def scan(
        self, table: str, start_key: str, count: int, fields: Sequence[str] | None
    ) -> list[dict[str, bytes]]:
        req = pb_range(
            f"{table}:{start_key}".encode(),
            prefix_end(f"{table}:".encode()),
            count,
            self.serializable,
        )
        values = pb_values(self._send(GRPC_RANGE, req))
        if not values:
            raise NotFound(f"no record at or after key [{table}:{start_key}]")
        return [decode_record(v, fields) for v in values]

    def update(self, table: str, key: str, values: Record) -> None:
        # go-ycsb's etcd binding stores the given fields as the whole record (no read-merge);
        # the put happens either way (as in go-ycsb); prev_kv says whether the record existed
        req = pb_put(f"{table}:{key}".encode(), encode_record(values), True)
        if not pb_has_prev(self._send(GRPC_PUT, req)):
            raise NotFound(f"update of a key that did not exist [{table}:{key}]")

    def insert(self, table: str, key: str, values: Record) -> None:
        self._send(GRPC_PUT, pb_put(f"{table}:{key}".encode(), encode_record(values), False))

    def delete(self, table: str, key: str) -> None:
        self._send(GRPC_DELETERANGE, _ld(0x0A, f"{table}:{key}".encode()))


class _GatewaySession(_Session):
    """etcd's JSON gateway over HTTP/1.1 (`rawhttp`): what curl speaks; it costs etcd about 3x
    the CPU per request of a gRPC call (bench/bench_ycsb_ceiling.py)."""

    def connection(self, host: str, port: int, timeout: float, tls: bool) -> HttpConnection:
        return HttpConnection(host, port, timeout, tls=tls)

    def request(self, conn: HttpConnection, target: str, payload: bytes) -> bytes:
        status, content = conn.post(target, payload, self._attempt_timeout())
        if status != 200:
            text = content[:300].decode("utf-8", "replace")
            raise EtcdError(f"POST {self.endpoints[self.index]}{target}: HTTP {status}: {text}")
        return content

    def _range(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        data = json.loads(self._send(KV_RANGE, json.dumps(body, separators=(",", ":")).encode()))
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
        payload = put_payload(f"{table}:{key}".encode(), encode_record(values), True)
        if b'"prev_kv":' not in self._send(KV_PUT, payload):
            raise NotFound(f"update of a key that did not exist [{table}:{key}]")

    def insert(self, table: str, key: str, values: Record) -> None:
        self._send(KV_PUT, put_payload(f"{table}:{key}".encode(), encode_record(values), False))

    def delete(self, table: str, key: str) -> None:
        body = json.dumps({"key": b64(f"{table}:{key}".encode())}, separators=(",", ":"))
        self._send(KV_DELETERANGE, body.encode())


APIS: dict[str, Callable[[Sequence[str], int, float, bool], Session]] = {
    "grpc": _GrpcSession,
    "gateway": _GatewaySession,
}


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
    ``etcd.serializable_reads`` (false), ``etcd.api``: ``grpc`` (the default: etcd's own API,
    as go-ycsb and etcd's Go client call it) or ``gateway`` (the JSON gateway, at about 3x the
    server's CPU per request). (``etcd.transport``, which chose httpx or http.client for the
    gateway, is gone: both cost several times the client CPU of today's connections.)
    """

    def __init__(self, props: Props) -> None:
        self.endpoints, problems = parse_endpoints(
            props.get_str("etcd.endpoints", "http://localhost:2379")
        )
        props.problems.extend(problems)
        self.timeout = props.get_float("etcd.timeout", 10.0)
        self.serializable = props.get_bool("etcd.serializable_reads", False)
        self.api = APIS[props.choice("etcd.api", "grpc", APIS, "etcd API")]
        self.default_deadline_s = self.timeout  # request.deadline's default: one attempt's
        self.blocking_io = True  # its threads wait on sockets (`worker.IO_SWITCH_INTERVAL_S`)

    def session(self, thread_id: int) -> Session:
        return self.api(self.endpoints, thread_id, self.timeout, self.serializable)

    def close(self) -> None:
        return None


register_binding("etcd", EtcdBinding)

"""The etcd v3 JSON gateway's wire pieces, shared by the cluster clients and the native YCSB
binding's hot path: paths, base64 keys and values, the range end of a prefix, request bodies.
Standard library only and no I/O, so the native generator imports it without httpx.

    POST /v3/kv/put    {"key": "dXNlcnRhYmxlOnVzZXIx", "value": "e30=", "prev_kv": true}
    POST /v3/kv/range  {"key": "dXNlcnRhYmxlOnVzZXIx", "serializable": true}
"""

from __future__ import annotations

import base64
from typing import Any

KV_RANGE = "/v3/kv/range"
KV_PUT = "/v3/kv/put"
KV_DELETERANGE = "/v3/kv/deleterange"
MAINTENANCE_STATUS = "/v3/maintenance/status"
MEMBER_LIST = "/v3/cluster/member/list"
HEALTH = "/health"
LEASE_GRANT = "/v3/lease/grant"  # Raft proposals of the Lease service (not counted as KV requests)
LEASE_REVOKE = "/v3/lease/revoke"


def b64(data: bytes) -> str:
    """Bytes as the gateway's JSON wants them (proto `bytes` fields are base64)."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text)


def prefix_end(prefix: bytes) -> bytes:
    """The smallest key greater than every key starting with ``prefix`` (etcd range_end)."""
    arr = bytearray(prefix)
    while arr:
        if arr[-1] < 0xFF:
            arr[-1] += 1
            return bytes(arr)
        arr.pop()
    return b"\x00"


def put_body(key: bytes, value: bytes, prev_kv: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"key": b64(key), "value": b64(value)}
    if prev_kv:
        body["prev_kv"] = True
    return body


def range_body(
    key: bytes, range_end: bytes | None = None, limit: int = 0, serializable: bool = False
) -> dict[str, Any]:
    body: dict[str, Any] = {"key": b64(key)}
    if range_end is not None:
        body["range_end"] = b64(range_end)
    if limit:
        body["limit"] = limit
    if serializable:
        body["serializable"] = True
    return body

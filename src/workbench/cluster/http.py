"""One request to a cluster's own API, its failures translated once into the ClusterError tree
(workbench.errors): timeout, refused, transport, http, server (etcd's `{"error", "code"}` body),
unreadable. Every client of this room calls through `call`."""

from __future__ import annotations

from typing import Any

import httpx

from workbench.errors import (
    ClusterAnswerError,
    ClusterUnreachable,
    ClusterUnreadable,
    connection_refused,
)

Timeout = float | httpx.Timeout | None  # None: the injected client's own timeout


def send(
    http: httpx.Client,
    method: str,
    url: str,
    *,
    body: Any = None,
    timeout: Timeout = None,
) -> tuple[int, Any]:
    """(HTTP status, JSON body or None when the body is not JSON); only transport errors raise
    (ClusterUnreachable)."""
    limit = httpx.USE_CLIENT_DEFAULT if timeout is None else timeout
    try:
        if method == "POST":
            resp = http.post(url, json=body if body is not None else {}, timeout=limit)
        else:
            resp = http.get(url, timeout=limit)
    except httpx.TimeoutException as exc:
        raise ClusterUnreachable(f"{method} {url}: timed out ({exc})", "timeout", url) from exc
    except httpx.TransportError as exc:
        kind = "refused" if connection_refused(exc) else "transport"
        raise ClusterUnreachable(f"{method} {url}: {type(exc).__name__}: {exc}", kind, url) from exc
    try:
        return resp.status_code, resp.json()
    except ValueError:
        return resp.status_code, None if not resp.content else resp.text[:500]


def call(
    http: httpx.Client,
    method: str,
    url: str,
    *,
    body: Any = None,
    timeout: Timeout = None,
) -> Any:
    """The JSON body of a 200 answer, else a ClusterError saying why."""
    status, data = send(http, method, url, body=body, timeout=timeout)
    if status != 200:
        raise ClusterAnswerError(
            f"{method} {url}: HTTP {status}: {str(data)[:200]}", "http", status, url, str(data)
        )
    if isinstance(data, dict) and "error" in data and "code" in data and "header" not in data:
        raise ClusterAnswerError(
            f"{method} {url}: {data.get('error')} (code {data.get('code')})",
            "server",
            status,
            url,
            str(data),
        )
    if data is None or isinstance(data, str):
        raise ClusterUnreadable(f"{method} {url}: the answer is not JSON", url, str(data))
    return data


def unreadable(url: str, body: Any, exc: Exception) -> ClusterUnreadable:
    """The error for a 200 whose shape a parser could not read."""
    return ClusterUnreadable(f"unreadable answer from {url}: {exc!r}", url, str(body)[:2000])

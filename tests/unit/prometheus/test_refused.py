"""A dead Prometheus (issue 11 item 10): a refused connection is retried once, quickly, and the
error says "connection refused" with the URL; timeouts and 5xx keep the bounded backoff."""

from __future__ import annotations

import errno

import httpx
import pytest

from workbench.errors import QueryError
from workbench.prometheus import PrometheusClient, connection_refused

OK = {"status": "success", "data": {"resultType": "vector", "result": []}}


def refused() -> httpx.ConnectError:
    """What httpx raises for a closed port: a ConnectError caused by ConnectionRefusedError."""
    try:
        try:
            raise ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
        except ConnectionRefusedError as cause:
            raise httpx.ConnectError("[Errno 111] Connection refused") from cause
    except httpx.ConnectError as exc:
        return exc


def client(steps: list[object], sleeps: list[float]) -> tuple[PrometheusClient, list[str]]:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        step = steps.pop(0) if len(steps) > 1 else steps[0]
        if isinstance(step, Exception):
            raise step
        assert isinstance(step, httpx.Response)
        return step

    http = httpx.Client(transport=httpx.MockTransport(handler))
    return PrometheusClient(http, "http://127.0.0.1:19090", sleep=sleeps.append), calls


def test_a_refused_connection_is_retried_once_quickly_and_named() -> None:
    sleeps: list[float] = []
    prom, calls = client([refused()], sleeps)
    with pytest.raises(QueryError) as info:
        prom.query("up")
    assert len(calls) == 2 and sleeps == [0.2]  # was 5 calls and 3.75 s of backoff
    text = str(info.value)
    assert "connection refused" in text and "http://127.0.0.1:19090/api/v1/query" in text
    assert "ConnectError" in info.value.response and info.value.query == "up"


def test_refused_then_up_succeeds_on_the_one_retry() -> None:
    sleeps: list[float] = []
    prom, calls = client([refused(), httpx.Response(200, json=OK)], sleeps)
    assert prom.query("up").empty
    assert len(calls) == 2 and sleeps == [0.2]


def test_timeouts_and_5xx_keep_the_bounded_backoff() -> None:
    sleeps: list[float] = []
    steps: list[object] = [
        httpx.ReadTimeout("timed out"),
        httpx.Response(503, text="not ready"),
        httpx.ConnectTimeout("timed out"),
        httpx.Response(502, text="bad gateway"),
        httpx.Response(504, text="gateway timeout"),
    ]
    prom, calls = client(steps, sleeps)
    with pytest.raises(QueryError) as info:
        prom.query("up")
    assert len(calls) == 5 and sleeps == [0.25, 0.5, 1.0, 2.0]
    assert "failed after 5 attempts" in str(info.value) and "504" in info.value.response


def test_what_counts_as_refused() -> None:
    assert connection_refused(refused())
    assert connection_refused(httpx.ConnectError("[Errno 111] Connection refused"))
    assert not connection_refused(httpx.ConnectError("[Errno -2] Name or service not known"))
    assert not connection_refused(httpx.ConnectTimeout("timed out"))

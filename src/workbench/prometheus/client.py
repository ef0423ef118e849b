"""Prometheus HTTP API into pandas: the client, `collect` and the scrape waits.

The client takes an `httpx.Client` (passed in, so tests and callers own transport, timeouts and
proxies) and a base URL. Results come back as tidy long frames: one row per sample with a UTC
`timestamp`, a float `value` (NaN/+Inf/-Inf kept) and one categorical column per label. Range
queries longer than Prometheus' 11,000-point limit are split into chunks and joined; long queries go
by POST form. Connection errors and 503s are retried with bounded backoff, except a refused
connection (retried once, quickly: the error says "connection refused" with the URL); every
failure raises `QueryError` holding the query and the response. Raw scrapes come back by `samples`;
turning results into frames (and counters into increases) is `frames.py`, with no I/O.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import httpx
import pandas as pd

from workbench.errors import QueryError, WorkbenchError, connection_refused
from workbench.jsonio import write_json
from workbench.prometheus.frames import _merge, chunk_range, label_columns, tidy_frame
from workbench.units import parse_go_duration, parse_rfc3339
from workbench.waiting import wait_until

MAX_POINTS = 11_000  # Prometheus rejects (end - start) / step > 11000
POST_THRESHOLD = 1024  # queries longer than this (characters) are sent as a POST form
RETRY_STATUS = frozenset({429, 502, 503, 504})
REFUSED_RETRIES, REFUSED_DELAY_S = 1, 0.2  # a refused connection: retried once, quickly

TimeLike = float | int | datetime
StepLike = float | int | timedelta


def to_unix(t: TimeLike) -> float:
    """Unix seconds from a float or a datetime (naive datetimes are taken as UTC)."""
    if isinstance(t, datetime):
        if t.tzinfo is None:
            return t.replace(tzinfo=UTC).timestamp()
        return t.timestamp()
    return float(t)


def to_seconds(step: StepLike) -> float:
    return step.total_seconds() if isinstance(step, timedelta) else float(step)


def _fmt(t: float) -> str:
    return f"{t:.3f}"


class PrometheusClient:
    """A small, strict client for /api/v1/query, /query_range, /targets and /-/ready."""

    def __init__(
        self,
        http: httpx.Client,
        base_url: str,
        *,
        retries: int = 4,
        backoff_s: float = 0.25,
        max_backoff_s: float = 4.0,
        sleep: Callable[[float], None] = time.sleep,
        max_points: int = MAX_POINTS,
        post_threshold: int = POST_THRESHOLD,
    ) -> None:
        if retries < 0 or max_points < 2:
            raise ValueError("retries must be >= 0 and max_points >= 2")
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.sleep = sleep
        self.max_points = max_points
        self.post_threshold = post_threshold

    # -- transport ---------------------------------------------------------------------------

    def _request(
        self, method: str, path: str, query: str, params: dict[str, str] | None = None
    ) -> httpx.Response:
        """One request with bounded retries on connection errors and retryable statuses."""
        url = f"{self.base_url}{path}"
        delay = self.backoff_s
        last: str = ""
        refused = 0
        for attempt in range(self.retries + 1):
            try:
                if method == "POST":
                    resp = self.http.post(url, data=params)
                else:
                    resp = self.http.get(url, params=params)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
                if connection_refused(exc):  # nothing listens: one quick retry, not the backoff
                    refused += 1
                    if refused > REFUSED_RETRIES or attempt >= self.retries:
                        raise QueryError(
                            f"Prometheus request {method} {url}: connection refused "
                            f"({refused} attempts; is Prometheus running?)",
                            query=query,
                            response=last,
                        ) from None
                    self.sleep(min(self.backoff_s, REFUSED_DELAY_S))
                    continue
            else:
                if resp.status_code not in RETRY_STATUS:
                    return resp
                last = f"HTTP {resp.status_code}: {resp.text[:2000]}"
            if attempt < self.retries:
                self.sleep(delay)
                delay = min(delay * 2, self.max_backoff_s)
        raise QueryError(
            f"Prometheus request {method} {url} failed after {self.retries + 1} attempts",
            query=query,
            response=last,
        )

    def _api(self, path: str, query: str, params: dict[str, str]) -> Any:
        """Call an API endpoint and return `data` from the success envelope."""
        method = "POST" if len(query) > self.post_threshold else "GET"
        resp = self._request(method, path, query, params)
        try:
            body = resp.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise QueryError(
                f"Prometheus {path} answered HTTP {resp.status_code} without JSON",
                query=query,
                response=resp.text,
            ) from None
        if resp.status_code != 200 or not isinstance(body, dict) or body.get("status") != "success":
            err = body.get("error", "") if isinstance(body, dict) else ""
            etype = body.get("errorType", "") if isinstance(body, dict) else ""
            raise QueryError(
                f"Prometheus {path} failed (HTTP {resp.status_code}): {etype} {err}".rstrip(),
                query=query,
                response=resp.text,
            )
        return body.get("data")

    # -- endpoints ---------------------------------------------------------------------------

    def ready(self) -> bool:
        """True when /-/ready answers 200 (queries can be served; targets may not be scraped)."""
        try:
            return self.http.get(f"{self.base_url}/-/ready").status_code == 200
        except httpx.TransportError:
            return False

    def query_raw(self, promql: str, at: TimeLike | None = None) -> tuple[str, list[Any]]:
        """Instant query: (resultType, result) exactly as Prometheus sent them."""
        params = {"query": promql}
        if at is not None:
            params["time"] = _fmt(to_unix(at))
        data = self._api("/api/v1/query", promql, params)
        if not isinstance(data, dict) or "resultType" not in data:
            raise QueryError("unexpected query response shape", query=promql, response=str(data))
        rtype, result = data["resultType"], data.get("result")
        if rtype in ("scalar", "string"):
            return rtype, [{"metric": {}, "value": result}]
        return rtype, list(result or [])

    def query(self, promql: str, at: TimeLike | None = None) -> pd.DataFrame:
        """Instant query as a tidy frame (one row per series)."""
        _, result = self.query_raw(promql, at)
        return tidy_frame(result, key="value")

    def query_range_raw(
        self, promql: str, start: TimeLike, end: TimeLike, step: StepLike
    ) -> list[dict[str, Any]]:
        """Range query as matrix series, chunked under the point limit and joined."""
        s_ms, e_ms, st_ms = (
            round(to_unix(start) * 1000),
            round(to_unix(end) * 1000),
            round(to_seconds(step) * 1000),
        )
        if st_ms <= 0 or e_ms < s_ms:
            raise QueryError(
                f"invalid range: start={start} end={end} step={step}", query=promql, response=""
            )
        series: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
        for c_start, c_end in chunk_range(s_ms, e_ms, st_ms, self.max_points):
            params = {
                "query": promql,
                "start": _fmt(c_start / 1000),
                "end": _fmt(c_end / 1000),
                "step": _fmt(st_ms / 1000),
            }
            data = self._api("/api/v1/query_range", promql, params)
            if not isinstance(data, dict) or data.get("resultType") != "matrix":
                raise QueryError(
                    "expected a matrix result", query=promql, response=str(data)[:2000]
                )
            _merge(series, data.get("result") or [])
        return list(series.values())

    def query_range(
        self, promql: str, start: TimeLike, end: TimeLike, step: StepLike
    ) -> pd.DataFrame:
        """Range query as a tidy long frame."""
        return tidy_frame(self.query_range_raw(promql, start, end, step))

    def samples(self, selector: str, start: TimeLike, end: TimeLike) -> pd.DataFrame:
        """Raw samples of a series selector over [start, end]: every scrape's value at its own
        timestamp (an instant query of `selector[range]` at `end`), as a tidy frame."""
        s, e = to_unix(start), to_unix(end)
        span_ms = max(1000, math.ceil((e - s) * 1000))
        _, result = self.query_raw(f"{selector}[{span_ms}ms]", at=e)
        return tidy_frame(result, key="values")

    def targets(self, state: str = "active") -> list[dict[str, Any]]:
        """Targets as Prometheus reports them (`labels`, `health`, `lastError`, ...)."""
        data = self._api("/api/v1/targets", f"targets?state={state}", {"state": state})
        if not isinstance(data, dict):
            raise QueryError("unexpected targets shape", query="targets", response=str(data))
        key = "droppedTargets" if state == "dropped" else "activeTargets"
        return list(data.get(key) or [])


class QueryLike(Protocol):
    """A manifest query (workbench.manifest.Query satisfies it)."""

    name: str
    query: str
    unit: str


@dataclass(frozen=True)
class Collected:
    """What `collect` wrote: one Parquet per query and the queries.json index."""

    files: dict[str, Path]
    frames: dict[str, pd.DataFrame]
    errors: dict[str, str]
    index: Path


def collect(
    client: PrometheusClient,
    queries: Iterable[QueryLike],
    start: TimeLike,
    end: TimeLike,
    step: StepLike,
    out_dir: Path,
    *,
    raise_on_error: bool = True,
) -> Collected:
    """Run each query over [start, end], write `<name>.parquet` and `queries.json` into out_dir.

    Every query is attempted and its outcome recorded before anything is raised (save first, then
    raise): a failed query is listed in queries.json with its error, then the first error is raised.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    s, e, st = to_unix(start), to_unix(end), to_seconds(step)
    files: dict[str, Path] = {}
    frames: dict[str, pd.DataFrame] = {}
    errors: dict[str, str] = {}
    first_error: QueryError | None = None
    listed: list[dict[str, Any]] = []
    qs = list(queries)

    def fetch(q: QueryLike) -> pd.DataFrame | QueryError:
        try:
            return client.query_range(q.query, s, e, st)
        except QueryError as exc:
            return exc

    with ThreadPoolExecutor(min(8, max(1, len(qs)))) as pool:  # the queries at once
        results = list(pool.map(fetch, qs))
    for q, got in zip(qs, results, strict=True):
        entry: dict[str, Any] = {
            "name": q.name,
            "query": q.query,
            "unit": q.unit,
            "kind": getattr(q, "kind", "other"),
            "description": getattr(q, "description", ""),
        }
        if isinstance(got, QueryError):
            errors[q.name] = str(got)
            entry.update(file=None, error=str(got))
            first_error = first_error or got
        else:
            frame = got
            path = out_dir / f"{q.name}.parquet"
            frame.to_parquet(path, index=False)
            files[q.name], frames[q.name] = path, frame
            labels = label_columns(frame)
            n_series = len(frame.groupby(labels, observed=True)) if labels else int(len(frame) > 0)
            entry.update(file=path.name, series=n_series, samples=len(frame), error=None)
        listed.append(entry)
    index = out_dir / "queries.json"
    doc = {"start": s, "end": e, "step_s": st, "prometheus": client.base_url, "queries": listed}
    write_json(index, doc)
    if first_error is not None and raise_on_error:
        raise first_error
    return Collected(files=files, frames=frames, errors=errors, index=index)


def summarize_targets(active: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """{job: {"up": n, "total": m}} from Prometheus' activeTargets."""
    out: dict[str, dict[str, int]] = {}
    for t in active:
        job = t.get("labels", {}).get("job", t.get("scrapePool", "?"))
        d = out.setdefault(job, {"up": 0, "total": 0})
        d["total"] += 1
        d["up"] += t.get("health") == "up"
    return out


def scrape_interval(client: PrometheusClient, default: float = 2.0) -> float:
    """The longest scrape interval of the active targets (`default` when it cannot be read)."""
    try:
        got = [parse_go_duration(t["scrapeInterval"]) for t in client.targets()]
    except (WorkbenchError, KeyError, ValueError):
        return default
    return max(got) if got else default


SETTLE_TIMEOUT_S = 15.0


def wait_for_scrape(
    targets: Callable[[], list[dict[str, Any]]],
    after: float,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    timeout: float = SETTLE_TIMEOUT_S,
    poll: float = 0.1,
) -> float | None:
    """Wait until Prometheus has scraped every active target at a time after `after` (Unix s),
    so counters read from then on include everything the servers did before it. Returns the
    time (clock) when that was seen, or None when `timeout` passed first or the targets could
    not be read (the caller settles without it)."""
    unreadable = False

    def scraped() -> bool:
        nonlocal unreadable
        try:
            active = targets()
            last = [parse_rfc3339(str(t.get("lastScrape", ""))) for t in active]
        except (WorkbenchError, ValueError):
            unreadable = True
            return True  # ends the wait at once: there is nothing to wait for
        return bool(last) and min(last) > after

    waited = wait_until(scraped, timeout, every=poll, clock=clock, sleep=sleep)
    return clock() if waited.ok and not unreadable else None

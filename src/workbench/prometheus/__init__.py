"""Prometheus HTTP API into pandas: `client.py` (the HTTP client, `collect`, scrape waits) and
`frames.py` (results as tidy frames, chunking, counter increases; no I/O). Every public name is
importable from here, as it was when this was one module."""

from workbench.prometheus.client import (
    MAX_POINTS,
    POST_THRESHOLD,
    REFUSED_DELAY_S,
    REFUSED_RETRIES,
    RETRY_STATUS,
    SETTLE_TIMEOUT_S,
    Collected,
    PrometheusClient,
    QueryLike,
    StepLike,
    TimeLike,
    collect,
    connection_refused,
    scrape_interval,
    summarize_targets,
    to_seconds,
    to_unix,
    wait_for_scrape,
)
from workbench.prometheus.frames import (
    RESERVED_COLUMNS,
    chunk_range,
    counter_increase,
    label_columns,
    tidy_frame,
    wide_frame,
)

__all__ = [
    "MAX_POINTS",
    "POST_THRESHOLD",
    "REFUSED_DELAY_S",
    "REFUSED_RETRIES",
    "RESERVED_COLUMNS",
    "RETRY_STATUS",
    "SETTLE_TIMEOUT_S",
    "Collected",
    "PrometheusClient",
    "QueryLike",
    "StepLike",
    "TimeLike",
    "chunk_range",
    "collect",
    "connection_refused",
    "counter_increase",
    "label_columns",
    "scrape_interval",
    "summarize_targets",
    "tidy_frame",
    "to_seconds",
    "to_unix",
    "wait_for_scrape",
    "wide_frame",
]

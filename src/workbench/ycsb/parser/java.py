"""Java YCSB's output: the final block (``[READ], Operations, 10``) and ``-s`` status lines
(``... [READ: Count=5, Max=..., Min=..., Avg=...]``). Pure."""

from __future__ import annotations

from workbench.ycsb.parser.lines import _JAVA_BRACKET_RE, _PAIR_EQ_RE, _f, _i
from workbench.ycsb.results import (
    OpStats,
    YcsbResult,
)


def _java_status_rows(rest: str) -> list[OpStats]:
    rows = []
    for m in _JAVA_BRACKET_RE.finditer(rest):
        kv = dict(_PAIR_EQ_RE.findall(m.group("body")))
        count = _i(kv.get("Count"))
        if count is None:
            continue
        rows.append(
            OpStats(
                operation=m.group("name"),
                count=count,
                avg_us=_f(kv.get("Avg")),
                min_us=_f(kv.get("Min")),
                max_us=_f(kv.get("Max")),
                p50_us=_f(kv.get("50")),
                p90_us=_f(kv.get("90")),
                p95_us=_f(kv.get("95")),
                p99_us=_f(kv.get("99")),
                p999_us=_f(kv.get("99.9")),
                p9999_us=_f(kv.get("99.99")),
            )
        )
    return rows


def _java_final_rows(data: dict[str, dict[str, str]], res: YcsbResult) -> list[OpStats]:
    overall = data.get("OVERALL", {})
    if "RunTime(ms)" in overall:
        run_ms = _f(overall["RunTime(ms)"])
        if run_ms is not None and res.run_seconds is None:
            res.run_seconds = run_ms / 1000.0
    rows = []
    for name, metrics in sorted(data.items()):
        if name == "OVERALL" or "Operations" not in metrics:
            continue
        rows.append(
            OpStats(
                operation=name,
                count=_i(metrics.get("Operations")),
                avg_us=_f(metrics.get("AverageLatency(us)")),
                min_us=_f(metrics.get("MinLatency(us)")),
                max_us=_f(metrics.get("MaxLatency(us)")),
                p50_us=_f(metrics.get("50thPercentileLatency(us)")),
                p90_us=_f(metrics.get("90thPercentileLatency(us)")),
                p95_us=_f(metrics.get("95thPercentileLatency(us)")),
                p99_us=_f(metrics.get("99thPercentileLatency(us)")),
                p999_us=_f(metrics.get("99.9PercentileLatency(us)")),
                p9999_us=_f(metrics.get("99.99PercentileLatency(us)")),
            )
        )
    return rows

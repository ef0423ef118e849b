"""A run's faults for the report and compare, read from its `faults.json` (written by the run
layer's faulting module): one row per fault with its recovery numbers, and the distribution over
all faults (median, max, every value), and the server's own view of each fault (the increase of
the subject's raw counters, `server_view`). Only reading and shaping here; the numbers are computed by
workbench.faults.recovery when the run ends, the shading of fault marks on plots is plots.py's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FAULTS_FILE = "faults.json"
# metric -> (column title, unit) in the order the report shows them
METRICS: dict[str, tuple[str, str]] = {
    "unavailability_s": ("unavailability", "s"),
    "throughput_recovery_s": ("throughput back to 90 %", "s"),
    "p99_recovery_s": ("p99 back under 2x", "s"),
    "time_to_first_error_s": ("first error after", "s"),
    "errors_during": ("errors during", ""),
    "errors_after": ("errors after", ""),
}


def read_faults(run_dir: Path) -> dict[str, Any] | None:
    """faults.json as a dict; None when the run had no faults; {"problem": ...} when unreadable."""
    path = Path(run_dir) / FAULTS_FILE
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {"problem": f"{FAULTS_FILE} is unreadable: {type(exc).__name__}: {exc}"}
    return doc if isinstance(doc, dict) else {"problem": f"{FAULTS_FILE} is not an object"}


def _rel(t: float | None, t0: float | None) -> float | None:
    return None if t is None or t0 is None else t - t0


SERVER_KEYS = frozenset({"index", "label", "start", "end"})  # a server_view row's own fields


def server_view(doc: dict[str, Any]) -> tuple[list[str], dict[Any, dict[str, Any]], str | None]:
    """faults.json's `server_view`: the counter names (in its order), each applied fault's
    counters by the fault's index, and the problem when the view could not be taken at all."""
    view = [v for v in doc.get("server_view") or [] if isinstance(v, dict)]
    names: list[str] = []
    for v in view:
        names += [k for k in v if k not in SERVER_KEYS and k != "error" and k not in names]
    by_index = {v["index"]: {n: v.get(n) for n in names} for v in view if "index" in v}
    return names, by_index, next((v["error"] for v in view if "error" in v), None)


def fault_rows(
    doc: dict[str, Any], server: dict[Any, dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """One row per scheduled fault: what was hit, when (s from the run phase's t=0), whether it
    took effect, its recovery numbers (None with the reason when they cannot be told) and the
    server's counters (`server`: from `server_view`; None when the fault has none)."""
    t0 = doc.get("run_t0") or doc.get("t0")
    # recoveries are one per applied fault, in the order of their starts (recovery.recoveries)
    applied = sorted(
        (i for i, f in enumerate(doc.get("faults") or []) if f.get("applied") is not None),
        key=lambda i: doc["faults"][i]["start"],
    )
    recs = dict(zip(applied, doc.get("recoveries") or [], strict=False))
    rows = []
    for i, f in enumerate(doc.get("faults") or []):
        rec = recs.get(i) or {}
        rows.append(
            {
                "label": f.get("label"),
                "service": f.get("service"),
                "resolved_by": f.get("resolved_by"),
                "scheduled": f.get("spec", {}).get("start_s"),
                "start": _rel(f.get("start"), t0),
                "end": _rel(f.get("end"), t0),
                "took_effect": bool(f.get("took_effect")),
                "error": f.get("error") or f.get("undo_error"),
                "metrics": {m: rec.get(m) for m in METRICS},
                "reasons": rec.get("reasons") or {},
                "server": (server or {}).get(f.get("index", i)),
            }
        )
    return rows


def fault_summary(run_dir: Path) -> dict[str, Any] | None:
    """What the report's Faults section shows (None: no faults in this run)."""
    doc = read_faults(run_dir)
    if doc is None or "problem" in doc:
        return doc
    dist = doc.get("distribution") or {}
    server, by_index, server_problem = server_view(doc)
    return {
        "rows": fault_rows(doc, by_index),
        "server": server,
        "server_problem": server_problem,
        "metrics": METRICS,
        "distribution": {m: dist[m] for m in METRICS if m in dist},
        "seed": doc.get("seed"),
        "healthy_after": doc.get("healthy_after"),
    }


def compare_columns(run_dir: Path) -> dict[str, Any]:
    """compare's recovery columns of one run (empty values without faults)."""
    doc = read_faults(run_dir)
    dist = (doc or {}).get("distribution") or {}
    faults = (doc or {}).get("faults") or []
    out: dict[str, Any] = {"faults": len(faults) if doc and "problem" not in doc else 0}
    for metric, short in (("unavailability_s", "unavail"), ("throughput_recovery_s", "recovery")):
        d = dist.get(metric) or {}
        out[f"{short} median s"] = d.get("median")
        out[f"{short} max s"] = d.get("max")
    healthy = (doc or {}).get("healthy_after") or {}
    out["healthy after s"] = healthy.get("took_s")
    return out

"""Grafana dashboards made from a subject's manifest, so the dashboard and the queries never drift.

`dashboard_from_manifest` is pure: one timeseries panel per `[[queries]]` entry, grouped in rows
(throughput, then latency, then resource, then other), units mapped to Grafana's, every panel bound
to the datasource whose uid the manifest fixes (`checks.options.grafana_datasource_uid`).
The generated JSON is committed under the subject (`checks.options.grafana_dashboard_file`) and
provisioned by Grafana; `check` says whether the committed file is current, `write` regenerates it:

    python -m workbench.grafana tikv            # regenerate
    python -m workbench.grafana --check tikv    # exit 1 when out of date
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workbench.errors import ManifestError
from workbench.manifest import Manifest, Query, available_subjects, load_manifest

DATASOURCE_UID_KEY = "grafana_datasource_uid"
DASHBOARD_UID_KEY = "grafana_dashboard_uid"
DASHBOARD_FILE_KEY = "grafana_dashboard_file"
SCHEMA_VERSION = 39  # Grafana 11

# Manifest units -> Grafana unit ids. Unknown units: unit-less, with the unit as the axis label.
UNITS = {
    "ops/s": "ops",
    "s": "s",
    "ms": "ms",
    "us": "µs",
    "bytes": "bytes",
    "bytes/s": "Bps",
    "cores": "short",
    "count": "short",
    "ratio": "percentunit",
    "percent": "percent",
}
KIND_ROWS = (
    ("throughput", "Throughput"),
    ("latency", "Latency"),
    ("resource", "Resources"),
    ("other", "Other"),
)
PANEL_W, PANEL_H, GRID_W = 12, 8, 24
_BY = re.compile(r"\bby\s*\(([^)]*)\)")
_AGGREGATE = re.compile(
    r"\s*(sum|max|min|avg|count|quantile|topk|bottomk|stddev|histogram_quantile)\s*\("
)


def grafana_unit(unit: str) -> str:
    return UNITS.get(unit, "short")


def legend_format(query: Query) -> str:
    """`{{label}}` for the labels of the outermost `by (...)` (the last one), `le` excluded.

    Without `by`: an aggregate is one series (named after the query); a bare selector is one series
    per target (`{{instance}}`).
    """
    groups = _BY.findall(query.query)
    if not groups:
        return query.name if _AGGREGATE.match(query.query) else "{{instance}}"
    labels = [lbl.strip() for lbl in groups[-1].split(",") if lbl.strip() and lbl.strip() != "le"]
    return " ".join(f"{{{{{lbl}}}}}" for lbl in labels) if labels else query.name


def datasource_uid(manifest: Manifest) -> str:
    uid = manifest.check_options.get(DATASOURCE_UID_KEY)
    if not isinstance(uid, str) or not uid:
        raise ManifestError(
            manifest.path,
            f"checks.options.{DATASOURCE_UID_KEY}",
            "a dashboard needs a fixed datasource uid",
        )
    return uid


def dashboard_uid(manifest: Manifest) -> str:
    uid = manifest.check_options.get(DASHBOARD_UID_KEY, f"wb-{manifest.name}")
    if not isinstance(uid, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", uid):
        raise ManifestError(
            manifest.path, f"checks.options.{DASHBOARD_UID_KEY}", f"not a Grafana uid: {uid!r}"
        )
    return uid


def _panel(query: Query, panel_id: int, ds: dict[str, str], x: int, y: int) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "unit": grafana_unit(query.unit),
        "custom": {
            "drawStyle": "line",
            "lineWidth": 1,
            "fillOpacity": 0,
            "showPoints": "never",
            "spanNulls": False,
        },
    }
    if query.unit not in UNITS:
        defaults["custom"]["axisLabel"] = query.unit
    return {
        "id": panel_id,
        "type": "timeseries",
        "title": query.name,
        "description": query.description,
        "datasource": dict(ds),
        "gridPos": {"x": x, "y": y, "w": PANEL_W, "h": PANEL_H},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {
            "legend": {
                "displayMode": "list",
                "placement": "bottom",
                "showLegend": True,
                "calcs": [],
            },
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
        "targets": [
            {
                "refId": "A",
                "datasource": dict(ds),
                "expr": query.query,
                "legendFormat": legend_format(query),
                "range": True,
            }
        ],
    }


def dashboard_from_manifest(manifest: Manifest) -> dict[str, Any]:
    """The Grafana dashboard JSON for a manifest's queries (pure: same manifest, same dict)."""
    ds = {"type": "prometheus", "uid": datasource_uid(manifest)}
    panels: list[dict[str, Any]] = []
    next_id, y = 1, 0
    for kind, title in KIND_ROWS:
        queries = [q for q in manifest.queries if q.kind == kind]
        if not queries:
            continue
        panels.append(
            {"id": next_id, "type": "row", "title": title, "collapsed": False, "panels": [],
             "gridPos": {"x": 0, "y": y, "w": GRID_W, "h": 1}}
        )  # fmt: skip
        next_id, y = next_id + 1, y + 1
        for i, q in enumerate(queries):
            x = (i % (GRID_W // PANEL_W)) * PANEL_W
            panels.append(_panel(q, next_id, ds, x, y))
            next_id += 1
            if x + PANEL_W >= GRID_W or i == len(queries) - 1:
                y += PANEL_H
    return {
        "uid": dashboard_uid(manifest),
        "title": f"Workbench: {manifest.name}",
        "description": manifest.description,
        "tags": ["workbench", manifest.name],
        "editable": False,
        "graphTooltip": 1,
        "timezone": "browser",
        "refresh": "5s",
        "time": {"from": "now-15m", "to": "now"},
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "annotations": {"list": []},
        "templating": {"list": []},
        "panels": panels,
    }


def dashboard_path(manifest: Manifest) -> Path:
    rel = manifest.check_options.get(DASHBOARD_FILE_KEY)
    if not isinstance(rel, str) or not rel:
        raise ManifestError(
            manifest.path, f"checks.options.{DASHBOARD_FILE_KEY}", "no dashboard file is declared"
        )
    return manifest.directory / rel


def render(manifest: Manifest) -> str:
    return json.dumps(dashboard_from_manifest(manifest), indent=2, ensure_ascii=False) + "\n"


def write(manifest: Manifest, path: Path | None = None) -> Path:
    """(Re)generate the dashboard file; returns its path."""
    dest = path or dashboard_path(manifest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(dest.suffix + ".tmp")
    tmp.write_text(render(manifest))
    tmp.replace(dest)
    return dest


def check(manifest: Manifest, path: Path | None = None) -> bool:
    """True when the committed dashboard equals the one generated from the manifest now."""
    src = path or dashboard_path(manifest)
    try:
        committed = json.loads(src.read_text())
    except (OSError, ValueError):
        return False
    return bool(committed == dashboard_from_manifest(manifest))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workbench.grafana", description="Generate Grafana dashboards."
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a dashboard is stale")
    parser.add_argument("subjects", nargs="*", help="default: all with a dashboard")
    args = parser.parse_args(argv)
    manifests = [load_manifest(s) for s in args.subjects] or [
        m for m in map(load_manifest, available_subjects()) if DASHBOARD_FILE_KEY in m.check_options
    ]
    stale = 0
    for m in manifests:
        if args.check:
            ok = check(m)
            stale += not ok
            print(f"{m.name}: {dashboard_path(m)} {'is current' if ok else 'is OUT OF DATE'}")
        else:
            print(f"{m.name}: wrote {write(m)}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())

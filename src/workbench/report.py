"""Code-free, self-contained HTML reports, rendered from a run directory alone.

`render(run_dir)` writes `report.html` (verdicts with evidence at the top, then the numbers, the
figures as embedded PNGs, the per-operation table, stages, parameters, the environment fingerprint
and relative links to every raw file). `render_index(results_dir)` writes `results/index.html`
listing every run; `summarize` gives the numbers both use, and `workbench ls` prints.
Every piece of text that came from outside (logs, labels, errors, parameters) goes through
`html.escape`. No scripts: the page works from a file share or an e-mail attachment.
"""

from __future__ import annotations

import base64
import html
import json
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from workbench import plots
from workbench.artifacts import RunDir, list_run_dirs, run_status
from workbench.model import Verdict

STATUS_COLORS = {
    "passed": "#1a7f37",
    "pass": "#1a7f37",
    "ok": "#1a7f37",
    "failed": "#cf222e",
    "fail": "#cf222e",
    "error": "#9a6700",
    "unknown": "#9a6700",
    "aborted": "#6e7781",
    "skipped": "#6e7781",
    "running": "#0969da",
}

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;
color:#1f2328;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;
border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.88rem}
th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:.1rem .55rem;border-radius:1rem;color:#fff;font-weight:600;
font-size:.85rem}
.failure{border:2px solid #cf222e;background:#fff5f5;padding:.5rem 1rem;border-radius:6px}
pre{background:#f6f8fa;padding:.5rem;overflow-x:auto;font-size:.8rem;white-space:pre-wrap;
margin:.2rem 0}
img{max-width:100%;height:auto;display:block;margin:.5rem 0}
.meta{color:#57606a;font-size:.9rem}details summary{cursor:pointer;color:#0969da}
"""


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def badge(status: str) -> str:
    color = STATUS_COLORS.get(status, "#6e7781")
    return f'<span class="badge" style="background:{color}">{esc(status)}</span>'


def link(rel: str | Path, text: str | None = None) -> str:
    href = quote(str(rel).replace("\\", "/"))
    return f'<a href="{esc(href)}">{esc(text if text is not None else rel)}</a>'


@dataclass(frozen=True)
class RunSummary:
    """The numbers one line of the index (and `workbench ls`) shows for a run."""

    run_id: str
    path: Path
    subject: str
    workload: str
    status: str
    started: str
    verdicts: dict[str, int]
    throughput: float | None  # client ops/s of the run phase
    p99_ms: float | None  # worst client p99 of the run phase's operations
    operations: int | None
    errors: int | None


def _final_total(final: pd.DataFrame | None) -> dict[str, float | None]:
    out: dict[str, float | None] = {"ops": None, "p99_ms": None, "count": None, "errors": None}
    if final is None or final.empty or "operation" not in final.columns:
        return out
    ops = final["operation"].astype(str)
    err = final[ops.str.endswith("_ERROR")]
    good = final[~ops.str.endswith("_ERROR") & (ops != "TOTAL")]
    total = final[ops == "TOTAL"]
    if len(total) and "ops" in final.columns:
        out["ops"] = float(total["ops"].astype(float).iloc[0])
        out["count"] = float(total["count"].astype(float).iloc[0])
    elif len(good):
        out["ops"] = float(good["ops"].sum()) if "ops" in good.columns else None
        out["count"] = float(good["count"].sum())
    if "p99_us" in good.columns and good["p99_us"].notna().any():
        out["p99_ms"] = float(good["p99_us"].max()) / 1000.0
    out["errors"] = float(err["count"].sum()) if len(err) else 0.0
    return out


def summarize(rd: RunDir) -> RunSummary:
    params = rd.record.get("params", {})
    tot = _final_total(rd.ycsb_final("run"))
    counts: dict[str, int] = {}
    for v in rd.verdicts():
        counts[v.status] = counts.get(v.status, 0) + 1
    return RunSummary(
        run_id=rd.run_id,
        path=rd.path,
        subject=str(rd.record.get("subject", "")),
        workload=str(params.get("workload", "")),
        status=rd.status,
        started=str(rd.record.get("started", "")),
        verdicts=counts,
        throughput=tot["ops"],
        p99_ms=tot["p99_ms"],
        operations=None if tot["count"] is None else int(tot["count"]),
        errors=None if tot["errors"] is None else int(tot["errors"]),
    )


def _num(v: float | None, digits: int = 1) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return f"{v:,.{digits}f}"


def _verdicts_html(verdicts: list[Verdict]) -> str:
    if not verdicts:
        return "<p>No verdicts were recorded.</p>"
    rows = []
    order = {"fail": 0, "unknown": 1, "pass": 2, "skipped": 3}
    for v in sorted(verdicts, key=lambda v: (v.phase != "pre", order.get(v.status, 9))):
        evidence = json.dumps(v.evidence, indent=2, default=str, sort_keys=True)
        rows.append(
            f"<tr><td>{badge(v.status)}</td><td>{esc(v.name)}</td><td>{esc(v.phase)}</td>"
            f"<td>{esc(v.summary)}<details><summary>evidence</summary><pre>{esc(evidence)}</pre>"
            f'</details></td><td class="num">{v.duration_s:.2f}s</td></tr>'
        )
    head = "<tr><th>status</th><th>check</th><th>phase</th><th>summary</th><th>took</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"


def _kv_table(d: dict[str, Any], prefix: str = "") -> str:
    rows = []
    for k, v in _flatten(d, prefix):
        rows.append(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>")
    return f"<table>{''.join(rows)}</table>" if rows else "<p>(none)</p>"


def _flatten(d: dict[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            yield from _flatten(v, key + ".")
        else:
            yield key, json.dumps(v) if isinstance(v, list | dict) else v


def _frame_html(df: pd.DataFrame) -> str:
    head = "".join(f"<th>{esc(c)}</th>" for c in [df.index.name or "", *df.columns])
    rows = []
    for idx, row in df.iterrows():
        cells = "".join(f'<td class="num">{esc(plots._fmt(float(v)))}</td>' for v in row)
        rows.append(f"<tr><th>{esc(idx)}</th>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _img(rd: RunDir, name: str, make: Callable[[], Any]) -> str:
    """Embed figures/<name>.png, drawing it from the timeline unless a fresh one exists."""
    path = rd.figures_dir / f"{name}.png"
    if path.is_file() and path.stat().st_mtime >= rd.timeline_path.stat().st_mtime:
        png = path.read_bytes()
    else:
        png = plots.to_png(make())
        path.write_bytes(png)
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{esc(name)}" src="data:image/png;base64,{data}">'


def _stages_html(rd: RunDir) -> str:
    t0 = float(rd.record.get("started_unix") or 0)
    rows = []
    for s in rd.stages():
        took = "—" if s.ended is None else f"{s.ended - s.started:.2f}s"
        rows.append(
            f'<tr><td>{esc(s.name)}</td><td class="num">+{s.started - t0:.2f}s</td>'
            f'<td class="num">{took}</td><td>{badge(s.status)}</td>'
            f"<td><pre>{esc(s.error)}</pre></td></tr>"
            if s.error
            else f'<tr><td>{esc(s.name)}</td><td class="num">+{s.started - t0:.2f}s</td>'
            f'<td class="num">{took}</td><td>{badge(s.status)}</td><td></td></tr>'
        )
    head = "<tr><th>stage</th><th>start</th><th>took</th><th>status</th><th>error</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>" if rows else "<p>No stage was started.</p>"


def _failure_html(rd: RunDir) -> str:
    status = rd.status
    err = rd.record.get("error")
    failed_stage = next((s for s in rd.stages() if s.status in ("error", "aborted")), None)
    if status in ("passed",) and not err:
        return ""
    if status == "failed" and not err:
        return '<div class="failure"><p>One or more checks failed: see the verdicts.</p></div>'
    parts = []
    if status == "running":
        parts.append(
            "<p>The run did not finish: run.json still says <b>running</b> (the process was "
            "killed, or is still going).</p>"
        )
    if failed_stage:
        parts.append(f"<p>Stage <b>{esc(failed_stage.name)}</b> ended: {esc(failed_stage.status)}")
    if err:
        parts.append(f"<pre>{esc(err)}</pre>")
    return f'<div class="failure">{"".join(parts)}</div>' if parts else ""


def render(run_dir: Path | str) -> Path:
    """Write `report.html` of one run directory (and its figures/*.png) from the files alone."""
    rd = RunDir(Path(run_dir))
    s = summarize(rd)
    params = rd.record.get("params", {})
    tl = rd.timeline()
    verdicts = rd.verdicts()
    body = [
        f"<h1>{esc(s.subject)} · workload {esc(s.workload)} · {badge(s.status)}</h1>",
        f'<p class="meta">run {esc(s.run_id)} · started {esc(s.started)} · ended '
        f"{esc(rd.record.get('ended') or '—')}</p>",
        _failure_html(rd),
        "<h2>Verdicts</h2>",
        _verdicts_html(verdicts),
        "<h2>Result</h2>",
        "<table><tr><th>client throughput (run)</th><th>worst p99 (run)</th><th>operations</th>"
        f'<th>errors</th></tr><tr><td class="num">{_num(s.throughput)} ops/s</td>'
        f'<td class="num">{_num(s.p99_ms, 2)} ms</td><td class="num">{_num(s.operations, 0)}</td>'
        f'<td class="num">{_num(s.errors, 0)}</td></tr></table>',
    ]
    if tl is not None and not tl.empty:
        body += [
            "<h2>Throughput</h2>",
            _img(rd, "throughput", lambda: plots.throughput(tl)),
            "<h2>Latency</h2>",
            _img(rd, "latency", lambda: plots.latency(tl)),
        ]
        if (tl["kind"] == "resource").any():
            body += [
                "<h2>Server resources</h2>",
                _img(rd, "resources", lambda: plots.resources(tl)),
            ]
    else:
        body.append("<p>No timeline was recorded (the run stopped before its measurements).</p>")
    for phase in ("run", "load"):
        final = rd.ycsb_final(phase)
        if final is not None and not final.empty:
            body += [f"<h2>Per-operation latency ({esc(phase)})</h2>"]
            body.append(_frame_html(plots.percentile_table(final)))
    body += [
        "<h2>Stages</h2>",
        _stages_html(rd),
        "<h2>Parameters</h2>",
        _kv_table(params),
        "<h2>Environment</h2>",
        _kv_table(rd.record.get("fingerprint", {})),
        "<h2>Raw files</h2><ul>",
        *(f"<li>{link(p)}</li>" for p in rd.files() if p.name != "report.html"),
        "</ul>",
        f'<p class="meta">rendered {esc(time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()))}'
        " from the run directory by workbench report</p>",
    ]
    title = f"{s.subject} {s.workload} {s.status} · {s.run_id}"
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )
    out = rd.path / "report.html"
    tmp = out.with_name(".report.html.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return out


def list_runs(results_dir: Path | str) -> list[RunSummary]:
    """Every run under results_dir, newest first."""
    return [summarize(rd) for rd in reversed(list_run_dirs(results_dir))]


def _verdict_text(counts: dict[str, int]) -> str:
    return " ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "none"


def render_index(results_dir: Path | str) -> Path:
    """Write results_dir/index.html: one row per run with its verdicts, numbers and links."""
    root = Path(results_dir)
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    for s in list_runs(root):
        rid = s.path.name
        links = " ".join(
            link(f"{rid}/{f}", f)
            for f in ("report.html", "run.json", "checks.json", "notebook.ipynb")
            if (s.path / f).is_file()
        )
        has_report = (s.path / "report.html").is_file()
        name = link(f"{rid}/report.html", rid) if has_report else esc(rid)
        rows.append(
            f"<tr><td>{name}</td><td>{esc(s.started)}</td>"
            f"<td>{esc(s.subject)}</td><td>{esc(s.workload)}</td><td>{badge(s.status)}</td>"
            f"<td>{esc(_verdict_text(s.verdicts))}</td>"
            f'<td class="num">{_num(s.throughput)}</td><td class="num">{_num(s.p99_ms, 2)}</td>'
            f"<td>{links}</td></tr>"
        )
    head = (
        "<tr><th>run</th><th>started</th><th>subject</th><th>workload</th><th>status</th>"
        "<th>verdicts</th><th>ops/s</th><th>p99 ms</th><th>files</th></tr>"
    )
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>workbench runs</title>'
        f"<style>{CSS}</style></head><body><h1>Runs in {esc(root.resolve())}</h1>"
        f"<table>{head}{''.join(rows)}</table>"
        f'<p class="meta">{len(rows)} runs</p></body></html>\n'
    )
    out = root / "index.html"
    tmp = root / ".index.html.tmp"
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return out


def format_runs(runs: Iterable[RunSummary]) -> str:
    """The index as a plain-text table (`workbench ls`)."""
    header = ("run", "subject", "workload", "status", "verdicts", "ops/s", "p99 ms")
    lines = [
        (
            s.run_id,
            s.subject,
            s.workload,
            s.status,
            _verdict_text(s.verdicts),
            _num(s.throughput),
            _num(s.p99_ms, 2),
        )
        for s in runs
    ]
    widths = [max(len(str(r[i])) for r in [header, *lines]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(fmt.format(*r).rstrip() for r in [header, *lines])


COMPARE_METRICS = ("ops/s", "p50 ms", "p99 ms", "avg ms", "operations", "errors")


def compare_runs(run_dirs: Iterable[Path | str], baseline: int = 0) -> pd.DataFrame:
    """One row per run (run phase numbers from the final block) plus `Δ% <metric>` columns: the
    difference to the baseline run in percent (missing when either side is missing or zero)."""
    rows = []
    for d in run_dirs:
        rd = RunDir(Path(d))
        s = summarize(rd)
        final = rd.ycsb_final("run")
        total = None
        if final is not None and "operation" in final.columns:
            t = final[final["operation"] == "TOTAL"]
            total = t.iloc[0] if len(t) else None
        params = rd.record.get("params", {})

        def us(col: str, row: Any = total) -> float | None:
            v = None if row is None else row.get(col)
            return None if v is None or pd.isna(v) else float(v) / 1000.0

        rows.append(
            {
                "run": s.run_id,
                "subject": s.subject,
                "workload": s.workload,
                "status": s.status,
                "threads": params.get("threads"),
                "target": params.get("target"),
                "ops/s": s.throughput,
                "p50 ms": us("p50_us"),
                "p99 ms": s.p99_ms,
                "avg ms": us("avg_us"),
                "operations": s.operations,
                "errors": s.errors,
            }
        )
    df = pd.DataFrame(rows).set_index("run")
    if df.empty:
        return df
    base = df.iloc[baseline]
    for m in COMPARE_METRICS:
        vals = pd.to_numeric(df[m], errors="coerce").astype(float)
        b = pd.to_numeric(pd.Series([base[m]]), errors="coerce").astype(float).iloc[0]
        df[f"Δ% {m}"] = (vals - b) / b * 100.0 if b and not pd.isna(b) else float("nan")
    return df


def final_status(rd: RunDir) -> str:
    """The status a finished run deserves from its verdicts (errors are set by the pipeline)."""
    return run_status(rd.verdicts())

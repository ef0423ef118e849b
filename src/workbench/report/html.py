"""HTML pages rendered from a run directory alone, through jinja2 templates (autoescape on).

`render(run_dir)` writes `report.html` (verdicts with evidence at the top, then the numbers, the
figures as embedded PNGs, the per-operation tables, stages, parameters, the environment
fingerprint and relative links to every raw file). `render_index(results_dir)` writes
`results/index.html`, one row per run (a damaged directory is a row saying why) and one per
campaign under results/campaigns/. This module
builds the templates' context; the markup lives in `templates/`, the numbers in summary.py, the
figures in plots.py. Every piece of text that came from outside (logs, labels, errors,
parameters) is escaped by the template engine. No scripts: the page works from a file share or an
e-mail attachment.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from workbench.artifacts import RunDir, index_files, release_reserve, report_of
from workbench.artifacts.campaign import (
    CampaignDir,
    CampaignRecord,
    campaign_report_of,
    scan_campaign_dirs,
)
from workbench.model import Verdict

from . import plots
from .faults import fault_summary
from .operator import operator_summary
from .pages import write_page
from .summary import (
    READ_ERRORS,
    RunSummary,
    list_runs,
    read_verdicts,
    summarize,
    target_text,
    verdict_text,
    worst_text,
)

VERDICT_ORDER = {"fail": 0, "unknown": 1, "pass": 2, "skipped": 3}


def _flatten(d: dict[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            yield from _flatten(v, key + ".")
        else:
            yield key, json.dumps(v) if isinstance(v, list | dict) else v


def _verdict_rows(verdicts: list[Verdict]) -> list[dict[str, Any]]:
    ordered = sorted(verdicts, key=lambda v: (v.phase != "pre", VERDICT_ORDER.get(v.status, 9)))
    return [
        {
            "status": v.status,
            "name": v.name,
            "phase": v.phase,
            "summary": v.summary,
            "evidence": json.dumps(v.evidence, indent=2, default=str, sort_keys=True),
            "duration_s": v.duration_s,
        }
        for v in ordered
    ]


def _stage_rows(rd: RunDir) -> list[dict[str, Any]]:
    t0 = rd.record.started_unix
    return [
        {
            "name": s.name,
            "start": s.started - t0,
            "took": "—" if s.ended is None else f"{s.ended - s.started:.2f}s",
            "status": s.status,
            "error": s.error,
        }
        for s in rd.stages()
    ]


def _failure(rd: RunDir, status: str) -> dict[str, Any] | None:
    """What the red box at the top says, or None when the run passed."""
    err = rd.record.error
    if status in ("passed", "unverified") and not err:
        return None
    failed = next((s for s in rd.stages() if s.status in ("error", "aborted")), None)
    if status in ("failed", "unknown") and failed is None:  # the verdicts below say why, once
        word = "failed" if status == "failed" else "could not be verified"
        return {
            "message": f"One or more checks {word}: see the verdicts below.",
            "stage": None,
            "error": None,
        }
    message = None
    if status == "running":
        message = (
            "The run did not finish: run.json still says running (the process was killed, "
            "or is still going)."
        )
    elif status == "abandoned":
        message = (
            "The run did not finish: run.json still says running, but its process is gone "
            "(killed): the run is abandoned."
        )
    if not (message or failed or err):
        return None
    return {"message": message, "stage": failed, "error": err}


def _figure(rd: RunDir, name: str, title: str, make: Callable[[], Figure]) -> dict[str, str]:
    """figures/<name>.png as base64, drawn from the timeline unless a fresh one exists."""
    png = rd.figure(name)  # drawn after the timeline last changed
    if png is None:
        png = plots.to_png(make())
        rd.save_png(name, png)
    return {"name": name, "title": title, "data": base64.b64encode(png).decode("ascii")}


def _figures(rd: RunDir, tl: pd.DataFrame | None) -> list[dict[str, str]]:
    if tl is None or tl.empty:
        return []
    out = [
        _figure(rd, "throughput", "Throughput", lambda: plots.throughput(tl)),
        _figure(rd, "latency", "Latency", lambda: plots.latency(tl)),
    ]
    if (tl["kind"] == "resource").any():
        out.append(_figure(rd, "resources", "Server resources", lambda: plots.resources(tl)))
    return out


def operation_order(names: Iterable[str]) -> list[str]:
    """TOTAL first, then each operation alphabetically, each -INTENDED row beside its own."""
    names = list(names)
    base = sorted({n.removesuffix("-INTENDED") for n in names} - {"TOTAL"})
    out = []
    for op in ["TOTAL", *base]:
        out += [n for n in (op, f"{op}-INTENDED") if n in names]
    return out + [n for n in names if n not in out]


def _cell(column: str, v: float) -> str:
    if column == "count" and not pd.isna(v):
        return f"{round(v):,}"  # a count is a whole number
    return plots._fmt(float(v))


def _tables(rd: RunDir) -> list[dict[str, Any]]:
    out = []
    for phase in ("run", "load"):
        final = rd.ycsb_final(phase)
        if final is None or final.empty:
            continue
        df = plots.percentile_table(final)
        df = df.loc[operation_order(df.index)]
        rows = [(idx, [_cell(str(c), v) for c, v in row.items()]) for idx, row in df.iterrows()]
        out.append({"phase": phase, "columns": [df.index.name or "", *df.columns], "rows": rows})
    return out


def _bytes(v: Any) -> str:
    n = float(v)
    return f"{n / 2**30:,.1f} GiB" if n >= 2**30 else f"{n / 2**20:,.1f} MiB"


def _environment_rows(rd: RunDir) -> list[tuple[str, Any]]:
    """The fingerprint, flattened; sizes in bytes shown in MiB/GiB."""
    rows = _flatten(rd.record.fingerprint.model_dump(exclude_unset=True))
    return [
        (k, _bytes(v) if ("memory" in k or k.endswith("bytes")) and isinstance(v, int) else v)
        for k, v in rows
    ]


def _param_rows(params: dict[str, Any], tool: str) -> list[tuple[str, Any]]:
    """The run's parameters; an empty tool is the one used, an empty list says `none`."""
    out = []
    for k, v in _flatten(params):
        if k == "tool" and not v:
            v = f"{tool} (the subject's default)" if tool else "the subject's default"
        elif v == "[]" or v == "{}":
            v = "none"
        out.append((k, v))
    return out


def _what_ran(rd: RunDir, tools: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """What was run, in a line: duration, threads, target, tool, faults, operator."""
    p = rd.record.params
    tool = next((t["tool"] for t in tools if t["phase"] == "run"), p.get("tool") or "?")
    duration = p.get("duration")
    ops = p.get("operationcount")
    faults = p.get("faults") or []
    out = [
        ("duration", f"{duration:g} s" if duration else f"{ops:,} operations" if ops else "—"),
        ("threads", str(p.get("threads", "—"))),
        ("target", f"{p['target']:,} ops/s" if p.get("target") else "unthrottled"),
        ("tool", str(tool)),
        ("faults", ", ".join(str(f) for f in faults) if faults else "none"),
    ]
    operator = p.get("operator")
    if operator and operator != "none":
        out.append(("operator", str(operator)))
    return out


def _timeline(rd: RunDir) -> tuple[pd.DataFrame | None, str | None]:
    try:
        return rd.timeline(), None
    except READ_ERRORS as exc:
        return None, f"{type(exc).__name__}: {exc}"


def _tool_rows(rd: RunDir) -> list[dict[str, Any]]:
    """Each phase's YCSB tool and what it cannot measure (PhaseInfo.limitations)."""
    return [
        {"phase": name, "tool": info.tool or "?", "limitations": list(info.limitations)}
        for name, info in rd.record.phases.items()
    ]


def render(run_dir: Path | str) -> Path:
    """Write `report.html` of one run directory (and its figures/*.png) from the files alone."""
    rd = RunDir(Path(run_dir))
    s = summarize(rd)
    verdicts, checks_problem = read_verdicts(rd)
    tl, timeline_problem = _timeline(rd)
    rows = _verdict_rows(verdicts)
    tools = _tool_rows(rd)
    out = write_page(
        rd.report_path,
        "report.html",
        s=s,
        ended=rd.record.ended,
        failure=_failure(rd, s.status),
        verdicts=rows,
        attention=[v for v in rows if v["status"] in ("fail", "unknown")],
        settled=[v for v in rows if v["status"] not in ("fail", "unknown")],
        what_ran=_what_ran(rd, tools),
        checks_problem=checks_problem,
        figures=_figures(rd, tl),
        timeline_problem=timeline_problem,
        tables=_tables(rd),
        tools=tools,
        faults=fault_summary(rd),
        operator=operator_summary(rd),
        stages=_stage_rows(rd),
        params=_param_rows(rd.record.params, next((t["tool"] for t in tools), "")),
        environment=_environment_rows(rd),
        files=[p for p in rd.files() if p.name != "report.html"],
        rendered=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    )
    if s.status != "running":  # over, however it ended: the room kept for its end is not needed
        release_reserve(rd.path)
    return out


def _index_row(s: RunSummary) -> dict[str, Any]:
    return {
        "summary": s,
        "has_report": report_of(s.path).is_file(),
        "files": index_files(s.path),
        "verdicts": verdict_text(s),
        "worst": worst_text(s.numbers),
        "target": target_text(s.target),
    }


def render_index(results_dir: Path | str) -> Path:
    """Write results_dir/index.html: one row per run with its verdicts, numbers and links; a
    damaged run directory is listed as unreadable with the reason, and the others go on."""
    root = Path(results_dir)
    root.mkdir(parents=True, exist_ok=True)
    runs = list_runs(root)
    for s in runs:  # killed runs too (abandoned): nothing will use their reserve any more
        if s.readable and s.status != "running":
            release_reserve(s.path)
    rows = [_index_row(s) for s in runs]
    campaigns = _campaign_rows(root)
    history = (root / "history.html").is_file()  # written by `workbench history --html`
    return write_page(
        root / "index.html",
        "index.html",
        root=root.resolve(),
        rows=rows,
        campaigns=campaigns,
        history=history,
    )


@dataclass(frozen=True)
class CampaignRow:
    """One campaign of the index: its typed record, or why it cannot be read."""

    id: str
    report: bool
    record: CampaignRecord | None = None
    problem: str = ""


def _campaign_rows(root: Path) -> list[CampaignRow]:
    """results/campaigns/*, newest first, through CampaignDir; a damaged one says why."""
    rows = []
    for item in scan_campaign_dirs(root):
        if isinstance(item, CampaignDir):
            rows.append(CampaignRow(item.path.name, item.has_report(), item.record))
        else:
            path, why = item
            rows.append(CampaignRow(path.name, campaign_report_of(path).is_file(), problem=why))
    return rows

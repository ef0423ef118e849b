"""The numbers and the status one line of `workbench ls`, the CLI and the index show for a run.

`summarize(rd)` reads a run directory's record, checks.json and YCSB final block; its numbers are
one `artifacts.Headline` (`final_numbers`): the client counts (operations, errors) come from
`ClientSummary.from_final_rows`, the one rule for a final block, while throughput and the
service-time percentiles come from the TOTAL row and the intended-time p99 from TOTAL-INTENDED
(with a target rate). The worst single operation's p99 is `worst_p99_ms` (with its operation),
named apart. `headline_text` is the one wording of those numbers (the CLI's result line, `ls`).
`display_status` is what a reader shows: a `running` record whose process is gone is
`abandoned`; a `passed` record with no readable verdicts is `unverified`. `list_runs` survives a
damaged directory (it becomes a row saying `unreadable: why`). No HTML here (see html.py).
"""

from __future__ import annotations

import dataclasses
import math
import platform
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil

from workbench.artifacts import Headline, RunDir, scan_run_dirs
from workbench.artifacts.campaign import campaigns_dir
from workbench.errors import ConfigError
from workbench.model import ClientSummary, Verdict

# what a reader may meet in a damaged directory: JSON/CSV/Parquet parse errors are ValueErrors
READ_ERRORS = (ConfigError, OSError, ValueError, KeyError, TypeError)
NOT_OPERATIONS = ("TOTAL", "TARGET")


@dataclass(frozen=True)
class RunSummary:
    """The numbers one line of the index (and `workbench ls`) shows for a run.

    status: what a reader shows (`display_status`), `unreadable` for a damaged directory whose
    reason is in `problem`; `problem` also names an unreadable checks.json of a readable run.
    """

    run_id: str
    path: Path
    subject: str = ""
    workload: str = ""
    status: str = "unreadable"
    started: str = ""
    verdicts: dict[str, int] = field(default_factory=dict)
    numbers: Headline = field(default_factory=Headline)  # of the run phase
    problem: str | None = None
    duration: str = ""  # `10 s` or `5,000 ops`: how long the run phase was asked to run
    threads: int | None = None
    target: int | None = None  # ops/s; 0 = unthrottled
    faults: int = 0  # faults scheduled
    campaign: str = ""  # the campaign the run belongs to, when one in results/campaigns has it

    @property
    def readable(self) -> bool:
        return self.status != "unreadable"


def _float(v: object) -> float | None:
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _is_operation(name: str) -> bool:
    return (
        name not in NOT_OPERATIONS
        and "-" not in name
        and not name.endswith(("_ERROR", "_NOTFOUND"))
    )


def _worst_p99(final: pd.DataFrame) -> tuple[float | None, str | None]:
    """The highest p99 (ms) over the operations' own rows (no TOTAL, _ERROR, -INTENDED), and
    which operation it was."""
    if "p99_us" not in final.columns:
        return None, None
    ops = final[final["operation"].map(_is_operation)]
    p99s = pd.to_numeric(ops["p99_us"], errors="coerce").to_numpy(dtype=float)
    if not len(p99s) or np.isnan(p99s).all():
        return None, None
    i = int(np.nanargmax(p99s))
    return float(p99s[i]) / 1000.0, str(ops["operation"].iloc[i])


def final_numbers(final: pd.DataFrame | None, run_seconds: float | None = None) -> Headline:
    """Headline numbers of a final block: counts through `ClientSummary.from_final_rows`,
    throughput and the service-time percentiles from the TOTAL row, the intended-time p99 from
    TOTAL-INTENDED (present with a target rate), the worst p99 over the operations' own rows."""
    if final is None or final.empty or "operation" not in final.columns:
        return Headline()
    if "count" not in final.columns:
        final = final.assign(count=None)
    final = final.assign(operation=final["operation"].astype(str).str.upper())
    if run_seconds is None and "takes_s" in final.columns:
        run_seconds = _float(pd.to_numeric(final["takes_s"], errors="coerce").max())
    client = ClientSummary.from_final_rows(
        final[final["count"].notna()].itertuples(index=False), run_seconds
    )
    total = final[final["operation"] == "TOTAL"]
    throughput = _float(total["ops"].iloc[0]) if len(total) and "ops" in final.columns else None
    if throughput is None:
        throughput = client.achieved_ops

    def total_ms(col: str, row: str = "TOTAL") -> float | None:
        rows = final[final["operation"] == row]
        us = _float(rows[col].iloc[0]) if len(rows) and col in final.columns else None
        return None if us is None else us / 1000.0

    worst, worst_op = _worst_p99(final)
    has_counts = bool(client.operations) or client.total is not None
    return Headline(
        throughput=throughput,
        p99_ms=total_ms("p99_us"),
        intended_p99_ms=total_ms("p99_us", "TOTAL-INTENDED"),
        p50_ms=total_ms("p50_us"),
        p999_ms=total_ms("p999_us"),
        avg_ms=total_ms("avg_us"),
        worst_p99_ms=worst,
        worst_p99_operation=worst_op,
        operations=client.total_ops if has_counts else None,
        errors=client.total_errors if has_counts else None,
    )


def read_verdicts(rd: RunDir) -> tuple[list[Verdict], str | None]:
    """checks.json's verdicts and, when it cannot be read, why (the verdicts are then [])."""
    try:
        return rd.verdicts(), None
    except READ_ERRORS as exc:
        return [], str(exc)


def process_gone(rd: RunDir) -> bool:
    """True when a `running` record's writer and supervisor are both dead on this host (a run
    recorded on another host cannot be judged from here: False)."""
    rec = rd.record
    host = rec.fingerprint.host.hostname
    if host and host != platform.node():
        return False
    pids = [rec.pid] + ([rec.supervisor.pid] if rec.supervisor else [])
    return not any(psutil.pid_exists(p) for p in pids if p > 0)


def display_status(rd: RunDir, verdicts: list[Verdict], checks_problem: str | None) -> str:
    """The status a reader shows: the record's, except `abandoned` for a `running` record whose
    process is gone and `unverified` for a `passed` record without readable verdicts."""
    status = rd.status
    if status == "running" and process_gone(rd):
        return "abandoned"
    if status == "passed" and (checks_problem or not verdicts):
        return "unverified"
    return status


def _run_seconds(rd: RunDir) -> float | None:
    phase = rd.record.phases.get("run")
    return None if phase is None else phase.run_seconds


def summarize(rd: RunDir) -> RunSummary:
    verdicts, problem = read_verdicts(rd)
    counts: dict[str, int] = {}
    for v in verdicts:
        counts[v.status] = counts.get(v.status, 0) + 1
    return RunSummary(
        run_id=rd.run_id,
        path=rd.path,
        subject=rd.record.subject,
        workload=str(rd.record.params.get("workload", "")),
        status=display_status(rd, verdicts, problem),
        started=rd.record.started,
        verdicts=counts,
        numbers=final_numbers(rd.ycsb_final("run"), _run_seconds(rd)),
        problem=problem,
        **_asked(rd.record.params),
    )


def _asked(params: dict[str, Any]) -> dict[str, Any]:
    """What a run was asked to do, as the index shows it (old records may lack any of it)."""
    duration, ops = _float(params.get("duration")), params.get("operationcount")
    threads, target = params.get("threads"), params.get("target")
    return {
        "duration": f"{duration:g} s"
        if duration
        else f"{ops:,} ops"
        if isinstance(ops, int)
        else "",
        "threads": threads if isinstance(threads, int) else None,
        "target": target if isinstance(target, int) else None,
        "faults": len(params.get("faults") or ()),
    }


def _campaign_of(run_id: str, campaign_ids: Iterable[str]) -> str:
    """`<campaign_id>-003-t8-r1` belongs to campaign `<campaign_id>`."""
    return next((c for c in campaign_ids if re.match(re.escape(c) + r"-\d{3}-", run_id)), "")


def unreadable(path: Path, why: str) -> RunSummary:
    """A damaged run directory's row; `why` names its files relative to it."""
    return RunSummary(run_id=path.name, path=path, problem=why.replace(f"{path}/", ""))


def list_runs(results_dir: Path | str) -> list[RunSummary]:
    """Every run under results_dir, newest first; a damaged one is an `unreadable` summary."""
    out = []
    root = campaigns_dir(results_dir)
    campaigns = (
        sorted((p.name for p in root.iterdir()), key=len, reverse=True) if root.is_dir() else []
    )
    for item in reversed(scan_run_dirs(results_dir)):
        if not isinstance(item, RunDir):
            out.append(unreadable(*item))
            continue
        try:
            s = summarize(item)
        except READ_ERRORS as exc:
            out.append(unreadable(item.path, f"{type(exc).__name__}: {exc}"))
            continue
        out.append(dataclasses.replace(s, campaign=_campaign_of(s.run_id, campaigns)))
    return out


def num(v: float | None, digits: int = 1) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return f"{v:,.{digits}f}"


def worst_text(n: Headline) -> str:
    """`3.90 (UPDATE)`: the worst operation's p99 in ms with its name, or `—`."""
    if n.worst_p99_ms is None:
        return "—"
    return f"{num(n.worst_p99_ms, 2)} ({n.worst_p99_operation})"


def ms(v: float | None) -> str:
    return "—" if v is None else f"{num(v, 2)} ms"


def headline_text(n: Headline) -> str:
    """The one wording of a run's headline: throughput, the service-time p99 and, with a target
    rate, the intended-time p99 (TOTAL-INTENDED: from the intended send time, so it counts the
    wait behind a stall that the service time hides), each named; then the worst operation's."""
    ops = "—" if n.throughput is None else f"{num(n.throughput)} ops/s"
    text = f"{ops}, service-time p99 {ms(n.p99_ms)}"
    if n.intended_p99_ms is not None:
        text += f", intended-time p99 {ms(n.intended_p99_ms)}"
    if n.worst_p99_ms is not None:
        text += f", worst op p99 {ms(n.worst_p99_ms)} ({n.worst_p99_operation})"
    return text


def verdict_text(s: RunSummary) -> str:
    if s.problem and s.readable:
        return "checks.json unreadable"
    return " ".join(f"{n} {k}" for k, n in sorted(s.verdicts.items())) or "none"


HEADER = (
    "run", "subject", "workload", "status", "verdicts", "duration", "threads", "target",
    "faults", "campaign", "ops/s", "service p99 ms", "intended p99 ms", "worst op p99 ms",
)  # fmt: skip
RIGHT = {"duration", "threads", "target", "faults", "ops/s", "service p99 ms", "intended p99 ms",
         "worst op p99 ms"}  # fmt: skip


def target_text(target: int | None) -> str:
    return "—" if target is None else "unthrottled" if target == 0 else f"{target:,}"


def format_runs(runs: Iterable[RunSummary]) -> str:
    """The index as a plain-text table (`workbench ls`); a damaged run is `unreadable: why`."""
    runs = list(runs)
    lines = [
        (
            s.run_id,
            s.subject,
            s.workload,
            s.status,
            verdict_text(s),
            s.duration or "—",
            "—" if s.threads is None else str(s.threads),
            target_text(s.target),
            str(s.faults),
            s.campaign or "—",
            num(s.numbers.throughput),
            num(s.numbers.p99_ms, 2),
            num(s.numbers.intended_p99_ms, 2),
            worst_text(s.numbers),
        )
        for s in runs
        if s.readable
    ]
    widths = [max(len(str(r[i])) for r in [HEADER, *lines]) for i in range(len(HEADER))]
    fmt = "  ".join(
        f"{{:{'>' if h in RIGHT else '<'}{w}}}" for h, w in zip(HEADER, widths, strict=True)
    )
    rows = iter(lines)
    out = [fmt.format(*HEADER).rstrip()]
    for s in runs:  # keep the newest-first order, damaged ones in their place
        out.append(fmt.format(*next(rows)).rstrip() if s.readable else unreadable_line(s, widths))
    return "\n".join(out)


def unreadable_line(s: RunSummary, widths: list[int]) -> str:
    return f"{s.run_id:<{widths[0]}}  unreadable: {s.problem}"

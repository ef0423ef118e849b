"""`workbench findmax`: the capacity search (workbench.capacity) driven on a real target.

`findmax(params)` checks every parameter first (one ParameterError, nothing started), opens
`results/capacity/<id>/` (or, with `resume`, the newest unfinished search of the same target and
objective), holds one stack for the whole search (none for the `basic` binding), runs the search
with a prober from run.probes (each probe a run directory under `probes/`), writes capacity.json
after every probe and the report at the end. Ctrl-C: the search is recorded `interrupted`, the
stack taken down, and `--resume` replays the probes kept (the search is deterministic given its
probes' verdicts) and goes on from the first one missing.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from workbench import report
from workbench.capacity import CapacityDoc, Objective, Probe, Search, parse_objective
from workbench.capacity.judge import min_samples
from workbench.capacity.record import Settings, Step, read_capacity, write_capacity
from workbench.errors import ConfigError, ParameterError, WorkbenchError
from workbench.manifest import Manifest, load_manifest
from workbench.params import RunParams, validate_run
from workbench.run.attached import HeldStack
from workbench.run.probes import NativeProber, StackProber

Progress = Callable[[str], None]
BINDINGS = ("", "basic")
CAPACITY_DIR = "capacity"
PROBE_WARMUP_S = 1.0
MAX_PROBE_S = 60.0  # a probe lengthened for samples at a low rate, at most this long


@dataclass(frozen=True)
class FindmaxParams:
    subject: str
    workload: str
    objective: Objective
    settings: Settings
    threads: int = 8
    recordcount: int = 1000
    binding: str = ""  # "": the subject's stack; "basic": the native generator, no stack
    props: dict[str, str] = field(default_factory=dict)
    results_dir: Path = Path("results")
    resume: bool = False

    def probe_seconds(self, offered: float) -> float:
        """The probe's measured seconds: `probe_duration`, longer at a low rate so that it has
        the samples the objective's bound needs (10% more), at most MAX_PROBE_S."""
        need = min_samples(self.objective.quantile, self.settings.confidence) * 1.1
        low_rate = math.ceil(need / offered) if offered > 0 else 0
        return float(max(self.settings.probe_duration_s, min(low_rate, MAX_PROBE_S)))

    def run_params(self, offered: float, run_id: str, results: Path) -> RunParams:
        """One probe's run parameters (validated as `workbench run` validates them)."""
        return validate_run(
            {
                "subject": self.subject,
                "workload": self.workload,
                "threads": self.threads,
                "recordcount": self.recordcount,
                # a warmup second first (threads starting, the first due times): left out
                "duration": self.probe_seconds(offered) + PROBE_WARMUP_S,
                "warmup": PROBE_WARMUP_S,
                "target": round(offered),
                "props": dict(self.props),
                "tool": "native" if self.binding else "",
                "run_id": run_id,
                "results_dir": str(results),
            }
        )


def settings_problems(s: Settings) -> list[str]:
    """What is wrong with the search's settings (no I/O)."""
    problems = []
    if s.probe_duration_s < 3:
        problems.append(
            f"probe-duration: at least 3 s (a slope needs intervals), got {s.probe_duration_s:g}"
        )
    if s.start is not None and s.start < 1:
        problems.append(f"start: at least 1 ops/s, got {s.start:g}")
    if not 0 < s.precision < 1:
        problems.append(f"precision: a share in (0, 1), got {s.precision:g}")
    if not 0 <= s.max_error_rate < 1:
        problems.append(f"max-errors: a share of operations in [0, 1), got {s.max_error_rate:g}")
    if s.repeats < 1:
        problems.append(f"repeats: at least 1, got {s.repeats}")
    return problems


def build_params(
    *,
    slo: str,
    subject: str = "etcd",
    workload: str = "a",
    binding: str = "",
    props: list[str] | dict[str, str] | None = None,
    threads: int = 8,
    recordcount: int = 1000,
    max_errors: float = 0.0,
    probe_duration: float = 10.0,
    start: float | None = None,
    precision: float = 0.05,
    repeats: int = 3,
    max_probes: int = 30,
    tolerate_host: bool = False,
    results_dir: str | Path = "results",
    resume: bool = False,
) -> FindmaxParams:
    """The CLI's and the notebook's parameters as FindmaxParams; every problem in one
    ParameterError (check_params adds those that need the subject), before anything starts."""
    problems: list[str] = []
    objective = None
    try:
        objective = parse_objective(slo)
    except ParameterError as exc:
        problems.extend(exc.problems)
    pairs: dict[str, str] = dict(props) if isinstance(props, dict) else {}
    for item in [] if isinstance(props, dict) else (props or []):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            problems.append(f"-p: expected KEY=VALUE, got {item!r}")
            continue
        pairs[key.strip()] = value.strip()
    if threads < 1:
        problems.append(f"threads: at least 1, got {threads}")
    try:
        settings = Settings(start=start, precision=precision, repeats=repeats,
                            max_probes=max_probes, max_error_rate=max_errors,
                            probe_duration_s=probe_duration, tolerate_host=tolerate_host)  # fmt: skip
    except ValidationError as exc:
        problems.extend(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    else:
        problems.extend(settings_problems(settings))
    if problems:
        raise ParameterError(problems)
    assert objective is not None
    return FindmaxParams(subject=subject, workload=workload, objective=objective,
                         settings=settings, threads=threads, recordcount=recordcount,
                         binding=binding, props=pairs, results_dir=Path(results_dir),
                         resume=resume)  # fmt: skip


def check_params(p: FindmaxParams) -> Manifest:
    """Every problem in one ParameterError, before anything starts; the subject's manifest."""
    problems: list[str] = []
    manifest = None
    try:
        manifest = load_manifest(p.subject)
    except WorkbenchError as exc:
        problems.append(f"subject: {exc}")
    if manifest is not None and manifest.ycsb is None:
        problems.append(f"subject: {manifest.name} has no YCSB workload to probe with")
    if p.binding not in BINDINGS:
        problems.append(f"binding: {p.binding!r} is not one findmax drives; valid: basic")
    if not problems:  # a probe's run parameters as `workbench run` checks them
        try:
            p.run_params(100, "findmax-check", p.results_dir)
        except ParameterError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ParameterError(problems)
    assert manifest is not None
    return manifest


# ---- the search on disk -------------------------------------------------------------------------
def _suffix(p: FindmaxParams) -> str:
    target = f"{p.binding}-binding" if p.binding else Path(p.subject).name
    return f"{target}-{p.workload}"


def open_search(p: FindmaxParams, manifest: Manifest) -> tuple[Path, CapacityDoc, list[Probe]]:
    """The search's directory and record: new, or with `resume` the newest unfinished one of
    the same target, workload and objective (its probes to replay). ConfigError: none."""
    root = (p.results_dir / CAPACITY_DIR).resolve()
    if p.resume:
        for path in sorted(root.glob(f"*-{_suffix(p)}"), reverse=True):
            with contextlib.suppress(ConfigError):
                old = read_capacity(path / "capacity.json")
                same = old.objective == p.objective and old.settings == p.settings
                if same and old.status in ("running", "interrupted"):
                    fresh = old.model_copy(update={"probes": [], "path": [], "notes": []})
                    return path, fresh, list(old.probes)
        raise ConfigError(f"nothing to resume for {_suffix(p)} with these settings in {root}")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    cap_id = f"{stamp}-{_suffix(p)}"
    path = root / cap_id
    n = 1
    while path.exists():  # two searches started in one second
        n += 1
        path = root / f"{cap_id}.{n}"
    path.mkdir(parents=True)
    target = (
        f"the native generator's {p.binding} binding, no stack"
        if p.binding
        else f"{manifest.name} (one stack held for the search)"
    )
    doc = CapacityDoc(id=path.name, subject=manifest.name, workload=p.workload, target=target,
                      objective=p.objective, settings=p.settings, started_unix=time.time())  # fmt: skip
    if p.settings.tolerate_host:
        doc.notes.append("host contention tolerated: probes on a busy (shared) host were judged")
    return path, doc, []


class Replay:
    """The probes a resumed search kept, handed back in order while the search asks for the same
    rate and step; then the live prober."""

    def __init__(self, kept: list[Probe], live: Callable[[float, Step], Probe]) -> None:
        self.kept, self.live = list(kept), live

    def __call__(self, offered: float, step: Step) -> Probe:
        if self.kept and (self.kept[0].offered, self.kept[0].step) == (offered, step):
            return self.kept.pop(0)
        self.kept = []  # the path diverged (or ended): nothing more to replay
        return self.live(offered, step)


def findmax(p: FindmaxParams, progress: Progress = print) -> tuple[Path, CapacityDoc]:
    """The whole search; returns its directory and record (also when it found no capacity)."""
    manifest = check_params(p)
    path, doc, kept = open_search(p, manifest)
    probes_dir = path / "probes"
    began, before = time.monotonic(), (doc.wall_s or 0.0)
    progress(f"findmax {doc.id}: {doc.target}, workload {p.workload}, {p.objective.text()}")
    if kept:
        progress(f"  resuming: {len(kept)} probe(s) kept")

    def save(d: CapacityDoc) -> None:
        d.wall_s = round(before + time.monotonic() - began, 1)
        write_capacity(path / "capacity.json", d)

    def live(prober: Callable[[float, Step, str], Probe]) -> Callable[[float, Step], Probe]:
        def probe(offered: float, step: Step) -> Probe:
            run_id = _free(probes_dir, f"p{len(doc.probes):02d}-{step}-{round(offered)}")
            rate = f"{offered:,.0f} ops/s" if offered else "unthrottled"
            progress(f"probe {len(doc.probes) + 1}: {step} at {rate} ...")
            got = prober(offered, step, run_id)
            shown = f"{got.percentile_bound_ms:.2f} ms" if got.percentile_bound_ms else "—"
            progress(f"  {got.verdict}: achieved {got.achieved:,.1f} ops/s, "
                     f"{p.objective.label} bound {shown}")  # fmt: skip
            return got

        return probe

    try:
        if p.binding:
            prober = NativeProber(p, manifest, probes_dir, progress)
            Search(doc, Replay(kept, live(prober)), save).run()
        else:
            with HeldStack(manifest, path, progress=progress) as held:
                stack_prober = StackProber(held, p, probes_dir, progress)
                Search(doc, Replay(kept, live(stack_prober)), save).run()
    except KeyboardInterrupt:
        doc.status = "interrupted"
        save(doc)
        report.render_capacity(path, doc)
        raise
    except Exception as exc:
        doc.status = "error"
        doc.notes.append(f"{type(exc).__name__}: {exc}")
        save(doc)
        report.render_capacity(path, doc)
        raise
    save(doc)
    report.render_capacity(path, doc)
    return path, doc


def _free(parent: Path, run_id: str) -> str:
    """`run_id`, or `run_id-a2`... when an interrupted attempt left that directory."""
    n, out = 1, run_id
    while (parent / out).exists():
        n += 1
        out = f"{run_id}-a{n}"
    return out

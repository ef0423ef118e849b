"""The checks framework: a context of observations, a registry by name, verdicts as results
(written to checks.json by workbench.artifacts, not here).

A check is two functions: `gather(ctx) -> observation` talks to the stack (HTTP, Prometheus, the
probe container) and `judge(observation, options) -> Judgement` is a pure function, unit-tested on
hand-made observations. `run_checks` times each check and turns anything that prevented observing
into an `unknown` verdict with the error as evidence: a check never passes silently and never
raises. Raising is a separate step (`raise_for_verdicts`). A check may need other verdicts
(`needs`): those run first, and when one of them is not `pass` the check says `unknown` with the
reason instead of judging (counts from a partly scraped cluster are not a failure of the store).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from workbench.errors import CheckFailed, ConfigError
from workbench.faults.outcome import FaultObservation
from workbench.jsonio import jsonable
from workbench.model import ClientSummary, Phase, Verdict, VerdictStatus
from workbench.operator.scores import OperatorObservation

if TYPE_CHECKING:
    import httpx
    import pandas as pd

    from workbench.manifest import Manifest


class PrometheusAPI(Protocol):
    """What checks need from Prometheus (workbench.prometheus.PrometheusClient satisfies it)."""

    base_url: str

    def query(self, promql: str, at: float | None = None) -> pd.DataFrame: ...

    def targets(self, state: str = "active") -> list[dict[str, Any]]: ...


class HostView(Protocol):
    """What the host-contention check reads (workbench.telemetry.HostSampler satisfies it)."""

    def contention(self, start: float, end: float) -> dict[str, Any]: ...


class ProbeOutput(Protocol):
    """The finished probe container (subprocess.CompletedProcess satisfies it)."""

    returncode: int
    stdout: str


class Unobservable(Exception):
    """Raised by a gather step: the observation could not be made → verdict `unknown`."""

    def __init__(self, reason: str, evidence: Mapping[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.evidence = dict(evidence or {})


class NotApplicable(Exception):
    """Raised by a gather step: the check does not apply to this subject → verdict `skipped`."""


@dataclass(frozen=True)
class Judgement:
    status: VerdictStatus
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass
class CheckContext:
    """Everything checks may observe. Build it with `from_manifest` in the pipeline or CLI.

    endpoints / network_endpoints: resolved URLs by manifest endpoint name, as seen from the host
    and from inside the compose network. expected_targets: Prometheus job → target count.
    probe: runs the probe container inside the network and returns its finished process.
    client, window: the YCSB run summary and the run window (unix s) for post checks;
    baseline_window: an idle span before the load, to subtract the server's background traffic.
    """

    subject: str
    endpoints: dict[str, str]
    network_endpoints: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    expected_targets: dict[str, int] = field(default_factory=dict)
    http: httpx.Client | None = None
    prometheus: PrometheusAPI | None = None
    probe: Callable[[], ProbeOutput] | None = None
    client: ClientSummary | None = None
    #: several generators: each one's own summary (its share of the target); () for one
    generator_clients: tuple[ClientSummary, ...] = ()
    window: tuple[float, float] | None = None
    baseline_window: tuple[float, float] | None = None
    #: when the client had certainly stopped (its process ended); the window's end may be earlier
    #: (it leaves out the tool's exit), but server counters are read after a scrape past this
    traffic_ended: float | None = None
    #: the measured phase's per-interval client counts (start, end Unix s, operation, count)
    client_intervals: pd.DataFrame | None = None
    #: the run phase's faults, each with its recovery numbers, and the health after the last
    #: (RunFaults.observation(), or FaultsDoc.observation() of a written run); None: no schedule
    faults: FaultObservation | None = None
    #: the operator under test's scores (workbench.operator.scoring); None: no operator ran and
    #: no fault was persistent (the operator checks are skipped)
    operator: OperatorObservation | None = None
    #: the host over the run (CPU busy outside the stack, other workbench stacks); None: not sampled
    host: HostView | None = None
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep

    @classmethod
    def from_manifest(
        cls, manifest: Manifest, ports: Mapping[str, int] | None = None, **kwargs: Any
    ) -> CheckContext:
        p = dict(ports or {})
        host = {n: manifest.endpoint(n, "host", p) for n in manifest.endpoints}
        net = {n: manifest.endpoint(n, "network", p) for n in manifest.endpoints}
        jobs = dict(manifest.readiness_targets.jobs) if manifest.readiness_targets else {}
        return cls(
            subject=manifest.name,
            endpoints=host,
            network_endpoints=net,
            options=dict(manifest.check_options),
            expected_targets=jobs,
            **kwargs,
        )

    def require_http(self) -> httpx.Client:
        if self.http is None:
            raise Unobservable("no HTTP client in the check context")
        return self.http

    def require_prometheus(self) -> PrometheusAPI:
        if self.prometheus is None:
            raise Unobservable("no Prometheus client in the check context")
        return self.prometheus

    def urls(self, endpoint: str, where: str = "host") -> list[str]:
        table = self.endpoints if where == "host" else self.network_endpoints
        if endpoint not in table:
            raise Unobservable(f"subject {self.subject!r} has no {endpoint!r} endpoint")
        return [u.strip().rstrip("/") for u in table[endpoint].split(",") if u.strip()]


Gather = Callable[[CheckContext], Any]
Judge = Callable[[Any, Mapping[str, Any]], Judgement]


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    gather: Gather
    judge: Judge
    #: it needs the stack up but not idle (e.g. it starts a container to look from inside the
    #: network): a benchmark may run it beside the load phase instead of before it
    beside_traffic: bool = False
    #: verdicts it needs to be `pass` (run first when among the checks asked for); otherwise it
    #: is `unknown` with the reason, its judge not run
    needs: tuple[str, ...] = ()


REGISTRY: dict[str, Check] = {}


def register(
    name: str,
    description: str,
    gather: Gather,
    judge: Judge,
    *,
    beside_traffic: bool = False,
    needs: Sequence[str] = (),
) -> Check:
    if name in REGISTRY:
        raise ValueError(f"check {name!r} registered twice")
    REGISTRY[name] = Check(name, description, gather, judge, beside_traffic, tuple(needs))
    return REGISTRY[name]


def available_checks() -> list[str]:
    return sorted(REGISTRY)


def get_check(name: str) -> Check:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown check {name!r}; valid: {', '.join(available_checks())}"
        ) from None


def validate_check_names(names: Iterable[str]) -> None:
    """Raise one ConfigError naming every unknown check (before anything starts)."""
    bad = [n for n in names if n not in REGISTRY]
    if bad:
        raise ConfigError(
            f"unknown check(s) {', '.join(map(repr, bad))}; valid: {', '.join(available_checks())}"
        )


def run_check(name: str, ctx: CheckContext, phase: Phase) -> Verdict:
    """Gather, judge and time one check. Never raises for what happens inside the check."""
    check = get_check(name)
    started = time.time()
    t0 = time.perf_counter()
    try:
        obs = check.gather(ctx)
        j = check.judge(obs, ctx.options)
    except NotApplicable as exc:
        j = Judgement("skipped", str(exc))
    except Unobservable as exc:
        j = Judgement("unknown", exc.reason, exc.evidence)
    except Exception as exc:  # a check that crashes has not verified anything
        tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
        j = Judgement("unknown", f"check could not run: {tb}", {"error": tb})
    return Verdict(
        name=name,
        phase=phase,
        status=j.status,
        summary=j.summary,
        evidence=jsonable(j.evidence),
        started_at=started,
        duration_s=time.perf_counter() - t0,
    )


def run_checks(
    names: Sequence[str], ctx: CheckContext, phase: Phase, *, parallel: bool = False
) -> list[Verdict]:
    """Every named check, verdicts in the order named. Checks run in waves (`waves`): the needed
    ones first. `parallel`: a wave's checks at the same time, one thread each (they only observe;
    the slowest, e.g. the probe container, sets the wave's length)."""
    validate_check_names(names)
    done: dict[str, Verdict] = {}

    def one(name: str) -> Verdict:
        return blocked_verdict(name, done, phase) or run_check(name, ctx, phase)

    for wave in waves(names):
        if parallel and len(wave) > 1:
            with ThreadPoolExecutor(len(wave), thread_name_prefix="check") as pool:
                done.update(zip(wave, pool.map(one, wave), strict=True))
        else:
            done.update((n, one(n)) for n in wave)
    return [done[n] for n in names]


def waves(names: Sequence[str]) -> list[list[str]]:
    """The named checks in dependency order: each wave needs only verdicts of earlier waves. A
    need that is not among `names` is not enforced; needs in a cycle are a ConfigError."""
    asked = list(dict.fromkeys(names))
    pending, done, out = asked, set[str](), []
    while pending:
        wave = [n for n in pending if all(d in done or d not in asked for d in get_check(n).needs)]
        if not wave:
            raise ConfigError(f"checks need each other in a cycle: {', '.join(pending)}")
        out.append(wave)
        done.update(wave)
        pending = [n for n in pending if n not in done]
    return out


def blocked_verdict(name: str, done: Mapping[str, Verdict], phase: Phase) -> Verdict | None:
    """`unknown` when a verdict `name` needs is in `done` and not `pass`; None: run it."""
    for need in get_check(name).needs:
        v = done.get(need)
        if v is not None and v.status != "pass":
            return Verdict(
                name=name,
                phase=phase,
                status="unknown",
                summary=f"needs {need}, which is {v.status}: {v.summary}",
                evidence={"needs": need, "needed_status": v.status, "needed_summary": v.summary},
                started_at=time.time(),
                duration_s=0.0,
            )
    return None


def exit_code(verdicts: Sequence[Verdict]) -> int:
    """0 all pass/skipped, 1 any fail, 2 none failed but some unknown."""
    statuses = {v.status for v in verdicts}
    if "fail" in statuses:
        return 1
    if "unknown" in statuses:
        return 2
    return 0


def raise_for_verdicts(verdicts: Sequence[Verdict], *, allow_unknown: bool = True) -> None:
    """Raise CheckFailed naming every failed (and, if not allowed, unknown) check."""
    blocking = {"fail"} if allow_unknown else {"fail", "unknown"}
    bad = [v for v in verdicts if v.status in blocking]
    if bad:
        lines = "\n".join(f"  - {v.name} [{v.phase}] {v.status}: {v.summary}" for v in bad)
        err = CheckFailed(f"{len(bad)} check(s) did not pass:\n{lines}")
        err.verdicts = list(bad)  # type: ignore[attr-defined]
        raise err


def format_table(verdicts: Sequence[Verdict]) -> str:
    """A plain-text table: phase, check, status, duration, summary."""
    rows = [("PHASE", "CHECK", "STATUS", "TIME", "SUMMARY")]
    rows += [
        (v.phase, v.name, v.status.upper(), f"{v.duration_s:.2f}s", v.summary) for v in verdicts
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4]
        for r in rows
    )

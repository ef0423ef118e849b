"""The operator under test during a run: started before the load phase, watched while the run
phase's faults play, scored from each fault's onset when the run phase ends.

    op = RunOperator.for_run(params, manifest, faults)   # ParameterError before anything starts
    op.start(stack, rd)            # engine events, membership rounds, the operator's container
    ... load, run phase (faults) ...
    op.phase_ended()               # the last membership round: BEFORE the workbench undoes faults
    op.finish(rd, stack, faults, phase, params)  # read-back, exit, events, scores → operator.json
    op.close()                     # on every path: threads stopped, the container stopped

What it keeps (the run directory's `operator/` folder, `logs/operator.log`, `operator.json`):
the operator's own events (the folder is mounted into its container as /wb-events), every
lifecycle event of the stack's containers from the engine (attributed to the injector or the
operator: workbench.operator.contract.attribute), the cluster's membership once a second from
its API, the operator's exit code and last lines, a read-back of every loaded key, and the
scores (workbench.operator.scoring). With `--operator none` and a persistent fault this is the
control: the same watch with nobody acting. Nothing here raises into the run after `start`:
what could not be seen is a reason in operator.json, and the checks say `unknown`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping, Sequence

import httpx
import pandas as pd

from workbench import proc
from workbench.artifacts import RunDir
from workbench.artifacts.operator import (
    MembershipSummary,
    OperatorDoc,
    OperatorExit,
    ReadBack,
)
from workbench.cluster.etcd import EtcdClient, EtcdCluster
from workbench.cluster.pd import PDCluster
from workbench.docker import cli as docker
from workbench.docker.engine import DOCKER_SOCKET
from workbench.docker.events import Event
from workbench.docker.recorder import EventRecorder
from workbench.errors import ClusterError, ParameterError, WorkbenchError
from workbench.faults.targets import FaultsConfig
from workbench.manifest import Manifest
from workbench.operator.contract import MembershipSample, attribute, read_events
from workbench.operator.membership import MembershipSampler, Round, etcd_round, pd_round
from workbench.operator.plan import (
    REFERENCE,
    REFERENCE_ENTRYPOINT,
    REFERENCE_IMAGE,
    image_problems,
)
from workbench.operator.scores import OperatorObservation
from workbench.operator.scoring import OperatorInputs, score
from workbench.params import RunParams
from workbench.run.faulting import RunFaults, series_for_recovery
from workbench.stack import Stack
from workbench.ycsb.native.props import load_properties
from workbench.ycsb.native.workload import build_workload
from workbench.ycsb.tools import PhaseRecord

EVENTS_IN_CONTAINER = "/wb-events"
IMAGE_ENV, PULL_ENV = "WB_OPERATOR_IMAGE", "WB_OPERATOR_PULL_POLICY"
LOG_TAIL = 20
STOP_TIMEOUT_S = 2


def membership_round(
    config: FaultsConfig, stack: Stack, http: httpx.Client
) -> tuple[Round | None, str | None]:
    """The subject's membership round (from the host, through its member URLs), or why none."""
    if config.leader is None:
        return None, "the subject names no cluster members ([faults.leader])"
    urls = config.member_urls(lambda u: stack.manifest.resolve(u, stack.ports))
    if config.leader.kind == "etcd":
        return etcd_round(EtcdCluster(http, urls, timeout=0.8)), None
    if config.leader.kind == "pd":
        stores = [t for t in config.targets if t not in urls]
        return pd_round(PDCluster(http, urls, timeout=0.8), stores), None
    return None, f"no membership round for a {config.leader.kind} cluster"


def cluster_events(events: Sequence[Event], manifest: Manifest) -> list[Event]:
    """The events of the cluster's own containers (the stack's services and the fault
    targets): the workbench's tools (the generator's one-off containers, the probe) and the
    operator's own container are nobody's action on the cluster."""
    ours = set(manifest.healthy_services) | set(FaultsConfig.from_table(manifest.faults).targets)
    return [e for e in events if e.service in ours]


def membership_frame(samples: Sequence[MembershipSample]) -> pd.DataFrame:
    cols = ["t", "member", "healthy", "in_cluster", "voting", "is_leader", "error"]
    return pd.DataFrame([s.model_dump() for s in samples], columns=cols)


def expected_keys(params: RunParams, manifest: Manifest) -> tuple[bytes, list[bytes]]:
    """The key prefix and every key the load phase inserted, as the etcd binding stores them
    (`<table>:<key>`), from the workload file and the run's properties, as the generator does."""
    values = load_properties([manifest.workload_file(params.workload)])
    values.update(params.ycsb_properties())
    wl = build_workload(values, "load")
    prefix = f"{wl.table}:".encode()
    keys = [
        f"{wl.table}:{wl.key_name(n)}".encode()
        for n in range(wl.insert_start, wl.insert_start + wl.insert_count)
    ]
    return prefix, keys


def read_back(
    params: RunParams, manifest: Manifest, urls: Mapping[str, str], http: httpx.Client
) -> ReadBack | str:
    """Every loaded key, read back through the cluster (a linearizable range of the keys under
    the table's prefix, from the first member that answers): found vs loaded, or why not."""
    if "load" not in params.phase_list:
        return "no load phase: the keys loaded are not known"
    try:
        prefix, want = expected_keys(params, manifest)
    except (WorkbenchError, ValueError, OSError) as exc:
        return f"the loaded keys cannot be listed: {exc}"
    errors, last = 0, "no member to ask"
    for url in urls.values():
        try:
            have = set(EtcdClient(http, url, timeout=10.0).keys(prefix))
        except ClusterError as exc:
            errors, last = errors + 1, str(exc).splitlines()[0]
            continue
        return ReadBack(loaded=len(want), found=sum(1 for k in want if k in have), errors=errors)
    return f"no member answered the read-back: {last}"


class RunOperator:
    """One run's operator under test, from its start to its scores."""

    def __init__(
        self, params: RunParams, manifest: Manifest, persistent: Sequence[int] = ()
    ) -> None:
        self.params, self.manifest = params, manifest
        self.operator, self.docker = params.operator, params.operator_docker
        self.persistent = list(persistent)
        self.config = FaultsConfig.from_table(manifest.faults)
        self.container: str | None = None
        self.recorder: EventRecorder | None = None
        self.sampler: MembershipSampler | None = None
        self.http: httpx.Client | None = None
        self.problems: list[str] = []
        self.run_start: float | None = None
        self.run_end: float | None = None
        self.samples: list[MembershipSample] = []
        self.doc: OperatorDoc | None = None
        self.rd: RunDir | None = None

    @classmethod
    def for_run(cls, params: RunParams, manifest: Manifest, faults: RunFaults) -> RunOperator:
        """Checked again here, on the engine the run uses: a missing image is one clear error
        before the stack starts."""
        if params.operator not in ("none", REFERENCE):
            bad = image_problems(params.operator)
            if bad:
                raise ParameterError(bad)
        persistent = [i for i, f in enumerate(faults.schedule.faults) if f.persistent]
        return cls(params, manifest, persistent)

    @property
    def applies(self) -> bool:
        """An operator runs, or a fault stays until someone fixes it (with none: the control)."""
        return self.operator != "none" or bool(self.persistent)

    def __bool__(self) -> bool:
        return self.applies

    # --- before the load phase ----------------------------------------------------------------
    def start(self, stack: Stack, rd: RunDir) -> None:
        """The watch (engine events, membership rounds) and the operator's container."""
        if not self.applies or self.run_start is not None:
            return
        self.run_start = time.time()
        self.rd = rd
        self.recorder = EventRecorder(stack.project).start()
        self.http = httpx.Client(timeout=2.0)
        round_, why = membership_round(self.config, stack, self.http)
        if round_ is not None:
            self.sampler = MembershipSampler(round_).start()
        else:
            self.problems.append(f"no membership samples: {why}")
        if self.operator != "none":
            self._launch(stack, rd)

    def _launch(self, stack: Stack, rd: RunDir) -> None:
        service = self.manifest.operator
        assert service is not None  # operator_problems refused the run otherwise
        events = rd.operator_events_dir()
        volumes = {str(events): EVENTS_IN_CONTAINER}
        if self.docker:
            volumes[DOCKER_SOCKET] = DOCKER_SOCKET
        env = {
            "WB_EVENTS": f"{EVENTS_IN_CONTAINER}/{rd.operator_events_file().name}",
            "WB_PROJECT": stack.project,
        }
        entry, args = REFERENCE_ENTRYPOINT if self.operator == REFERENCE else (None, [])
        image = REFERENCE_IMAGE if self.operator == REFERENCE else self.operator
        self.container = stack.start_detached(
            service,
            name=f"{stack.project}-operator",
            args=args,
            entrypoint=entry,
            env=env,
            volumes=volumes,
            compose_env={IMAGE_ENV: image, PULL_ENV: "never"},
        )

    # --- the end of the run phase ---------------------------------------------------------------
    def phase_ended(self) -> None:
        """The run phase is over: its last membership round, before any fault is undone."""
        if self.run_start is None or self.run_end is not None:
            return
        self.run_end = time.time()
        if self.sampler is not None:
            self.samples = self.sampler.stop()

    def _exit(self, rd: RunDir) -> OperatorExit | None:
        """The operator's container: its state now, its log kept, then stopped."""
        if self.container is None:
            return None
        state: dict[str, object] = {}
        with contextlib.suppress(WorkbenchError):
            text = docker.output(docker.inspect_state(self.container), timeout=30)
            state = docker.parse_state(text or "")
        r = proc.run(docker.logs(self.container, timestamps=True), check=False, timeout=60)
        log = r.stdout + r.stderr
        with contextlib.suppress(OSError):
            rd.operator_log().write_text(log)
        running = bool(state.get("Running"))
        code = state.get("ExitCode")
        self._remove()
        return OperatorExit(
            code=None if running or not isinstance(code, int) else code,
            running_at_end=running,
            log_tail=log.splitlines()[-LOG_TAIL:],
        )

    def finish(
        self,
        rd: RunDir,
        stack: Stack | None,
        faults: RunFaults,
        phase: PhaseRecord | None,
    ) -> OperatorDoc | None:
        """Read-back, the operator's exit, its events and the engine's, the scores:
        operator.json. Never raises: what failed is a problem or the scores' reason."""
        if not self.applies or self.run_start is None:
            return None
        self.phase_ended()
        doc = OperatorDoc(
            operator=self.operator,
            docker=self.docker,
            persistent_faults=self.persistent,
            run_start=self.run_start,
            run_end=self.run_end,
            problems=list(self.problems),
        )
        readback = self._read_back(doc, stack)
        try:
            doc.exit = self._exit(rd)
        except Exception as exc:  # its state is extra; the scores come first
            doc.problems.append(f"the operator's exit could not be read: {exc}")
        events = self.recorder.stop() if self.recorder is not None else []
        if self.recorder is not None and self.recorder.error:
            doc.problems.append(f"engine events: {self.recorder.error}")
        doc.events = read_events(rd.operator_events_file(), self.run_start, self.run_end)
        records = list(faults.records)
        doc.container_events = attribute(cluster_events(events, self.manifest), records)
        doc.membership = self._membership(rd)
        t0 = phase.first_line if phase is not None else faults.t0
        doc.t0 = t0
        if t0 is None or self.run_end is None:
            doc.scores_reason = "the run phase never started: nothing to score"
        else:
            try:
                series = series_for_recovery(rd) if rd.has_intervals("run") else None
                doc.scores = score(
                    OperatorInputs(
                        records=records,
                        t0=t0,
                        run_end_s=self.run_end - t0,
                        events=doc.events.events,
                        container_events=doc.container_events,
                        membership=self.samples,
                        series=series,
                        probe=rd.probe_samples(),
                        readback=None if readback is None else (readback.loaded, readback.found),
                        target_ops=float(self.params.target) if self.params.target else None,
                        persistent=self.persistent,
                    )
                )
            except Exception as exc:  # a scoring bug is an unknown verdict, not a lost run
                doc.scores_reason = f"scoring failed: {type(exc).__name__}: {exc}"
        rd.save_operator(doc)
        self.doc = doc
        return doc

    def _read_back(self, doc: OperatorDoc, stack: Stack | None) -> ReadBack | None:
        if stack is None or self.config.leader is None or self.config.leader.kind != "etcd":
            doc.problems.append("no read-back: the subject's keys are not readable from here")
            return None
        urls = self.config.member_urls(lambda u: stack.manifest.resolve(u, stack.ports))
        with httpx.Client(timeout=10.0) as http:
            got = read_back(self.params, self.manifest, urls, http)
        if isinstance(got, str):
            doc.problems.append(f"no read-back: {got}")
            return None
        doc.readback = got
        return got

    def _membership(self, rd: RunDir) -> MembershipSummary:
        samples = self.samples
        out = MembershipSummary(
            samples=len(samples),
            members=sorted({s.member for s in samples}),
            first_t=min((s.t for s in samples), default=None),
            last_t=max((s.t for s in samples), default=None),
            errors=sum(1 for s in samples if s.error),
        )
        if samples:
            with contextlib.suppress(OSError, ValueError):
                out.file = rd.save_membership(membership_frame(samples))
        if self.sampler is not None and self.sampler.last_error:
            self.problems.append(f"membership rounds failed: {self.sampler.last_error}")
        return out

    def observation(self) -> OperatorObservation | None:
        """`CheckContext.operator`: None when nothing applies (the checks skip)."""
        if not self.applies:
            return None
        if self.doc is None:
            return OperatorObservation(
                operator=self.operator,
                persistent=bool(self.persistent),
                reason="the run ended before the operator could be scored",
            )
        return self.doc.observation()

    def _remove(self) -> None:
        """Stop and remove the operator's container (a run attached to a stack that stays up
        must not leave it behind; a stack torn down would remove it anyway)."""
        if self.container is not None:
            proc.run(docker.stop(self.container, STOP_TIMEOUT_S), check=False, timeout=30)
            proc.run(docker.rm(self.container), check=False, timeout=30)
            self.container = None

    def close(self) -> None:
        """Stop whatever still runs, the operator's container too (idempotent; every exit
        path)."""
        if self.container is not None and self.rd is not None:  # a failed run: its log first
            with contextlib.suppress(Exception):
                r = proc.run(docker.logs(self.container, timestamps=True), check=False, timeout=60)
                self.rd.operator_log().write_text(r.stdout + r.stderr)
        with contextlib.suppress(Exception):
            self._remove()
        if self.sampler is not None and self.run_end is None:
            with contextlib.suppress(Exception):
                self.sampler.stop()
        if self.recorder is not None:
            with contextlib.suppress(Exception):
                self.recorder.stop()
        if self.http is not None:
            self.http.close()
            self.http = None

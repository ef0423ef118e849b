"""The four parameter sets as frozen pydantic models, and the value rules that need no I/O.

`benchmark` (`RunParams`), `verify`, `compare`, `explore`: one per notebook. YCSB properties travel
in `props` under YCSB's own names; the few the workbench itself needs (`recordcount`,
`operationcount`, `threadcount`, `target`, `maxexecutiontime`, `warmuptime`) are lifted into typed
parameters so they are validated and shown in reports.

pydantic's lax mode turns papermill values and `-p key=value` strings into the field types ("8" ->
8, "yes" -> True); the few shapes it does not know (booleans that are not integers, "none" for an
optional value, `a=1,b=2` mappings, comma lists) are the `Before` validators here. Not here: the
checks against subjects, workloads and run directories on disk (`workbench.params.rules`).
"""

from __future__ import annotations

import ast
import json
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from workbench import shares
from workbench.manifest import DEFAULT_SUBJECT
from workbench.params.ycsbprops import KNOWN_NAMES

DEFAULT_DURATION_S = 20.0
RUN_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
PHASES = ("load", "run")

# YCSB core-workload and measurement properties (go-ycsb names): the names the property rules
# know, one list. Dotted names (binding props such as `etcd.endpoints`) are always accepted.
YCSB_CORE_PROPS = KNOWN_NAMES
# YCSB names that map onto typed run parameters.
YCSB_ALIASES = {
    "threadcount": "threads",
    "recordcount": "recordcount",
    "operationcount": "operationcount",
    "target": "target",
    "maxexecutiontime": "duration",
    "warmuptime": "warmup",
}
_TRUE, _FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off")


def _boolean(raw: Any) -> Any:
    if isinstance(raw, str) and raw.strip().lower() in _TRUE + _FALSE:
        return raw.strip().lower() in _TRUE
    if not isinstance(raw, bool):
        raise ValueError(f"expected true/false, got {raw!r}")
    return raw


def _not_bool(expected: str) -> Any:
    def check(raw: Any) -> Any:
        if isinstance(raw, bool):
            raise ValueError(f"expected {expected}, got {raw!r}")
        return raw.strip().replace("_", "") if isinstance(raw, str) else raw

    return check


def _none_words(raw: Any) -> Any:
    if isinstance(raw, str) and raw.strip().lower() in ("", "none", "null"):
        return None
    return raw


def _string_list(raw: Any) -> Any:
    """A JSON list, or `a,b` (papermill and `-p` strings); elements must be strings."""
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("("):  # a tuple's repr: what papermill injects for a tuple value
            try:
                raw = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                raise ValueError(f"expected a list of strings, got {text!r}") from None
        elif text.startswith("["):
            raw = json.loads(text)
        else:
            raw = [p.strip() for p in text.split(",")]
        raw = [p for p in raw if not isinstance(p, str) or p]
    if not isinstance(raw, list | tuple) or not all(isinstance(x, str) for x in raw):
        raise ValueError(f"expected a list of strings, got {raw!r}")
    return tuple(raw)


def _properties(raw: Any) -> dict[str, str]:
    """`{"a": 1}` (a mapping or JSON) or `a=1,b=2`; scalar values, as YCSB strings."""
    if isinstance(raw, str):
        raw = _parse_mapping(raw)
    if not isinstance(raw, dict):
        raise ValueError(f"expected a mapping of name to value, got {raw!r}")
    out = {}
    for k, v in raw.items():
        if not isinstance(v, str | int | float | bool):
            raise ValueError(f"value of {k!r} must be a scalar, got {v!r}")
        out[str(k)] = str(v).lower() if isinstance(v, bool) else str(v)
    return out


def _parse_mapping(text: str) -> dict[str, Any]:
    text = text.strip()
    if text.startswith("{"):
        value = json.loads(text)
        if not isinstance(value, dict):
            raise ValueError(f"expected a JSON object, got {text!r}")
        return value
    out = {}
    for part in filter(None, text.split(",")):
        k, sep, v = part.partition("=")
        if not sep or not k.strip():
            raise ValueError(f"expected key=value pairs separated by commas, got {text!r}")
        out[k.strip()] = v.strip()
    return out


LABEL_KEY_RE = re.compile(r"[a-z0-9_.-]{1,64}")
LABEL_VALUE_MAX = 200


def _labels(raw: Any) -> dict[str, str]:
    """A run's labels (`commit=abc123`): a mapping, `k=v,k2=v2`, or a list of `k=v` items (the
    repeatable `--label`); keys [a-z0-9_.-], values printable, at most 200 characters."""
    if isinstance(raw, list | tuple):
        pairs = [str(item).partition("=") for item in raw]
        bad = [k for k, sep, _ in pairs if not sep]
        if bad:
            raise ValueError(f"expected KEY=VALUE, got {bad[0]!r}")
        raw = {k.strip(): v for k, _, v in pairs}
    out = _properties(raw)
    for k, v in out.items():
        if not LABEL_KEY_RE.fullmatch(k):
            raise ValueError(f"label key {k!r}: use 1-64 of a-z 0-9 _ . -")
        if len(v) > LABEL_VALUE_MAX or not v.isprintable():
            raise ValueError(f"label {k}: the value must be printable, <= {LABEL_VALUE_MAX} chars")
    return out


Bool = Annotated[bool, BeforeValidator(_boolean)]
Int = Annotated[int, BeforeValidator(_not_bool("an integer"))]
Float = Annotated[float, BeforeValidator(_not_bool("a number"))]
OptInt = Annotated[Int | None, BeforeValidator(_none_words)]
OptFloat = Annotated[Float | None, BeforeValidator(_none_words)]
StrList = Annotated[tuple[str, ...], BeforeValidator(_string_list)]
Props = Annotated[dict[str, str], BeforeValidator(_properties)]
Labels = Annotated[dict[str, str], BeforeValidator(_labels)]


def doc(default: Any, text: str) -> Any:
    """A field with its one-line doc (the notebook parameters cell's comment; no `=` in it)."""
    if isinstance(default, dict | list | tuple):
        return Field(default_factory=type(default), description=text)
    return Field(default=default, description=text)


class Params(BaseModel):
    """Common base: frozen, unknown names rejected, numbers accepted where a string is expected."""

    model_config = ConfigDict(frozen=True, extra="forbid", coerce_numbers_to_str=True)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump()

    def problems(self) -> list[str]:
        """Impossible values and combinations (no I/O); empty when the set is consistent."""
        return []

    def resolved(self) -> Params:
        """Fill defaults that depend on other values."""
        return self


class RunParams(Params):
    """Everything one benchmark run needs (the `benchmark.ipynb` parameters)."""

    subject: str = doc(DEFAULT_SUBJECT, "subject name or directory")
    workload: str = doc("a", "YCSB workload letter (a..f)")
    tool: str = doc("", "YCSB tool (native, go-ycsb); empty: the subject's default")
    recordcount: Int = doc(1000, "records loaded")
    operationcount: OptInt = doc(None, "operations in the run phase (or use duration)")
    duration: OptFloat = doc(None, f"run phase seconds (default {DEFAULT_DURATION_S:g})")
    threads: Int = doc(4, "client threads (YCSB threadcount), per generator")
    generators: Int = doc(1, "generator containers sharing the load (key ranges, target, ops)")
    target: Int = doc(0, "total ops/s, 0: unthrottled")
    warmup: Float = doc(0.0, "seconds at run start marked as warmup")
    status_interval: Float = doc(1.0, "YCSB status interval, s")
    props: Props = doc({}, "extra YCSB -p properties, YCSB's own names")
    phases: str = doc("load,run", "load,run | load | run")
    prometheus_step: Float = doc(1.0, "range-query step, s")
    keep_stack: Bool = doc(False, "leave the stack running")
    run_id: str = doc("", "run id; empty: generated")
    results_dir: str = doc("results", "where run directories go")
    faults: StrList = doc((), "ACTION[:ARG]:TARGET@START+DURATION, s into the run phase")
    fault_repeat: Int = doc(1, "inject each fault this many times")
    fault_every: OptFloat = doc(None, "seconds between repeats of a fault")
    fault_seed: Int = doc(1, "seed of the random and follower target choices")
    labels: Labels = doc({}, "labels of the run (commit, branch); the history shows them")
    operator: str = doc("none", "operator under test: none | reference | IMAGE[:TAG]")
    operator_docker: Bool = doc(
        False, "mount the Docker socket into the operator: root on the host"
    )

    @property
    def phase_list(self) -> tuple[str, ...]:
        return tuple(p.strip() for p in self.phases.split(",") if p.strip())

    def ycsb_properties(self) -> dict[str, str]:
        """All YCSB `-p` properties of this run (typed parameters folded back in)."""
        out = dict(self.props)
        out["recordcount"] = str(self.recordcount)
        if self.operationcount is not None:
            out["operationcount"] = str(self.operationcount)
        return out

    def problems(self) -> list[str]:
        out = [*self._count_problems(), *self._time_problems(), *self._phase_problems()]
        out.extend(_run_id_problems(self.run_id))
        out.extend(_operator_problems(self.operator, self.operator_docker))
        out.extend(self._generator_problems())
        for k in self.props:
            out.extend(_prop_name_problems(k))
        return out

    def _generator_problems(self) -> list[str]:
        n = self.generators
        out = shares.problems(n, self.recordcount, self.props)
        if n > 1 and 0 < self.target < n:
            out.append(f"target: {self.target} ops/s cannot be split between {n} generators")
        if n > 1 and self.operationcount is not None and self.operationcount < n:
            out.append(f"operationcount: {self.operationcount} is below generators ({n})")
        return out

    def _count_problems(self) -> list[str]:
        out = []
        ops, threads = self.operationcount, self.threads
        if self.recordcount < 1:
            out.append(f"recordcount: must be >= 1, got {self.recordcount}")
        if ops is not None and ops < 1:
            out.append(f"operationcount: must be >= 1, got {ops}")
        if threads < 1:
            out.append(f"threads: must be >= 1, got {threads}")
        if ops is not None and 1 <= ops < threads:
            out.append(f"operationcount: {ops} is below threads ({threads}); YCSB refuses that")
        if self.target < 0:
            out.append(f"target: must be >= 0 ops/s (0 = unthrottled), got {self.target}")
        return out

    def _time_problems(self) -> list[str]:
        out = []
        if self.duration is not None and self.duration <= 0:
            out.append(f"duration: must be > 0 seconds, got {self.duration:g}")
        if self.operationcount is not None and self.duration is not None:
            out.append("operationcount and duration: give one of them, not both")
        if self.warmup < 0:
            out.append(f"warmup: must be >= 0, got {self.warmup:g}")
        if self.duration is not None and self.warmup >= self.duration:
            out.append(f"warmup: {self.warmup:g}s leaves nothing of duration {self.duration:g}s")
        for name in ("status_interval", "prometheus_step"):
            if getattr(self, name) <= 0:
                out.append(f"{name}: must be > 0, got {getattr(self, name):g}")
        return out

    def _phase_problems(self) -> list[str]:
        phases = self.phase_list
        bad = [p for p in phases if p not in PHASES]
        if bad or not phases or len(set(phases)) != len(phases):
            return [f"phases: expected a comma list of {', '.join(PHASES)}, got {self.phases!r}"]
        if "run" in phases:
            return []
        return [
            f"{name}: set, but there is no run phase (phases={self.phases!r})"
            for name in ("target", "operationcount", "duration", "warmup", "faults")
            if getattr(self, name)
        ]

    def resolved(self) -> RunParams:
        """A run phase without operationcount or duration runs for the default duration."""
        if "run" in self.phase_list and self.operationcount is None and self.duration is None:
            return self.model_copy(update={"duration": DEFAULT_DURATION_S})
        return self


class VerifyParams(Params):
    """`verify.ipynb`: the subject's checks against a stack it starts or one already running."""

    subject: str = doc(DEFAULT_SUBJECT, "subject name or directory")
    project: str = doc("", "attach to this running project; '': start one")
    keep_stack: Bool = doc(False, "leave a started stack running")
    run_id: str = doc("", "run id; empty: generated")
    results_dir: str = doc("results", "where checks.json goes")

    def problems(self) -> list[str]:
        return _run_id_problems(self.run_id)


class CompareParams(Params):
    """`compare.ipynb`: two or more run directories side by side."""

    run_dirs: StrList = doc((), "run directories (two or more)")
    baseline: Int = doc(0, "index of the run the others compare to")

    def problems(self) -> list[str]:
        out = []
        if len(self.run_dirs) < 2:
            out.append(f"run_dirs: need at least two run directories, got {len(self.run_dirs)}")
        if self.run_dirs and not 0 <= self.baseline < len(self.run_dirs):
            out.append(f"baseline: index {self.baseline} out of range 0..{len(self.run_dirs) - 1}")
        return out


class ExploreParams(Params):
    """`explore.ipynb`: attach to a running stack and ask Prometheus ad-hoc questions."""

    subject: str = doc(DEFAULT_SUBJECT, "subject name or directory")
    project: str = doc("", "running compose project; '': the newest")
    queries: StrList = doc((), "PromQL; empty: the manifest's")
    lookback: Float = doc(300.0, "seconds of history to query")
    step: Float = doc(2.0, "range-query step, s")

    def problems(self) -> list[str]:
        out = []
        if self.lookback <= 0:
            out.append(f"lookback: must be > 0 seconds, got {self.lookback:g}")
        if self.step <= 0:
            out.append(f"step: must be > 0 seconds, got {self.step:g}")
        elif self.lookback / self.step > 11000:
            out.append("lookback/step: more than 11,000 points; raise step")
        return out


class CampaignParams(Params):
    """`campaign.ipynb`: run a campaign file (or resume it), or reopen a campaign directory."""

    campaign_file: str = doc("", "campaign TOML file to run; empty: reopen campaign_dir")
    results_dir: str = doc("results", "where run and campaign directories go")
    resume: Bool = doc(False, "continue the file's unfinished campaign")
    campaign_dir: str = doc("", "campaign directory to reopen (runs nothing)")

    def problems(self) -> list[str]:
        if bool(self.campaign_file) == bool(self.campaign_dir):
            return ["campaign_file, campaign_dir: give one (a file to run, a directory to reopen)"]
        if self.resume and not self.campaign_file:
            return ["resume: needs campaign_file (the file whose campaign to continue)"]
        return []


class HistoryParams(Params):
    """`history.ipynb`: the runs of a results folder as series, their change points, the page."""

    results_dir: str = doc("results", "results folder whose runs are read")
    metrics: StrList = Field(  # not doc(): its tuple default would become an empty one
        default=("throughput", "p99_ms"), description="headline numbers to analyse"
    )
    where: Props = doc({}, "key fields to match: subject, workload, threads ...")
    labels: Labels = doc({}, "labels to match: commit, branch ...")
    min_size: Int = doc(5, "points on each side of a change point at least")
    html: Bool = doc(True, "also write history.html into results_dir")

    def problems(self) -> list[str]:
        out = [] if self.metrics else ["metrics: name at least one headline number"]
        if self.min_size < 2:
            out.append(f"min_size: must be >= 2, got {self.min_size}")
        return out


class CapacityParams(Params):
    """`findmax.ipynb` and `workbench findmax`: a capacity search (workbench.run.findmax)."""

    slo: str = doc("p99 50ms", "objective on intended-time latency: pNN and a bound in ms, us, s")
    subject: str = doc(DEFAULT_SUBJECT, "subject (with binding: where the workload files are)")
    workload: str = doc("a", "YCSB workload letter (a..f)")
    binding: str = doc("", "'': the subject's stack; basic: the native generator, no stack")
    props: Props = doc({}, "YCSB -p properties, e.g. basicdb.simulatedelay: 10")
    threads: Int = doc(8, "client threads")
    recordcount: Int = doc(1000, "records loaded")
    max_errors: Float = doc(0.0, "share of operations allowed to fail per probe")
    probe_duration: Float = doc(10.0, "seconds per probe (after a 1 s warmup)")
    start: OptFloat = doc(None, "first rate, ops/s; None: half of an unthrottled probe's")
    precision: Float = doc(0.05, "stop when the bracket is narrower than this share")
    repeats: Int = doc(3, "re-runs of the final bracket, each end")
    max_probes: Int = doc(30, "at most this many probes")
    tolerate_host: Bool = doc(False, "judge probes on a busy (shared) host")
    results_dir: str = doc("results", "results folder (capacity/<id>/ inside)")
    resume: Bool = doc(False, "continue the unfinished search of the same target")


def new_run_id(subject: str, workload: str, now: datetime | None = None) -> str:
    """Sortable, unique: UTC timestamp, subject, workload, 6 random hex digits."""
    now = now or datetime.now(UTC)
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S") + f".{now.microsecond // 1000:03d}Z"
    safe = re.sub(r"[^A-Za-z0-9]+", "_", Path(subject).name).strip("_") or "subject"
    wl = re.sub(r"[^A-Za-z0-9]+", "_", workload) or "w"
    return f"{stamp}-{safe}-{wl}-{secrets.token_hex(3)}"


def _run_id_problems(run_id: str) -> list[str]:
    if run_id and not RUN_ID_RE.fullmatch(run_id):
        return [f"run_id: only letters, digits, '.', '_' and '-' allowed: {run_id!r}"]
    return []


# An image reference as Docker takes it: [registry[:port]/]path[:tag][@digest], lower-case path.
IMAGE_RE = re.compile(
    r"(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?"
)
OPERATOR_WORDS = ("none", "reference")


def _operator_problems(operator: str, docker: bool) -> list[str]:
    """`operator`: none, reference or an image reference; the socket only with an operator."""
    if operator not in OPERATOR_WORDS and not IMAGE_RE.fullmatch(operator):
        return [f"operator: expected none, reference or an image (name[:tag]), got {operator!r}"]
    if docker and operator == "none":
        return ["operator_docker: set, but no operator runs (operator=none)"]
    return []


def _prop_name_problems(name: str) -> list[str]:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", name):
        return [f"props: {name!r} is not a property name"]
    if "." in name or name in YCSB_CORE_PROPS:
        if name in YCSB_ALIASES:
            return [f"props: {name!r} has its own parameter {YCSB_ALIASES[name]!r}; set that"]
        return []
    return [
        f"{name}: unknown parameter (neither a run parameter nor a YCSB core property; "
        "binding properties are dotted, e.g. etcd.dial_timeout)"
    ]

"""The campaign file: TOML, validated into a `Campaign`, every problem reported in one error.

    name = "threads"   subject = "etcd"   workload = "a"   repeat = 5
    order = "interleaved"   seed = 1   stack = "per-run"   # or "per-campaign": one stack, attached runs
    rerun_spoiled = 2             # re-runs per configuration of runs the host spoiled
    [base] duration = 10          # run parameters every run shares (`workbench run` names)
    [[configs]] name = "t2"  threads = 2     # named configurations, or
    [matrix] threads = [1, 2, 4, 8]          # a cartesian product (names generated), not both
    [compare] baseline = "t2"  metrics = ["throughput", "p99_ms"]  alpha = 0.05  min_effect = 0.05
                                        # resamples: ignored (see CompareSpec)

The shape is checked by pydantic; the run parameters of each configuration (top-level subject and
workload, then [base], then the configuration) by an injected `validate_params(dict) -> dict`
(default: `workbench.params.validate_run(values).to_dict()`). The run order is plan.py's business.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from workbench import params as run_params
from workbench import stats
from workbench.errors import ParameterError
from workbench.manifest import DEFAULT_SUBJECT

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
# `stack = "per-campaign"`: one stack for the whole campaign, each run attached to it (health
# re-checked, its own verdicts), loaded once per load (the caller's executor does it). Refused with
# faults: a fault's aftermath (a restarted member, a lost leader) would carry into the next run.
PER_CAMPAIGN_FAULTS = (
    'stack: "per-campaign" with faults: a fault\'s aftermath would carry into the next run on '
    'the shared stack; use "per-run" for fault campaigns'
)
RESERVED = ("run_id", "results_dir")  # the campaign sets these for every run
ValidateParams = Callable[[dict[str, Any]], dict[str, Any]]
Scalar = str | int | float | bool


class CompareSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    baseline: str | None = None  # default: the first configuration
    metrics: list[str] = Field(default_factory=lambda: ["throughput", "p99_ms"], min_length=1)
    alpha: float = Field(default=0.05, gt=0, lt=1)
    min_effect: float = Field(default=0.05, ge=0, lt=1)
    # Ignored: it sized the bootstrap CIs, which gave [min, max] as "95%" below 6 runs; the
    # intervals are order-statistic ones now (stats.py). Kept so older files and records validate.
    resamples: int = Field(default=9999, ge=99, le=1_000_000)


class CampaignFile(BaseModel):
    """The file as written (after defaults): what campaign.json keeps as `spec`."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    subject: str = DEFAULT_SUBJECT
    workload: str = "a"
    repeat: int = Field(default=5, ge=1, le=1000)
    order: Literal["interleaved", "blocked", "random"] = "interleaved"
    seed: int = 1
    stack: Literal["per-run", "per-campaign"] = "per-run"  # per-campaign: runs attach to one stack
    # runs per configuration queued again when the host spoiled one (host_contention fail or
    # unknown, a workbench error): the sample keeps its size on a busy machine
    rerun_spoiled: int = Field(default=2, ge=0, le=100)
    base: dict[str, Any] = Field(default_factory=dict)
    configs: list[dict[str, Any]] = Field(default_factory=list)
    matrix: dict[str, list[Scalar]] = Field(default_factory=dict)
    compare: CompareSpec = Field(default_factory=CompareSpec)


@dataclass(frozen=True)
class Campaign:
    """A validated campaign: the file, and each configuration's validated run parameters."""

    file: CampaignFile
    configs: dict[str, dict[str, Any]]  # name -> validated run parameters, in file order
    baseline: str

    @property
    def name(self) -> str:
        return self.file.name


def default_validate_params(values: dict[str, Any]) -> dict[str, Any]:
    return run_params.validate_run(values).to_dict()


def load(path: Path | str, validate_params: ValidateParams | None = None) -> Campaign:
    """Read and validate a campaign file; raise ParameterError listing every problem."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ParameterError([f"{path}: {exc}"]) from exc
    return validate(raw, validate_params)


def validate(raw: Mapping[str, Any], validate_params: ValidateParams | None = None) -> Campaign:
    """Every problem of the file in one ParameterError: its shape, and the run parameters of each
    configuration whenever the configurations can be read at all (a bad `repeat` does not hide
    a bad `threads`)."""
    problems = _shape_problems(raw)
    file: CampaignFile | None = None
    try:
        file = CampaignFile.model_validate(raw)
    except ValidationError as exc:
        problems = _pydantic_problems(exc) + problems
    readable = file if file is not None and not problems else _loose(raw)
    configs: dict[str, dict[str, Any]] = {}
    if readable is not None:
        configs, more = _validated_configs(readable, validate_params or default_validate_params)
        problems.extend(more)
    per_campaign = file is not None and file.stack == "per-campaign"
    if per_campaign and any(c.get("faults") for c in configs.values()):
        problems.append(PER_CAMPAIGN_FAULTS)
    if problems or file is None:
        raise ParameterError(problems)
    return Campaign(file, configs, file.compare.baseline or next(iter(configs)))


def _loose(raw: Mapping[str, Any]) -> CampaignFile | None:
    """The parts of a file that failed validation that still say which runs it means (subject,
    workload, base, configurations), to validate their run parameters too; None when even those
    cannot be read."""
    base, configs, matrix = raw.get("base", {}), raw.get("configs", []), raw.get("matrix", {})
    subject, workload = raw.get("subject", DEFAULT_SUBJECT), raw.get("workload", "a")
    if not (isinstance(base, dict) and isinstance(subject, str) and isinstance(workload, str)):
        return None
    if (
        not isinstance(configs, list)
        or not isinstance(matrix, dict)
        or bool(configs) == bool(matrix)
    ):
        return None
    names = [c.get("name") if isinstance(c, dict) else None for c in configs]
    if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        return None
    if not all(isinstance(v, list) and v for v in matrix.values()):
        return None
    return CampaignFile.model_construct(
        name="loose", subject=subject, workload=workload, base=base, configs=configs, matrix=matrix
    )


def config_overrides(file: CampaignFile) -> dict[str, dict[str, Any]]:
    """Each configuration's own parameters by name (named configs, or the matrix product)."""
    if file.matrix:
        keys = list(file.matrix)
        out = {}
        for values in itertools.product(*(file.matrix[k] for k in keys)):
            combo = dict(zip(keys, values, strict=True))
            out[matrix_name(combo)] = combo
        return out
    return {str(c["name"]): {k: v for k, v in c.items() if k != "name"} for c in file.configs}


def matrix_name(combo: Mapping[str, Any]) -> str:
    """`threads-2_target-100`: a name usable in a run id."""
    parts = [f"{k}-{v}" for k, v in combo.items()]
    return re.sub(r"[^A-Za-z0-9._-]+", ".", "_".join(parts))[:64]


def _pydantic_problems(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(file)"
        if err["type"] == "extra_forbidden":
            out.append(f"{loc}: unknown key")
        else:
            out.append(f"{loc}: {err['msg']}")
    return out


def _shape_problems(raw: Mapping[str, Any]) -> list[str]:
    """What pydantic's per-field checks cannot see; tolerant of wrong types (reported there)."""
    configs = raw.get("configs") or []
    matrix = raw.get("matrix") or {}
    out: list[str] = []
    if configs and matrix:
        out.append("configs and matrix: give one of them, not both")
    if not configs and not matrix:
        out.append("configs: give [[configs]] or [matrix]")
    names = _config_names(configs, out) if isinstance(configs, list) else []
    if isinstance(matrix, dict):
        for key, values in matrix.items():
            if isinstance(values, list) and not values:
                out.append(f"matrix.{key}: an empty list")
        if matrix and all(isinstance(v, list) for v in matrix.values()):
            names = [
                matrix_name(dict(zip(matrix, c, strict=True)))
                for c in itertools.product(*matrix.values())
            ]
    compare = raw.get("compare")
    baseline = compare.get("baseline") if isinstance(compare, dict) else None
    if baseline is not None and names and baseline not in names:
        out.append(
            f"compare.baseline: {baseline!r} is not a configuration; valid: {', '.join(names)}"
        )
    metrics = compare.get("metrics", []) if isinstance(compare, dict) else []
    for m in metrics if isinstance(metrics, list) else []:
        if m not in stats.METRICS:
            out.append(f"compare.metrics: unknown metric {m!r}; valid: {', '.join(stats.METRICS)}")
    for section in ("base", *(f"configs.{n}" for n in names if not matrix)):
        table = raw.get("base") if section == "base" else _config_by_name(configs, section[8:])
        for key in RESERVED:
            if isinstance(table, dict) and key in table:
                out.append(f"{section}.{key}: set by the campaign, not by the file")
    return out


def _config_names(configs: list[Any], out: list[str]) -> list[str]:
    names: list[str] = []
    for i, c in enumerate(configs):
        name = c.get("name") if isinstance(c, dict) else None
        if not isinstance(name, str) or not re.fullmatch(NAME_PATTERN, name):
            out.append(f"configs.{i}.name: a name of letters, digits, '.', '_', '-' is required")
        elif name in names:
            out.append(f"configs.{i}.name: {name!r} appears twice")
        else:
            names.append(name)
    return names


def _config_by_name(configs: list[Any], name: str) -> Any:
    return next((c for c in configs if isinstance(c, dict) and c.get("name") == name), None)


def _validated_configs(
    file: CampaignFile, validate_params: ValidateParams
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Each configuration's run parameters through `validate_params`; common problems once."""
    configs: dict[str, dict[str, Any]] = {}
    per_config: dict[str, list[str]] = {}
    for name, own in config_overrides(file).items():
        values = {"subject": file.subject, "workload": file.workload, **file.base, **own}
        try:
            configs[name] = validate_params(values)
        except ParameterError as exc:
            per_config[name] = exc.problems
    if not per_config:
        return configs, []
    every = set.intersection(*(set(p) for p in per_config.values()))
    if len(per_config) < len(config_overrides(file)):
        every = set()
    out = [f"every configuration: {p}" for p in sorted(every)]
    for name, problems in per_config.items():
        out.extend(f"configs.{name}: {p}" for p in problems if p not in every)
    return configs, out

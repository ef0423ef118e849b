"""`validate(kind, values)`: a mapping of parameter values into its model, or ONE ParameterError.

Every problem is listed at once: unknown names (with a close-match hint), wrong types, impossible
values, unknown subjects or workloads, missing run directories. The models and their pure value
rules are `workbench.params.models`; this module adds what needs the file system (manifests, run
directories) and turns pydantic's errors into the workbench's one-line messages.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from workbench.errors import ManifestError, ParameterError
from workbench.manifest import available_subjects, load_manifest, workload_file_name
from workbench.params.models import (
    YCSB_ALIASES,
    CampaignParams,
    CapacityParams,
    CompareParams,
    ExploreParams,
    HistoryParams,
    Params,
    RunParams,
    VerifyParams,
)
from workbench.params.ycsbprops import parse_properties_text, property_problems

ParamsType = RunParams | VerifyParams | CompareParams | ExploreParams
KINDS: dict[str, type[Params]] = {
    "benchmark": RunParams,
    "verify": VerifyParams,
    "compare": CompareParams,
    "explore": ExploreParams,
    "campaign": CampaignParams,
    "history": HistoryParams,
    "findmax": CapacityParams,
}
_EXPECTED = {"int": "an integer", "float": "a number", "bool": "true/false", "string": "a string"}
RunRule = Callable[[RunParams], list[str]]
# The rules on RunParams that need a room above params (the one place they are listed): each is
# (module, function), imported when parameters are validated, so every way in (the CLI, a plain
# papermill run's validation cell, a campaign file) checks them the same, whatever was imported
# before. Their problems join the one ParameterError.
RUN_RULES: tuple[tuple[str, str], ...] = (
    # the fault schedule against the subject's manifest and this host's actions
    ("workbench.faults.plan", "schedule_problems"),
    # the operator under test: the subject runs one, its image is here, the socket when asked
    ("workbench.operator.plan", "operator_problems"),
)


def run_rules() -> list[RunRule]:
    """RUN_RULES, imported (a module of the faults room: params cannot import it at the top)."""
    return [getattr(importlib.import_module(m), name) for m, name in RUN_RULES]


def model_of(kind: str) -> type[Params]:
    if kind not in KINDS:
        raise ValueError(f"unknown parameter set {kind!r}; valid: {', '.join(KINDS)}")
    return KINDS[kind]


def defaults(kind: str) -> dict[str, Any]:
    """Name → default of one parameter set, in declaration order (the notebook parameters cell)."""
    fields = model_of(kind).model_fields
    return {name: f.get_default(call_default_factory=True) for name, f in fields.items()}


def docs(kind: str) -> dict[str, str]:
    return {name: f.description or "" for name, f in model_of(kind).model_fields.items()}


def validate(kind: str, values: Mapping[str, Any]) -> Any:
    """Validate a mapping of parameter values into the kind's model, or raise ParameterError."""
    cls = model_of(kind)
    try:
        params = cls.model_validate(dict(values))
    except ValidationError as exc:
        errors = exc.errors()
        problems = [_message(e, cls) for e in errors]
        # Report type problems together with value problems of the fields that did parse.
        bad = {e["loc"][0] for e in errors if e["loc"]}
        with contextlib.suppress(ValidationError):  # the type problems are reported either way
            rest = cls.model_validate({k: v for k, v in values.items() if k not in bad})
            problems.extend(_all_problems(rest))
        raise ParameterError(problems) from None
    problems = _all_problems(params)
    if problems:
        raise ParameterError(problems)
    return params.resolved()


def validate_run(values: Mapping[str, Any]) -> RunParams:
    result: RunParams = validate("benchmark", values)
    return result


def replace(params: Any, **changes: Any) -> Any:
    """A copy of `params` with `changes`, validated again (the values' own rules, no I/O)."""
    new = type(params).model_validate({**params.model_dump(), **changes})
    problems = new.problems()
    if problems:
        raise ParameterError(problems)
    return new


def _all_problems(params: Params) -> list[str]:
    out = params.problems()
    if isinstance(params, RunParams):
        subject = subject_problems(params.subject, params.workload)
        out.extend(subject)
        out.extend(tool_problems(params.subject, params.tool))
        out.extend(ycsb_problems(params))
        if not subject:  # the rules from above read the subject's manifest
            for rule in run_rules():
                out.extend(rule(params))
    elif isinstance(params, VerifyParams | ExploreParams):
        out.extend(subject_problems(params.subject, None))
    elif isinstance(params, CompareParams):
        for d in params.run_dirs:
            if not (Path(d) / "run.json").is_file():
                out.append(f"run_dirs: {d!r} is not a run directory (no run.json)")
    return out


def subject_problems(subject: str, workload: str | None) -> list[str]:
    """The subject must exist and load; the workload (when given) must be one it ships."""
    try:
        manifest = load_manifest(subject)
    except ManifestError as exc:
        if exc.key == "subject" and Path(subject).is_dir():
            return [f"subject: {subject} is not a subject directory (no manifest.toml)"]
        if exc.key == "subject":
            names = ", ".join(available_subjects()) or "(none)"
            return [f"subject: unknown subject {subject!r}; valid: {names}"]
        return [f"subject: {exc}"]
    if workload is None:
        return []
    workloads = manifest.workloads()
    if workload_file_name(workload) not in {workload_file_name(w) for w in workloads}:
        return [
            f"workload: unknown workload {workload!r} for subject {manifest.name!r}; "
            f"valid: {', '.join(workloads) or '(none shipped)'}"
        ]
    return []


def ycsb_problems(params: RunParams) -> list[str]:
    """The run's YCSB properties (its workload file under its `props` and typed parameters) by
    the generator's own rules (`workbench.params.ycsbprops`); the typed ones were checked above."""
    props: dict[str, str] = {}
    with contextlib.suppress(ManifestError, OSError, UnicodeDecodeError):
        path = load_manifest(params.subject).workload_file(params.workload)
        props.update(parse_properties_text(path.read_text(encoding="utf-8")))
    props.update(params.ycsb_properties())
    return property_problems(props, run_phase="run" in params.phase_list, skip=YCSB_ALIASES)


def tool_problems(subject: str, tool: str) -> list[str]:
    """The chosen YCSB tool (when given) must be one the subject accepts (`[ycsb] tools`)."""
    if not tool:
        return []
    try:
        spec = load_manifest(subject).ycsb
    except ManifestError:
        return []  # subject_problems says why
    accepted = spec.tools if spec is not None else ()
    if tool in accepted:
        return []
    return [
        f"tool: subject {subject!r} does not accept tool {tool!r}; "
        f"valid: {', '.join(accepted) or '(none: it has no [ycsb] table)'}"
    ]


def _message(err: Any, cls: type[Params]) -> str:
    """One pydantic error as `name: what is wrong`."""
    name = ".".join(str(p) for p in err["loc"]) or "(parameters)"
    kind, raw = str(err["type"]), err.get("input")
    if kind == "extra_forbidden":
        valid = list(cls.model_fields)
        close = difflib.get_close_matches(name, valid, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"{name}: unknown parameter{hint}; valid: {', '.join(valid)}"
    if kind == "value_error":
        return f"{name}: {str(err['msg']).removeprefix('Value error, ')}"
    for prefix, expected in _EXPECTED.items():
        if kind.startswith(prefix):
            return f"{name}: expected {expected}, got {raw!r}"
    return f"{name}: {err['msg']}, got {raw!r}"

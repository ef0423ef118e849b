"""Where parameter values come from: `-p key=value` items on the CLI and a notebook's globals after
papermill injected its parameters. Both end in `workbench.params.rules.validate`.

Not here: the models (`models`) or the rules (`rules`).
"""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Iterable, Mapping
from typing import Any

from workbench.errors import ParameterError
from workbench.params.models import YCSB_ALIASES, RunParams
from workbench.params.rules import defaults, validate, validate_run
from workbench.params.ycsbprops import alias_conflicts


def from_namespace(kind: str, namespace: Mapping[str, Any]) -> Any:
    """Validate the parameters a notebook holds in its globals (after papermill's injection).

    Known names are read from the namespace. Unknown names are found in the cell papermill
    injected (its source is in the kernel's input history `In`, starting with `# Parameters`):
    every name assigned there that is not a parameter of `kind` is reported.
    """
    valid = set(defaults(kind))
    values: dict[str, Any] = {n: namespace[n] for n in valid if n in namespace}
    for name in injected_names(namespace.get("In") or []):
        if name not in valid:
            values[name] = namespace.get(name)  # validate() reports it as unknown
    return validate(kind, values)


def injected_names(history: Iterable[str]) -> list[str]:
    """Names assigned by the latest papermill-injected parameters cell in an input history."""
    for source in reversed(list(history)):
        if isinstance(source, str) and source.split("\n", 1)[0].strip() == "# Parameters":
            with contextlib.suppress(SyntaxError):
                tree = ast.parse(source)
                return [
                    t.id
                    for node in tree.body
                    if isinstance(node, ast.Assign)
                    for t in node.targets
                    if isinstance(t, ast.Name)
                ]
    return []


def run_params_from_cli(assignments: Iterable[str], **flags: Any) -> RunParams:
    """Build RunParams from `-p key=value` items plus explicit CLI flags (None = not given).

    A key that names a run parameter sets it; a YCSB name with a typed equivalent
    (`threadcount`, `recordcount`, ...) sets that; any other key is a YCSB property.
    """
    values: dict[str, Any] = {k: v for k, v in flags.items() if v is not None}
    props: dict[str, str] = {}
    problems: list[str] = []
    pairs: list[tuple[str, str]] = []
    run_fields = set(defaults("benchmark"))
    for item in assignments:
        key, sep, value = item.partition("=")
        key = key.strip()
        if sep and key:
            pairs.append((key, value))
        if not sep or not key:
            problems.append(f"-p {item!r}: expected key=value")
        elif key in YCSB_ALIASES:
            values[YCSB_ALIASES[key]] = value
        elif key in run_fields and key != "props":
            values[key] = value
        else:
            props[key] = value
    if props:
        values["props"] = props
    given = [(k, str(v)) for k, v in flags.items() if v is not None and not isinstance(v, list)]
    problems.extend(alias_conflicts([*given, *pairs]))  # `threads=4` beside `threadcount=8`
    # `recordcount=10` beside `recordcount=20` (subject and workload flags always hold a default)
    problems.extend(repeated([*(g for g in given if g[0] not in ("subject", "workload")), *pairs]))
    if not flags.get("faults"):
        problems.extend(
            f"--{name.replace('_', '-')}: repeats a --fault, but no --fault is given"
            for name in ("fault_repeat", "fault_every")
            if flags.get(name) is not None
        )
    if problems:
        try:
            validate_run(values)
        except ParameterError as exc:
            problems.extend(exc.problems)
        raise ParameterError(problems)
    return validate_run(values)


def repeated(assignments: Iterable[tuple[str, str]]) -> list[str]:
    """Names given twice with different values (`-p recordcount=10 -p recordcount=20`, or
    `--threads 4 -p threads=8`): which one was meant cannot be told, so neither is taken."""
    seen: dict[str, list[str]] = {}
    for key, value in assignments:
        values = seen.setdefault(key.strip(), [])
        if value.strip() not in values:
            values.append(value.strip())
    return [
        f"{key}: given {len(values)} times ({', '.join(values)}); give it once"
        for key, values in seen.items()
        if len(values) > 1
    ]

"""Run parameters, validated once where they come in.

The same validation serves the CLI (before papermill starts) and each notebook's first cell (after
papermill injected its parameters). Every problem is collected and raised as ONE `ParameterError`:
unknown names, wrong types, impossible values, unknown subjects or workloads.

ycsbprops.py: the YCSB property rules (no pydantic: the generator uses them); models.py: the four parameter sets (pydantic, frozen) and their pure value rules; rules.py:
`validate` and the checks that read subjects and run directories; sources.py: the CLI's `-p` items
and a notebook's namespace. This module only re-exports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.lazy import exports

if TYPE_CHECKING:
    from workbench.errors import ParameterError
    from workbench.manifest import DEFAULT_SUBJECT, workload_file_name
    from workbench.params.models import (
        DEFAULT_DURATION_S,
        PHASES,
        RUN_ID_RE,
        YCSB_ALIASES,
        YCSB_CORE_PROPS,
        CompareParams,
        ExploreParams,
        HistoryParams,
        Params,
        RunParams,
        VerifyParams,
        new_run_id,
    )
    from workbench.params.rules import (
        KINDS,
        ParamsType,
        defaults,
        docs,
        replace,
        subject_problems,
        validate,
        validate_run,
    )
    from workbench.params.sources import from_namespace, injected_names, run_params_from_cli

# Resolved on first use (PEP 562): the native generator imports `workbench.params.ycsbprops` (the
# property rules) without loading pydantic and the manifest code (0.3 s of its start-up).
_WHERE: dict[str, str | tuple[str, str]] = {
    "ParameterError": "workbench.errors",
    "DEFAULT_SUBJECT": "workbench.manifest",
    "workload_file_name": "workbench.manifest",
    "DEFAULT_DURATION_S": "workbench.params.models",
    "PHASES": "workbench.params.models",
    "RUN_ID_RE": "workbench.params.models",
    "YCSB_ALIASES": "workbench.params.models",
    "YCSB_CORE_PROPS": "workbench.params.models",
    "CompareParams": "workbench.params.models",
    "ExploreParams": "workbench.params.models",
    "HistoryParams": "workbench.params.models",
    "Params": "workbench.params.models",
    "RunParams": "workbench.params.models",
    "VerifyParams": "workbench.params.models",
    "new_run_id": "workbench.params.models",
    "KINDS": "workbench.params.rules",
    "ParamsType": "workbench.params.rules",
    "defaults": "workbench.params.rules",
    "docs": "workbench.params.rules",
    "replace": "workbench.params.rules",
    "subject_problems": "workbench.params.rules",
    "validate": "workbench.params.rules",
    "validate_run": "workbench.params.rules",
    "from_namespace": "workbench.params.sources",
    "injected_names": "workbench.params.sources",
    "run_params_from_cli": "workbench.params.sources",
}

__getattr__ = exports(__name__, _WHERE, globals())


__all__ = [
    "DEFAULT_DURATION_S",
    "DEFAULT_SUBJECT",
    "KINDS",
    "PHASES",
    "RUN_ID_RE",
    "YCSB_ALIASES",
    "YCSB_CORE_PROPS",
    "CompareParams",
    "ExploreParams",
    "HistoryParams",
    "ParameterError",
    "Params",
    "ParamsType",
    "RunParams",
    "VerifyParams",
    "defaults",
    "docs",
    "from_namespace",
    "injected_names",
    "new_run_id",
    "replace",
    "run_params_from_cli",
    "subject_problems",
    "validate",
    "validate_run",
    "workload_file_name",
]

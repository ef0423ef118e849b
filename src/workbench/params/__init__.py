"""Run parameters, validated once where they come in.

The same validation serves the CLI (before papermill starts) and each notebook's first cell (after
papermill injected its parameters). Every problem is collected and raised as ONE `ParameterError`:
unknown names, wrong types, impossible values, unknown subjects or workloads.

models.py: the four parameter sets (pydantic, frozen) and their pure value rules; rules.py:
`validate` and the checks that read subjects and run directories; sources.py: the CLI's `-p` items
and a notebook's namespace. This module only re-exports.
"""

from __future__ import annotations

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
    Params,
    RunParams,
    VerifyParams,
    new_run_id,
)
from workbench.params.rules import (
    KINDS,
    ParamsType,
    add_run_rule,
    defaults,
    docs,
    replace,
    subject_problems,
    validate,
    validate_run,
)
from workbench.params.sources import from_namespace, injected_names, run_params_from_cli

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
    "ParameterError",
    "Params",
    "ParamsType",
    "RunParams",
    "VerifyParams",
    "add_run_rule",
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

"""Verification checks: verdicts with evidence, chosen by name in a subject's manifest.

ctx = CheckContext.from_manifest(manifest, st.ports, http=http, prometheus=prom, probe=...)
verdicts = run_checks(manifest.checks["pre"], ctx, "pre")
rd.save_verdicts(verdicts)            # the run directory writes them (workbench.artifacts)
raise_for_verdicts(verdicts)          # a separate step
"""

from workbench.checks import (
    alignment,
    cluster,
    contention,
    coverage,
    faults,
    measurement,
    observability,
    operator,
    reads,
)
from workbench.checks.base import (
    REGISTRY,
    Check,
    CheckContext,
    Judgement,
    NotApplicable,
    ProbeOutput,
    PrometheusAPI,
    Unobservable,
    available_checks,
    exit_code,
    format_table,
    get_check,
    jsonable,
    raise_for_verdicts,
    register,
    run_check,
    run_checks,
    validate_check_names,
)
from workbench.units import parse_go_duration, parse_id, parse_size

__all__ = [
    "REGISTRY",
    "Check",
    "CheckContext",
    "Judgement",
    "NotApplicable",
    "ProbeOutput",
    "PrometheusAPI",
    "Unobservable",
    "alignment",
    "available_checks",
    "cluster",
    "contention",
    "coverage",
    "exit_code",
    "faults",
    "format_table",
    "get_check",
    "jsonable",
    "measurement",
    "observability",
    "operator",
    "parse_go_duration",
    "parse_id",
    "parse_size",
    "raise_for_verdicts",
    "reads",
    "register",
    "run_check",
    "run_checks",
    "validate_check_names",
]

"""Benchmark workbench for distributed key-value stores.

The public surface, what a notebook or a user's script imports:

    from workbench import Benchmark, RunParams, run_benchmark, RunDir, render_report

Names are resolved on first use (PEP 562), so `import workbench` and the CLI's start stay cheap:
pandas, matplotlib and papermill load only when something needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.lazy import exports

__version__ = "0.1.0"

_PUBLIC: dict[str, str | tuple[str, str]] = {
    "Benchmark": "workbench.run",
    "run_benchmark": "workbench.run",
    "verification": "workbench.run",
    "attach": "workbench.run",
    "explore": "workbench.run",
    "RunParams": "workbench.params",
    "VerifyParams": "workbench.params",
    "CompareParams": "workbench.params",
    "ExploreParams": "workbench.params",
    "validate": "workbench.params",
    "load_manifest": "workbench.manifest",
    "RunDir": "workbench.artifacts",
    "RunRecord": "workbench.artifacts",
    "Verdict": "workbench.model",
    "ClientSummary": "workbench.model",
    "WorkbenchError": "workbench.errors",
    "CheckFailed": "workbench.errors",
    "ParameterError": "workbench.errors",
    "render_report": ("workbench.report", "render"),
}

__all__ = [
    "Benchmark",
    "CheckFailed",
    "ClientSummary",
    "CompareParams",
    "ExploreParams",
    "ParameterError",
    "RunDir",
    "RunParams",
    "RunRecord",
    "Verdict",
    "VerifyParams",
    "WorkbenchError",
    "__version__",
    "attach",
    "explore",
    "load_manifest",
    "render_report",
    "run_benchmark",
    "validate",
    "verification",
]

if TYPE_CHECKING:
    from workbench.artifacts import RunDir, RunRecord
    from workbench.errors import CheckFailed, ParameterError, WorkbenchError
    from workbench.manifest import load_manifest
    from workbench.model import ClientSummary, Verdict
    from workbench.params import CompareParams, ExploreParams, RunParams, VerifyParams, validate
    from workbench.report import render as render_report
    from workbench.run import Benchmark, attach, explore, run_benchmark, verification

__getattr__ = exports(__name__, _PUBLIC, globals())

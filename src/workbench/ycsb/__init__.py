"""YCSB workloads: go-ycsb runner and output parser, and a native core-workload generator.

Layering: this package imports only base modules (``workbench.errors``), never the stack or
Prometheus modules; a caller that runs YCSB inside a Compose network passes an argv prefix.
"""

from workbench.ycsb.parser import (
    IntervalRow,
    OpStats,
    StatusBlock,
    TargetReport,
    YcsbResult,
    parse,
    parse_go_duration,
)
from workbench.ycsb.runner import RunOutcome, build_go_ycsb_argv, build_native_argv, run_ycsb

__all__ = [
    "IntervalRow",
    "OpStats",
    "RunOutcome",
    "StatusBlock",
    "TargetReport",
    "YcsbResult",
    "build_go_ycsb_argv",
    "build_native_argv",
    "parse",
    "parse_go_duration",
    "run_ycsb",
]

"""The run layer: one benchmark run from parameters to report, and its supervision.

benchmark.py   the conductor: the order of stages, stage records, save-then-raise
stackctl.py    the run's hold on its stack (open, adopt, teardown in the background)
workload.py    one YCSB phase through the tool registry, saved to the run directory
observe.py     checks on the live stack, settle, window, metrics, timeline and figures
finishing.py   status, fingerprint, summary, report
supervisor.py  `workbench run` around a papermill kernel: prestart, signals, salvage
api.py         run_benchmark, verification, attach, explore
"""

from workbench.run.api import attach, explore, run_benchmark, verification
from workbench.run.benchmark import STAGES, Benchmark

__all__ = ["STAGES", "Benchmark", "attach", "explore", "run_benchmark", "verification"]

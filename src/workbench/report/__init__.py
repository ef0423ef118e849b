"""Reports: everything a reader sees of finished runs, rendered from run directories alone.

summary.py   the numbers and the status of a run (RunSummary, summarize, list_runs, format_runs)
html.py      report.html and index.html through jinja2 templates (render, render_index)
templates/   the markup (autoescaped): base, macros, report, index, the stylesheet
history.py   results/history.html: every series with its change points (workbench.history's)
compare.py   several runs side by side as a frame (compare_runs)
plots.py     frames to matplotlib figures (the report's and the notebooks')
capacity.py  a capacity search's report.html from its capacity.json (render_capacity)
canvas.py    what every figure shares: the Figure, the PNG, marks, line rules, partial intervals

Nothing here talks to a live stack, a YCSB tool or Prometheus, and nothing runs a benchmark: the
report reads `workbench.artifacts` (the run directory), `workbench.history` (series of runs) and
`workbench.model` only.
"""

from . import plots
from .capacity import render_capacity
from .compare import COMPARE_METRICS, compare_runs
from .history import render_history
from .html import render, render_index
from .summary import (
    RunSummary,
    display_status,
    final_numbers,
    format_runs,
    headline_text,
    list_runs,
    summarize,
)

__all__ = [
    "COMPARE_METRICS",
    "RunSummary",
    "compare_runs",
    "display_status",
    "final_numbers",
    "format_runs",
    "headline_text",
    "list_runs",
    "plots",
    "render",
    "render_capacity",
    "render_history",
    "render_index",
    "summarize",
]

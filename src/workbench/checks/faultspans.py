"""The run's faults as the spans the measurement checks read (workbench.faults.spans): the one
place that maps the check context's fault outcomes onto them."""

from __future__ import annotations

from workbench.checks.base import CheckContext
from workbench.faults.spans import FaultSpan, spans


def fault_spans(ctx: CheckContext) -> list[FaultSpan]:
    """The run's applied faults as spans, by start (none without faults)."""
    return [] if ctx.faults is None else spans(ctx.faults.applied)

"""The report's Operator section, read through `RunDir.operator()` (the typed operator.json,
workbench.artifacts.operator): a scorecard per fault (detect, first action, recovery or
"not recovered", what the clients paid), the integrity, the false alarms, what the operator's
events file held and how it ended. Only reading and shaping here: the scores are
workbench.operator.scoring's.
"""

from __future__ import annotations

import base64
from collections import Counter
from dataclasses import dataclass, field

from workbench.artifacts import OperatorDoc, RunDir
from workbench.operator.scores import OperatorScores
from workbench.report.canvas import to_png
from workbench.report.operator_plot import operator_lanes

# the scorecard's number columns: FaultScore field -> (title, unit)
SCORE_COLUMNS: dict[str, tuple[str, str]] = {
    "detect_s": ("detected after", "s"),
    "first_action_s": ("first action (engine)", "s"),
    "first_act_s": ("first act (its word)", "s"),
    "resolved_claim_s": ("said resolved", "s"),
    "recovery_s": ("recovered after", "s"),
    "unavailability_s": ("unavailability", "s"),
    "failed_ops": ("failed operations", ""),
    "ops_below_pre": ("operations below the pre-fault rate", ""),
    "p99_excess_ms_s": ("p99 excess", "ms·s"),
}


@dataclass(frozen=True)
class OperatorSection:
    """What the Operator section shows; `problem`: operator.json could not be read."""

    doc: OperatorDoc | None = None
    scores: OperatorScores | None = None
    columns: dict[str, tuple[str, str]] = field(default_factory=lambda: dict(SCORE_COLUMNS))
    actions: dict[str, int] = field(default_factory=dict)  # container events by attribution
    problem: str | None = None
    figure: str | None = None  # the lanes (figures/operator.png), base64


def operator_summary(rd: RunDir) -> OperatorSection | None:
    """What the report's Operator section shows (None: the run had no operator.json)."""
    doc = rd.operator()
    if doc is None:
        return None
    if not isinstance(doc, OperatorDoc):
        return OperatorSection(problem=str(doc))
    by: Counter[str] = Counter(str(c.attributed) for c in doc.container_events)
    return OperatorSection(doc=doc, scores=doc.scores, actions=dict(by), figure=_lanes(rd, doc))


def _lanes(rd: RunDir, doc: OperatorDoc) -> str | None:
    """figures/operator.png, drawn unless a fresh one exists (None: it cannot be drawn)."""
    png = rd.figure("operator")
    if png is None:
        try:
            timeline = rd.timeline()
        except Exception:  # a damaged timeline: the lanes still stand without the throughput
            timeline = None
        try:
            png = to_png(operator_lanes(timeline, doc))
        except Exception:  # the section's tables say everything the figure would
            return None
        rd.save_png("operator", png)
    return base64.b64encode(png).decode("ascii")

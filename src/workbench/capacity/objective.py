"""The latency objective a capacity is found under: `p99=50ms`, `READ:p99.9<=20ms`, `p50 500us`,
`p99≤50ms` (the separator `=`, `<=`, `<`, `≤` or a space: all mean at or under).

A percentile in (0, 100) of the intended-time latency (measured from the moment each operation was
due, not from when it was sent: a queue shows), of TOTAL or of one operation, at or under a bound.
`parse_objective` raises ParameterError naming what is wrong, before anything starts.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from workbench.errors import ParameterError

_SYNTAX = re.compile(
    r"^(?:(?P<op>[A-Za-z][A-Za-z_-]*)[:.])?p(?P<pct>[0-9]+(?:\.[0-9]+)?)(?:\s*(?:<=|=|<|≤)\s*|\s+)"
    r"(?P<value>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>ms|us|µs|s)$"
)
_TO_MS = {"ms": 1.0, "us": 1e-3, "µs": 1e-3, "s": 1000.0}
EXAMPLE = "p99=50ms (or READ:p99.9<=20ms)"


class Objective(BaseModel):
    """A percentile of intended-time latency at or under `threshold_ms`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    percentile: float = Field(gt=0, lt=100)
    threshold_ms: float = Field(gt=0)
    operation: str = "TOTAL"

    @property
    def quantile(self) -> float:
        return self.percentile / 100.0

    @property
    def label(self) -> str:
        """`p99` / `p99.9`."""
        return f"p{self.percentile:g}"

    def text(self) -> str:
        """`p99 ≤ 50 ms` (`READ p99 ≤ 50 ms` for one operation)."""
        op = "" if self.operation == "TOTAL" else f"{self.operation} "
        return f"{op}{self.label} ≤ {self.threshold_ms:g} ms"


def parse_objective(text: str) -> Objective:
    """`[OP:]pNN=VALUE(ms|us|s)`; a clear ParameterError otherwise."""
    m = _SYNTAX.match(text.strip())
    if m is None:
        raise ParameterError([f"slo: cannot read {text!r}; expected e.g. {EXAMPLE}"])
    pct = float(m["pct"])
    value = float(m["value"]) * _TO_MS[m["unit"]]
    problems = []
    if not 0 < pct < 100:
        problems.append(f"slo: the percentile must be in (0, 100), got p{m['pct']}")
    if value <= 0:
        problems.append(f"slo: the latency bound must be > 0, got {m['value']}{m['unit']}")
    if problems:
        raise ParameterError(problems)
    return Objective(percentile=pct, threshold_ms=value, operation=(m["op"] or "TOTAL").upper())

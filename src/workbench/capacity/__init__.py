"""Capacity: the highest throughput a system sustains under a latency objective, as an interval.

objective.py  the objective (`p99=50ms`), parsed and checked before anything starts
judge.py      one probe's verdict: achieved share, backlog slope, percentile upper bound, errors
search.py     widen, bisect, re-run the bracket; the interval; an injected probe callable
record.py     capacity.json (typed, every probe) and its exit codes

Pure: nothing here starts a process or reads a run directory (run/findmax.py does that).
"""

from workbench.capacity.judge import Judged, ProbeObservation, judge
from workbench.capacity.objective import Objective, parse_objective
from workbench.capacity.record import CapacityDoc, Interval, Probe, Settings, read_capacity
from workbench.capacity.search import Search

__all__ = [
    "CapacityDoc",
    "Interval",
    "Judged",
    "Objective",
    "Probe",
    "ProbeObservation",
    "Search",
    "Settings",
    "judge",
    "parse_objective",
    "read_capacity",
]

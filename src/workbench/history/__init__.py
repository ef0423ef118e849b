"""History: every run of a results folder as series per benchmark, and when performance moved.

detect.py     change points of one series: e-divisive means with a t (or permutation) re-test,
              a minimum segment length, strong and weak change points
index.py      one typed row per run (benchmark key, environment class, versions, labels, status,
              headline numbers), cached in results/.history-index.json, updated incrementally
series.py     rows (or a CSV's columns) as series, analysed; the `--json` shape
verdict.py    the newest run against its series: regression / improvement / ~ / insufficient
synthetic.py  series of known truth: the accuracy suite the tests and the bench share

Reads run and campaign directories through workbench.artifacts only; the CLI and the report read
this room, never the other way round.
"""

from workbench.artifacts.record import NUMBER_FIELDS

from .detect import Analysis, ChangePoint, Segment, Settings, change_points
from .index import EnvClass, HistoryIndex, Key, Row, build_index, group
from .series import Analysed, Change, Point, Series, analyse, csv_series, run_series, to_json
from .verdict import Verdict, exit_code, judge

__all__ = [
    "NUMBER_FIELDS",
    "Analysed",
    "Analysis",
    "Change",
    "ChangePoint",
    "EnvClass",
    "HistoryIndex",
    "Key",
    "Point",
    "Row",
    "Segment",
    "Series",
    "Settings",
    "Verdict",
    "analyse",
    "build_index",
    "change_points",
    "csv_series",
    "exit_code",
    "group",
    "judge",
    "run_series",
    "to_json",
]

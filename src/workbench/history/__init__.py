"""History: every run of a results folder as series per benchmark, and when performance moved.

detect.py     change points of one series: e-divisive means with a t (or permutation) re-test,
              a minimum segment length, strong and weak change points
synthetic.py  series of known truth: the accuracy suite the tests and the bench share

Reads run and campaign directories through workbench.artifacts only; the CLI and the report read
this room, never the other way round.
"""

from .detect import Analysis, ChangePoint, Segment, Settings, change_points

__all__ = ["Analysis", "ChangePoint", "Segment", "Settings", "change_points"]

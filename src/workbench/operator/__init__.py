"""The operator under test, scored: pure functions from what it said (its events file), what the
engine saw (attributed container events), the cluster's membership and the client's series to
per-fault scores (no I/O, no stack).

contract.py  the typed inputs: OperatorEvent / EventsRead (parse_events, read_events),
             ContainerEvent (attribute), MembershipSample
scores.py    the typed scores: FaultScore, Integrity, OperatorScores
scoring.py   the scores from the inputs

reference.py / reference_watch.py: the reference operator (`workbench operator reference`), the
baseline run beside the cluster with `--operator reference` (it does I/O: cluster API, engine).
"""

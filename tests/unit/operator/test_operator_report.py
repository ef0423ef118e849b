"""The report's Operator section: a scorecard per fault from operator.json (censored faults shown
as not recovered), the operator's own text escaped, a damaged file said, none without the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench import artifacts, report, stats
from workbench.artifacts import OperatorDoc, OperatorExit, RunDir
from workbench.artifacts.record import Headline
from workbench.campaign.metrics import RunNumbers, _operator_fail_only, operator_numbers
from workbench.model import Verdict
from workbench.operator.contract import ContainerEvent, EventsRead, OperatorEvent
from workbench.operator.scores import FaultScore, Integrity, OperatorScores


def run(tmp_path: Path) -> RunDir:
    return RunDir.create(tmp_path, "r0", "etcd", {"subject": "etcd", "workload": "a"})


def test_the_scorecard_shows_each_fault_and_what_the_operator_did(tmp_path: Path) -> None:
    rd = run(tmp_path)
    scores = OperatorScores(
        faults=[
            FaultScore(
                index=0, label="kill:follower", target="etcd1", onset_s=15.0, detect_s=1.5,
                detect_named_target=True, first_action="start etcd1", first_action_s=4.4,
                recovered=True, recovery_s=7.25, unavailability_s=0.0,
                unavailability_from="probe",
            ),
            FaultScore(
                index=1, label="kill:leader", target="etcd0", onset_s=40.0, censored=True,
                censored_at_s=20.0, resolved_claim_s=12.0,
            ),
        ],
        integrity=Integrity(voting_start=3, voting_end=2, ok=False, reasons=["2 vs 3"]),
        false_alarms=[OperatorEvent(ts=1.0, kind="detect")],
    )  # fmt: skip
    rd.save_operator(
        OperatorDoc(
            operator="reference",
            docker=True,
            events=EventsRead(lines=3, malformed=1, unknown_kinds={"<script>": 1}),
            container_events=[ContainerEvent(t=1.0, action="start", attributed="operator")],
            exit=OperatorExit(code=1, log_tail=["<b>panic</b>"]),
            scores=scores,
        )
    )
    html = report.render(rd.path).read_text()
    section = html[html.index("<h2>Operator</h2>") :]
    assert "<code>reference</code> (with the Docker socket)" in section
    assert "start etcd1" in section and "7.25" in section and "(probe)" in section
    assert "<b>not recovered</b> (watched 20.0 s)" in section
    assert "Integrity: <b>broken</b>" in section and "2 vs 3" in section
    assert "False alarms" in section and ": 1;" in section
    assert "exit code 1" in section and "&lt;b&gt;panic&lt;/b&gt;" in section
    assert "&lt;script&gt;: 1" in section and "<script>" not in section
    assert "1 by operator" in section


def test_no_operator_json_no_section_and_a_damaged_one_is_said(tmp_path: Path) -> None:
    rd = run(tmp_path)
    assert "<h2>Operator</h2>" not in report.render(rd.path).read_text()
    (rd.path / "operator.json").write_text("{not json")
    html = report.render(rd.path).read_text()
    assert "operator.json is unreadable" in html


def test_campaign_numbers_of_a_run_and_the_recovered_counts_compared(tmp_path: Path) -> None:
    rd = run(tmp_path)
    assert operator_numbers(rd.path) is None
    faults = [
        FaultScore(index=0, label="a", onset_s=1, detect_s=1.0, recovered=True, recovery_s=6.0),
        FaultScore(index=1, label="b", onset_s=9, detect_s=3.0, censored=True),
        FaultScore(index=2, label="c", onset_s=20, detect_s=2.0, recovered=True, recovery_s=8.0),
    ]
    rd.save_operator(OperatorDoc(operator="reference", scores=OperatorScores(faults=faults)))
    got = operator_numbers(rd.path)
    assert got is not None and (got.recovered, got.not_recovered) == (2, 1)
    assert got.values["operator_detect_s"] == 2.0 and got.values["operator_recovery_s"] == 7.0
    assert got.values["operator_action_s"] is None
    # five persistent kills each: the reference recovers all, the control none
    c = stats.compare_recovered((0, 5), (5, 0))
    assert c.verdict == "better" and c.p_value == pytest.approx(2 / 252)
    assert stats.compare_recovered((5, 0), (0, 5)).verdict == "worse"
    assert stats.compare_recovered((2, 3), (3, 2)).verdict == "~"
    assert stats.compare_recovered((0, 0), (3, 2)).verdict == "unknown"
    assert stats.metric("operator_recovery_s").higher_is_better is False
    # the scores compare like any per-run number, lower being better; not yet a [compare] metric
    fast = stats.compare("operator_recovery_s", [30, 31, 29, 35, 33], [7, 8, 6.5, 9, 7.5])
    assert fast.verdict == "better" and fast.ratio is not None and fast.ratio < 0.3
    assert "operator_recovery_s" not in stats.METRICS


def test_the_timelines_operator_marks(tmp_path: Path) -> None:
    scores = OperatorScores(
        faults=[
            FaultScore(
                index=0, label="kill:follower", onset_s=15.0, recovered=True, recovery_s=7.0
            ),
            FaultScore(
                index=1, label="kill:leader", onset_s=40.0, censored=True, censored_at_s=20.0
            ),
        ]
    )
    doc = OperatorDoc(
        operator="reference",
        t0=1000.0,
        events=EventsRead(events=[OperatorEvent(ts=1016.0, kind="detect", target="etcd1")]),
        container_events=[
            ContainerEvent(t=1019.0, action="start", service="etcd1", attributed="operator"),
            ContainerEvent(t=1015.0, action="kill", service="etcd1", attributed="injector"),
        ],
        scores=scores,
    )
    marks = {(m["name"], m["start"], m["end"]) for m in doc.marks()}
    assert marks == {
        ("detect:etcd1", 1016.0, 1016.0),
        ("start:etcd1", 1019.0, 1019.0),
        ("recovered:kill:follower", 1015.0, 1022.0),
        ("not recovered:kill:leader", 1040.0, 1060.0),
    }
    tl = artifacts.build_timeline([], [], doc.marks(), 1000.0)
    assert set(tl["source"]) == {"operator"} and len(tl) == 8


def test_a_run_failed_only_by_the_operator_checks_still_counts_in_a_campaign() -> None:
    def v(name: str, status: str) -> Verdict:
        return Verdict(name=name, phase="post", status=status, summary="")  # type: ignore[arg-type]

    control = [v("operator_recovered", "fail"), v("operator_detected", "fail"), v("x", "pass")]
    assert _operator_fail_only(control)
    assert not _operator_fail_only([v("operator_recovered", "fail"), v("counts_agree", "fail")])
    assert not _operator_fail_only([v("operator_recovered", "pass")])
    numbers = Headline(throughput=300.0)
    kept = RunNumbers("r", "failed", "", numbers, operator_fail_only=True)
    assert kept.counted
    assert not RunNumbers("r", "failed", "", numbers).counted


def test_the_lanes_draw_one_lane_per_fault_with_the_operators_marks(tmp_path: Path) -> None:
    from workbench.report.operator_plot import operator_lanes

    t0 = 1000.0
    scores = OperatorScores(
        faults=[
            FaultScore(index=0, label="kill:follower", target="etcd1", onset_s=10.0,
                       recovered=True, recovery_s=6.0),
            FaultScore(index=1, label="pause:leader", target="etcd0", onset_s=30.0,
                       censored=True, censored_at_s=15.0),
        ]
    )  # fmt: skip
    doc = OperatorDoc(
        operator="reference",
        t0=t0,
        run_end=t0 + 45.0,
        events=EventsRead(events=[OperatorEvent(ts=t0 + 11.0, kind="detect", target="etcd1")]),
        container_events=[ContainerEvent(t=t0 + 12.0, action="start", service="etcd1")],
        scores=scores,
    )
    fig = operator_lanes(None, doc)
    axes = fig.get_axes()
    assert len(axes) == 3  # the throughput and one lane per fault
    labels = {t.get_text() for t in fig.legends[0].get_texts()}
    assert {"detect", "until recovered", "not recovered", "operator: container event"} <= labels
    lane = axes[1]
    points = {(line.get_marker(), float(line.get_xdata()[0])) for line in lane.get_lines()}
    assert ("o", 11.0) in points and ("^", 12.0) in points  # detect; the operator's start
    assert ("--", 16.0) in {
        (line.get_linestyle(), float(line.get_xdata()[0])) for line in lane.get_lines()
    }
    empty = operator_lanes(None, OperatorDoc(operator="none", scores_reason="no run phase"))
    assert any("no run phase" in t.get_text() for t in empty.get_axes()[0].texts)

"""The operator scores in a campaign's statistics, stats.json, report and terminal summary, and
`workbench compare` of single runs: run directories made like a run makes them (operator.json
through the typed models), the reference recovering every persistent kill, the control none."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from workbench import stats
from workbench.artifacts import OperatorDoc, RunDir
from workbench.artifacts.record import Headline
from workbench.campaign import compare as cmp
from workbench.campaign import report, session, spec
from workbench.campaign.metrics import OperatorNumbers, run_metrics
from workbench.campaign.runner import run_campaign
from workbench.campaign.store import CampaignStore
from workbench.model import Verdict
from workbench.operator.scores import FaultScore, OperatorScores

# stats.json as written before the operator section (no `operator` key)
OLD_STATS = {
    "campaign_id": "20261201T100000Z-operator",
    "baseline": "none",
    "groups": ["none", "reference"],
    "alpha": 0.05,
    "min_effect": 0.05,
    "excluded": {"none": 0, "reference": 0},
    "metrics": {
        "throughput": {
            "unit": "ops/s",
            "higher_is_better": True,
            "summaries": {
                "none": {"n": 5, "median": 299.0},
                "reference": {"n": 5, "median": 298.0},
            },
            "comparisons": {
                "reference": {"metric": "throughput", "n_base": 5, "n_other": 5, "verdict": "~"}
            },
        }
    },
}

DETECT = [1.4, 1.5, 1.6, 1.45, 1.55, 1.5]
RECOVERY = [7.0, 7.5, 8.0, 6.5, 7.2, 7.4]


def faults(operator: str, i: int, label: str = "kill:follower") -> list[FaultScore]:
    if operator == "reference":
        return [
            FaultScore(
                index=0, label=label, target="etcd1", onset_s=15.0, persistent=True,
                detect_s=DETECT[i % 6], first_action_s=DETECT[i % 6] + 2.0,
                first_action="start etcd1", recovered=True, recovery_s=RECOVERY[i % 6],
                unavailability_s=0.2 + 0.01 * i,
            )
        ]  # fmt: skip
    return [
        FaultScore(
            index=0, label=label, target="etcd1", onset_s=15.0, persistent=True, censored=True,
            censored_at_s=45.0, unavailability_s=3.0 + 0.1 * i,
        )
    ]  # fmt: skip


def add_operator(run_dir: Path, operator: str, i: int, results: dict[str, str]) -> None:
    """operator.json and the checks a run with this operator gets: the control fails
    operator_recovered only (its other operator checks skipped)."""
    rd = RunDir(run_dir)
    rd.save_operator(
        OperatorDoc(operator=operator, scores=OperatorScores(faults=faults(operator, i)))
    )
    recovered = "pass" if operator == "reference" else "fail"
    rd.save_verdicts(
        [
            Verdict("cluster_healthy", "pre", "pass", "3 members healthy"),
            Verdict("host_contention", "post", "pass", "quiet"),
            Verdict("operator_recovered", "post", recovered, "etcd1 <not> recovered"),
            Verdict("operator_integrity", "post", "pass", "3 voting members"),
            Verdict("operator_detected", "post", "skipped", "no operator ran"),
        ]
    )
    rd.finish("passed" if operator == "reference" else "failed")
    results[rd.record.run_id] = rd.record.status


def campaign(repeat: int = 5) -> spec.Campaign:
    raw = {
        "name": "operator",
        "repeat": repeat,
        "base": {"duration": 60},
        "configs": [
            {"name": "none", "operator": "none", "faults": ["kill:follower@15"]},
            {"name": "reference", "operator": "reference", "faults": ["kill:follower@15"]},
        ],
        "compare": {"baseline": "none", "metrics": ["throughput"]},
    }
    return spec.validate(raw, validate_params=dict)


def executor(fake_executor: Any, statuses: dict[str, str]) -> Any:
    calls = {"none": 0, "reference": 0}

    def numbers(params: dict[str, Any], call: int) -> tuple[float, float, str]:
        return 300.0 - call, 4.0, "passed"

    inner = fake_executor(numbers)

    def execute(params: dict[str, Any], run_id: str, results_dir: Path) -> Path:
        path = inner(params, run_id, results_dir)
        op = params["operator"]
        add_operator(path, op, calls[op], statuses)
        calls[op] += 1
        return path

    return execute


def run(
    tmp_path: Path, fake_executor: Any, repeat: int = 5
) -> tuple[CampaignStore, cmp.CompareTable]:
    store = CampaignStore.create(tmp_path, campaign(repeat))
    statuses: dict[str, str] = {}
    table = run_campaign(
        store, executor(fake_executor, statuses), progress=lambda _: None, draw=False
    )
    assert sorted(set(statuses.values())) == ["failed", "passed"]
    return store, table


def test_the_control_failing_only_operator_checks_enters_the_statistics(
    tmp_path: Path, fake_executor: Any
) -> None:
    store, table = run(tmp_path, fake_executor)
    control = [r for r in store.runs if r.config == "none"]
    assert all(r.run_status == "failed" and r.counted for r in control)
    path = store.run_path(control[0])
    assert path is not None and run_metrics(path).operator_fail_only
    assert table.summaries["throughput"]["none"].n == 5
    assert table.excluded == {"none": 0, "reference": 0}


def test_campaign_statistics_of_the_operator_scores(tmp_path: Path, fake_executor: Any) -> None:
    _, table = run(tmp_path, fake_executor)
    op = table.operator
    assert op is not None and op.groups == ["none", "reference"]
    assert op.runs == {"none": 5, "reference": 5}
    detect = op.summaries["operator_detect_s"]
    assert detect["none"].n == 0 and detect["reference"].n == 5
    assert detect["reference"].median == pytest.approx(1.5)
    assert detect["reference"].ci_low is None and detect["reference"].ci_needed_n == 6
    # the control never detects nor recovers: no comparison, said so; never an invented one
    assert "reference" not in op.comparisons["operator_detect_s"]
    assert op.comparison_text("operator_recovery_s", "reference") == (
        "no comparison (none has no values)"
    )
    assert op.summaries["operator_recovery_s"]["reference"].median == pytest.approx(7.2)
    # unavailability has values on both sides: Mann-Whitney, the reference far lower
    unav = op.comparisons["operator_unavailability_s"]["reference"]
    assert unav.verdict == "better" and unav.p_value == pytest.approx(2 / 252)
    # censored faults are counted, not dropped: 5 of 5 against 0 of 5
    assert (op.counts["none"].pair, op.counts["reference"].pair) == ((0, 5), (5, 0))
    fisher = op.recovered["reference"]
    assert fisher.verdict == "better" and fisher.p_value == pytest.approx(0.0079, abs=1e-4)
    assert cmp.unknown(table) == []


def test_six_runs_give_the_medians_interval(tmp_path: Path, fake_executor: Any) -> None:
    _, table = run(tmp_path, fake_executor, repeat=6)
    assert table.operator is not None
    s = table.operator.summaries["operator_detect_s"]["reference"]
    assert s.n == 6 and s.ci_low is not None and s.ci_high is not None
    assert min(DETECT) <= s.ci_low <= 1.5 <= s.ci_high <= max(DETECT)
    assert table.operator.counts["reference"].text() == "6 of 6"


def test_stats_json_operator_section_round_trip_and_old_files(
    tmp_path: Path, fake_executor: Any
) -> None:
    store, _ = run(tmp_path, fake_executor)
    doc = store.read_stats()
    assert doc.operator is not None
    assert doc.to_json() == json.loads(store.stats_path.read_text())
    ref = doc.operator.metrics["operator_detect_s"].summaries["reference"]
    assert ref.n == 5 and ref.median == pytest.approx(1.5)
    assert doc.operator.counts["none"].not_recovered == 5
    rec = doc.operator.recovered["reference"]
    assert (rec.base, rec.other, rec.verdict) == ([0, 5], [5, 0], "better")
    assert rec.text.startswith("better (Fisher p=0.0079: 5 of 5 vs 0 of 5")
    store.stats_path.write_text(json.dumps(OLD_STATS))  # written before the operator section
    old = store.read_stats()
    assert (
        old.operator is None and old.metrics["throughput"].comparisons["reference"].verdict == "~"
    )


def test_report_and_terminal_show_a_table_per_configuration(
    tmp_path: Path, fake_executor: Any
) -> None:
    store, table = run(tmp_path, fake_executor)
    page = store.report_path.read_text()
    assert "<h2>The operator under test</h2>" in page
    section = page[page.index("<h2>The operator under test</h2>") :]
    assert "<h3>none</h3>" in section and "<h3>reference</h3>" in section
    ref = section[section.index("<h3>reference</h3>") :]
    assert "detect (s)" in ref and ">1.50<" in ref and "none¹" in ref
    assert "5 of 5" in ref and "better (Fisher p=0.0079: 5 of 5 vs 0 of 5)" in ref
    assert "no comparison (none has no values)" in ref
    assert stats.median_footnote() in page
    text = cmp.format_table(table)
    assert "Operator scores" in text and "0 of 5" in text and "5 of 5" in text
    assert "Fisher p=0.0079" in text and "no comparison (none has no values)" in text


def test_the_report_table_is_escaped_and_absent_without_scores(
    tmp_path: Path, fake_executor: Any
) -> None:
    store, _ = run(tmp_path, fake_executor, repeat=1)
    samples: dict[str, list[Headline]] = {"base": [], "<b>x</b>": []}
    table = cmp.analyze(samples, "base", ["throughput"], operator={"base": [], "<b>x</b>": []})
    assert table.operator is None  # no run had scores: no section
    report.render(store, table, draw=False)
    assert "The operator under test" not in store.report_path.read_text()
    one = [OperatorNumbers({"operator_detect_s": 1.0}, 1, 0)]
    scores = {"base": one, "<b>x</b>": [OperatorNumbers({}, 0, 0, undetermined=1)]}
    table = cmp.analyze(samples, "base", ["throughput"], operator=scores)
    assert table.operator is not None
    blocks = report.operator_tables(table.operator)
    assert [b.group for b in blocks] == ["base", "<b>x</b>"]
    assert blocks[1].rows[-1].median == "0 of 0 (+1 undetermined)"
    assert blocks[1].rows[-1].css == "unknown"
    assert cmp.unknown(table)[-1] == (
        "recovered <b>x</b>: unknown (no fault with a known outcome: 0 of 0 vs 1 of 1)"
    )
    page = report.render(store, table, draw=False).read_text()
    assert "<h3>&lt;b&gt;x&lt;/b&gt;</h3>" in page and "<b>x</b>" not in page
    assert "unknown (no fault with a known outcome: 0 of 0 vs 1 of 1)" in page
    table = cmp.analyze(samples, "base", ["throughput"], operator={"base": one})
    assert table.operator is not None and table.operator.recovered == {}  # no operator's group
    assert table.operator.recovered_text("<b>x</b>") == (
        "no comparison (no run of <b>x</b> has operator scores)"
    )
    assert [u.split(":")[0] for u in cmp.unknown(table)] == ["throughput <b>x</b>"]


def test_compare_of_runs_shows_each_fault_side_by_side(tmp_path: Path, fake_executor: Any) -> None:
    store, _ = run(tmp_path, fake_executor, repeat=1)
    paths = [store.run_path(r) for r in store.runs]
    assert all(p is not None for p in paths)
    table = cmp.compare([p for p in paths if p is not None])
    assert len(table.faults) == 2
    text = cmp.format_table(table)
    block = text[text.index("Operator scores by fault") :]
    assert "not recovered" in block and "start etcd1" in block and "kill:follower" in block
    rows = [line.split() for line in block.splitlines()[2:] if line.strip()][:2]
    assert rows[0][0].endswith("-none-r0") and rows[0][2:4] == ["—", "—"]
    assert rows[1][0].endswith("-reference-r0") and rows[1][2:4] == ["1.40", "3.40"]
    assert rows[1][-2:] == ["7.00", "0.20"] and " ".join(rows[0][-3:]) == "not recovered 3.00"
    assert "Fisher" not in text  # medians of one run each say less than the faults themselves
    out = table.to_json()
    assert {f["censored"] for fs in out["faults"].values() for f in fs} == {True, False}
    assert out["operator"]["counts"]


def test_the_notebooks_operator_frame(tmp_path: Path, fake_executor: Any) -> None:
    store, _ = run(tmp_path, fake_executor)
    _, table = session.reopen(store.path)  # recomputed from the run directories
    frame = session.operator_frame(table)
    assert list(frame.columns) == ["configuration", "score", "n", "median", "95% CI", "vs none"]
    assert len(frame) == 10  # two configurations x (four scores + recovered)
    last = frame.iloc[-1]
    assert (last["configuration"], last["median"]) == ("reference", "5 of 5")
    assert last["vs none"].startswith("better (Fisher p=0.0079")
    table.operator = None
    assert session.operator_frame(table).empty

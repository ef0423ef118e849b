"""faults.json as one typed document: a run directory written by the code before it (schema-1
faults.json, free fault dicts in run.json, a checks.json list) still reads and renders; a damaged
file is a problem the report says, never a traceback; what is saved reads back the same."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from workbench import cli, report
from workbench.artifacts import FaultsDoc, FileProblem, RunDir, migrate_faults
from workbench.faults.outcome import HealthAfter

OLD = Path(__file__).parent / "data" / "20261201T100000.000Z-etcd-a-faults1"

pytestmark = pytest.mark.usefixtures("fixed_png")  # figures built, not rasterised


@pytest.fixture
def old_run(tmp_path: Path) -> Path:
    """A copy of a run directory exactly as the code before the typed faults document wrote it
    (RunFaults.finish with fake actions: one applied kill, one pause docker refused; a server
    view of the kill; a checks.json list)."""
    return Path(shutil.copytree(OLD, tmp_path / OLD.name))


def test_a_schema1_faults_json_reads_typed_with_each_faults_own_numbers(old_run: Path) -> None:
    raw = json.loads((old_run / "faults.json").read_text())
    assert raw["schema"] == 1 and "recoveries" in raw and "server_view" in raw
    doc = RunDir(old_run).faults()
    assert isinstance(doc, FaultsDoc) and doc.schema_version == 2
    kill, pause = doc.faults
    assert kill.label == "kill:etcd1" and kill.container == "c-etcd1" and kill.spec.action == "kill"
    assert kill.recovery is not None and kill.metric("unavailability_s") == (3.0, "")
    assert kill.metric("p99_recovery_s") == (None, "no pre-fault p99 (10 s before the fault)")
    assert kill.server is not None
    assert kill.server.counters == {"leader_changes": 1.0, "proposals_failed": None}
    # the pause was refused: no recovery, no server view, its error kept
    assert pause.applied is None and pause.recovery is None and pause.server is None
    assert (
        pause.metric("unavailability_s")[0] is None
        and "not applied" in pause.metric("errors_during")[1]
    )
    assert pause.error == "RuntimeError: docker said no"
    assert doc.server_counters == ["leader_changes", "proposals_failed"]
    assert doc.healthy_after == HealthAfter(
        healthy=True,
        since=kill.end,
        at=raw["healthy_after"]["at"],
        took_s=2.5,
        health={"etcd0": "healthy"},
    )
    assert doc.seed == 7 and doc.distribution["unavailability_s"].values == [3.0]
    obs = doc.observation()
    assert [f.label for f in obs.applied] == ["kill:etcd1"]
    # run.json's free fault dicts are typed records now
    rec = RunDir(old_run).record
    assert rec.faults[1].label == "pause:etcd2" and rec.faults[1].applied is None
    assert json.loads((old_run / "faults.json").read_text()) == raw  # reading never rewrites


def test_a_schema1_run_directory_renders_and_compares(old_run: Path) -> None:
    assert cli.main(["report", str(old_run)]) == 0
    html = (old_run / "report.html").read_text()
    assert "<h2>Faults</h2>" in html and "kill:etcd1" in html and "docker said no" in html
    assert "leader changes (server)</th>" in html and "fault_unavailability" in html
    assert "Stack healthy again after the last fault" in html
    df = report.compare_runs([old_run])
    assert df["faults"].tolist() == [2] and df["unavail max s"].tolist() == [3.0]


def test_a_schema1_server_view_that_failed_is_the_documents_problem() -> None:
    data = json.loads((OLD / "faults.json").read_text())
    data["server_view"] = [{"error": "QueryError: refused"}]
    doc = FaultsDoc.model_validate(migrate_faults(data))
    assert doc.server_problem == "QueryError: refused" and doc.server_counters == []
    assert all(f.server is None for f in doc.faults)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("{not json", "JSONDecodeError"),
        ("[1, 2]", "not an object"),
        ('{"schema": 2, "faults": [{"index": "x"}]}', "ValidationError"),
        ('{"schema": 1, "faults": [{"label": "k"}]}', "ValidationError"),
    ],
)
def test_a_damaged_faults_json_is_a_problem_never_a_traceback(
    old_run: Path, text: str, why: str
) -> None:
    (old_run / "faults.json").write_text(text)
    got = RunDir(old_run).faults()
    assert isinstance(got, FileProblem) and got.name == "faults.json" and why in got.reason
    assert cli.main(["report", str(old_run)]) == 0
    assert "faults.json is unreadable" in (old_run / "report.html").read_text()


def test_what_is_saved_reads_back_the_same(old_run: Path) -> None:
    rd = RunDir(old_run)
    doc = rd.faults()
    assert isinstance(doc, FaultsDoc)
    rd.save_faults(doc)
    assert json.loads((old_run / "faults.json").read_text())["schema"] == 2
    assert rd.faults() == doc


def test_no_faults_json_no_faults(tmp_path: Path) -> None:
    rd = RunDir.create(tmp_path, "r0", "etcd", {})
    assert rd.faults() is None

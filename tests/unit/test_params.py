"""Run parameters: validated once, every problem listed in ONE error."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from workbench import params as P
from workbench.errors import ParameterError
from workbench.manifest import SUBJECTS_DIR


@pytest.fixture()
def subject(tmp_path: Path) -> str:
    """The etcd subject with workload files a..f (whatever the repo ships right now)."""
    shutil.copytree(SUBJECTS_DIR, tmp_path / "subjects")
    d = tmp_path / "subjects" / "etcd"
    (d / "workloads").mkdir(exist_ok=True)
    for w in "abcdef":
        wl = d / "workloads" / f"workload{w}"
        if not wl.exists():
            wl.write_text("recordcount=1000\n")
    return str(d)


def problems(kind: str, values: dict) -> list[str]:
    with pytest.raises(ParameterError) as info:
        P.validate(kind, values)
    return info.value.problems


def test_defaults_validate_and_resolve_a_duration(subject: str) -> None:
    p = P.validate_run({"subject": subject})
    assert p.workload == "a" and p.threads >= 1 and p.target == 0
    assert p.duration == P.DEFAULT_DURATION_S and p.operationcount is None
    q = P.validate_run({"subject": subject, "operationcount": 5000})
    assert q.duration is None and q.ycsb_properties()["operationcount"] == "5000"


def test_every_problem_is_listed_at_once(subject: str) -> None:
    got = problems(
        "benchmark",
        {
            "subject": subject,
            "threads": -2,
            "bogus": 1,
            "recordcount": "many",
            "workload": "z",
            "phases": "load",
            "target": 100,
            "prometheus_step": 0,
        },
    )
    text = "\n".join(got)
    assert len(got) == 6, text
    for needle in (
        "bogus: unknown parameter",
        "recordcount: expected an integer",
        "threads: must be >= 1",
        "target: set, but there is no run phase",
        "workload: unknown workload 'z'",
        "prometheus_step: must be > 0",
    ):
        assert needle in text


def test_unknown_subject_names_the_valid_ones() -> None:
    (msg,) = problems("benchmark", {"subject": "cassandra"})
    assert "unknown subject 'cassandra'" in msg and "etcd" in msg


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        ({"operationcount": 10, "duration": 5}, "not both"),
        ({"operationcount": 2, "threads": 4}, "below threads"),
        ({"duration": 5, "warmup": 5}, "leaves nothing"),
        ({"target": -1}, "target: must be >= 0"),
        ({"threads": True}, "threads: expected an integer"),
        ({"keep_stack": "maybe"}, "keep_stack: expected true/false"),
        ({"phases": "run,run"}, "phases:"),
        ({"phases": "load,sleep"}, "phases:"),
        ({"run_id": "../evil"}, "run_id:"),
        ({"props": {"fieldcount": [1]}}, "must be a scalar"),
        ({"props": {"nonsense": "1"}}, "nonsense: unknown parameter"),
        ({"props": {"threadcount": "2"}}, "has its own parameter 'threads'"),
        ({"duration": "soon"}, "duration: expected a number"),
    ],
)
def test_impossible_values(subject: str, values: dict, needle: str) -> None:
    got = problems("benchmark", {"subject": subject, **values})
    assert any(needle in p for p in got), got


def test_papermill_and_cli_value_shapes_coerce(subject: str) -> None:
    p = P.validate_run(
        {
            "subject": subject,
            "threads": "8",
            "target": 500.0,
            "duration": 3,
            "keep_stack": "yes",
            "props": '{"fieldcount": 3, "readallfields": true}',
            "workload": "workloadb",
        }
    )
    assert (p.threads, p.target, p.duration, p.keep_stack) == (8, 500, 3.0, True)
    assert p.props == {"fieldcount": "3", "readallfields": "true"}
    assert P.validate_run(
        {"subject": subject, "props": "fieldcount=2,etcd.dial_timeout=3s"}
    ).props == {"fieldcount": "2", "etcd.dial_timeout": "3s"}


def test_cli_assignments_use_ycsb_names(subject: str) -> None:
    p = P.run_params_from_cli(
        [
            "threadcount=3",
            "recordcount=200",
            "fieldlength=10",
            "etcd.serializable_reads=true",
            "keep_stack=true",
        ],
        subject=subject,
        workload="c",
        duration=None,
        results_dir=None,
    )
    assert (p.threads, p.recordcount, p.workload, p.keep_stack) == (3, 200, "c", True)
    assert p.props == {"fieldlength": "10", "etcd.serializable_reads": "true"}
    assert p.ycsb_properties()["recordcount"] == "200"
    with pytest.raises(ParameterError) as info:
        P.run_params_from_cli(["novalue", "threadcount=-1", "what=1"], subject=subject)
    text = str(info.value)
    assert "expected key=value" in text and "threads: must be >= 1" in text and "what:" in text


def test_from_namespace_catches_injected_unknowns(subject: str) -> None:
    from papermill.translators import PythonTranslator

    own_cell = "# Parameters (papermill injects overrides after this cell)\nsubject = 'etcd'\n"
    ns = {**P.defaults("benchmark"), "subject": subject, "In": ["", own_cell], "status": "x"}
    # later cells' variables (status) are not parameters, and not reported: no injection happened
    assert P.from_namespace("benchmark", ns).subject == subject
    injected = PythonTranslator.codify({"threds": 4, "threads": 2}, comment="Parameters")
    ns.update(threds=4, threads=2)
    ns["In"] = [*ns["In"], injected, "params = from_namespace(...)"]
    assert P.injected_names(ns["In"]) == ["threds", "threads"]
    with pytest.raises(ParameterError, match="threds: unknown parameter"):
        P.from_namespace("benchmark", ns)
    del ns["threds"]
    ns["In"][-2] = PythonTranslator.codify({"threads": 2}, comment="Parameters")
    assert P.from_namespace("benchmark", ns).threads == 2


def test_other_parameter_sets(subject: str, tmp_path: Path) -> None:
    assert P.validate("verify", {"subject": subject}).project == ""
    (tmp_path / "r1").mkdir()
    (tmp_path / "r1" / "run.json").write_text("{}")
    got = problems(
        "compare", {"run_dirs": [str(tmp_path / "r1"), str(tmp_path / "nope")], "baseline": 5}
    )
    assert any("not a run directory" in p for p in got) and any("baseline" in p for p in got)
    assert problems("compare", {"run_dirs": str(tmp_path / "r1")})[0].startswith("run_dirs: need")
    e = P.validate("explore", {"subject": subject, "queries": "up,rate(x[1m])"})
    assert e.queries == ("up", "rate(x[1m])")
    assert any(
        "11,000" in p for p in problems("explore", {"subject": subject, "lookback": 1e6, "step": 1})
    )
    with pytest.raises(ValueError, match="unknown parameter set"):
        P.defaults("nope")


def test_run_ids_sort_by_time_and_are_unique() -> None:
    t = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    a = P.new_run_id("etcd", "a", t)
    b = P.new_run_id("etcd", "a", t + timedelta(milliseconds=1))
    assert a.startswith("20260102T030405.678Z-etcd-a-") and a < b
    assert len({P.new_run_id("etcd", "a", t) for _ in range(200)}) == 200
    assert P.RUN_ID_RE.fullmatch(P.new_run_id("/x/my subject", "w?"))


def test_unknown_names_get_a_close_match_hint(subject: str) -> None:
    got = problems("benchmark", {"subject": subject, "threds": 2, "zzz": 1})
    assert got[0].startswith("threds: unknown parameter (did you mean 'threads'?); valid: ")
    assert got[1].startswith("zzz: unknown parameter; valid: subject, workload")


def test_none_words_and_digit_groups_coerce(subject: str) -> None:
    p = P.validate_run(
        {"subject": subject, "operationcount": "1_000", "duration": "none", "keep_stack": "OFF"}
    )
    assert (p.operationcount, p.duration, p.keep_stack) == (1000, None, False)


def test_params_are_frozen_and_replace_validates_again(subject: str) -> None:
    p = P.validate_run({"subject": subject})
    with pytest.raises(ValueError, match="frozen"):
        p.threads = 2  # type: ignore[misc]
    q = P.replace(p, run_id="r1", threads="3")
    assert (q.run_id, q.threads, q.subject, p.run_id) == ("r1", 3, subject, "")
    with pytest.raises(ParameterError, match="threads: must be >= 1"):
        P.replace(p, threads=0)


def test_default_subject_and_workload_file_name_are_the_manifests() -> None:
    from workbench import manifest

    assert P.DEFAULT_SUBJECT is manifest.DEFAULT_SUBJECT
    assert P.defaults("benchmark")["subject"] == manifest.DEFAULT_SUBJECT
    assert P.workload_file_name("c") == "workloadc" == P.workload_file_name("workloadc")

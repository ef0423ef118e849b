"""YCSB property rules: one copy for parameter validation and the native generator (issue 11 item 4)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from workbench.errors import ParameterError, WorkloadError
from workbench.manifest import SUBJECTS_DIR
from workbench.params import run_params_from_cli
from workbench.params.ycsbprops import (
    alias_conflicts,
    operation_mix,
    parse_properties_text,
    property_problems,
)
from workbench.ycsb.native.workload import build_workload


@pytest.fixture()
def subject(tmp_path: Path) -> str:
    """A copy of the subjects; etcd's workload a is go-ycsb's (read .5 / update .5)."""
    shutil.copytree(SUBJECTS_DIR, tmp_path / "subjects")
    (tmp_path / "subjects" / "etcd" / "workloads" / "workloada").write_text(
        "recordcount=1000\noperationcount=1000\nworkload=core\nreadallfields=true\n"
        "readproportion=0.5\nupdateproportion=0.5\nrequestdistribution=uniform\n"
    )
    return str(tmp_path / "subjects" / "etcd")


def cli_problems(items: list[str], **flags: str) -> list[str]:
    with pytest.raises(ParameterError) as info:
        run_params_from_cli(items, **flags)
    return info.value.problems


def test_a_bad_count_and_a_bad_distribution_are_both_listed(subject: str) -> None:
    got = cli_problems(["recordcount=abc", "requestdistribution=foo"], subject=subject)
    assert len(got) == 2
    assert got[0].startswith("recordcount: expected an integer")
    assert "requestdistribution: unknown request distribution 'foo'" in got[1]
    assert "uniform" in got[1] and "zipfian" in got[1]


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("insertstart=-1", "insertstart: must not be negative, got -1"),
        ("readproportion=2", "readproportion: must be within [0, 1], got 2"),
        ("fieldcount=0", "fieldcount: must be >= 1, got 0"),
        ("fieldlength=1.5", "fieldlength: '1.5' is not an integer"),
        ("zeropadding=0", "zeropadding: must be >= 1"),
        ("insertorder=random", "unknown insert order 'random'; valid: hashed, ordered"),
        ("measurementtype=timeseries", "unknown measurement type"),
        ("outputstyle=xml", "unknown output style 'xml'"),
        ("readallfields=maybe", "readallfields: 'maybe' is not a boolean"),
        ("hotspotopnfraction=1.2", "hotspotopnfraction: must be within [0, 1]"),
        ("scanlengthdistribution=normal", "unknown scan length distribution"),
        ("fieldlengthdistribution=normal", "unknown field length distribution"),
        ("exponential.percentile=100", "exponential.percentile: must be within (0, 100)"),
    ],
)
def test_bad_property_values_are_refused_before_the_stack(
    subject: str, item: str, message: str
) -> None:
    got = cli_problems([item], subject=subject)
    assert any(message in p for p in got), got


def test_the_workload_file_takes_part_in_the_mix(subject: str) -> None:
    # workload a's mix is read .5 / update .5: zeroing both leaves nothing to choose
    got = cli_problems(["readproportion=0", "updateproportion=0"], subject=subject)
    assert got == [
        "readproportion..readmodifywriteproportion: operation proportions must sum to a "
        "positive number"
    ]
    # a load-only run has no operation mix to choose from
    run_params_from_cli(["readproportion=0", "updateproportion=0", "phases=load"], subject=subject)


def test_cross_property_rules() -> None:
    assert property_problems({"recordcount": "100", "insertstart": "90", "insertcount": "20"}) == [
        "insertcount: insertstart 90 + insertcount 20 is beyond recordcount 100"
    ]
    assert property_problems({"minscanlength": "10", "maxscanlength": "5"}) == [
        "minscanlength: 10 is above maxscanlength 5"
    ]
    assert property_problems({"dataintegrity": "true", "fieldlengthdistribution": "zipfian"}) == [
        "dataintegrity: true needs fieldlengthdistribution=constant"
    ]
    # a skipped name's own value is not judged (the typed parameter is), others still are
    assert property_problems({"threadcount": "0", "target": "-1"}, skip={"threadcount"}) == [
        "target: must not be negative, got -1"
    ]


def test_proportions_need_not_sum_to_one_the_generator_normalises() -> None:
    props = {"readproportion": "0.6", "updateproportion": "0.6", "recordcount": "10"}
    assert property_problems(props) == []
    assert operation_mix(props) == [(0.6, "READ"), (0.6, "UPDATE")]
    wl = build_workload({**props, "operationcount": "10"}, "run")
    assert [round(t, 6) for t, _ in wl.operation_chooser.thresholds] == [0.5, 1.0]


def test_the_generator_refuses_what_the_workbench_refuses() -> None:
    bad = {"recordcount": "10", "operationcount": "10", "readproportion": "2", "insertstart": "-1"}
    with pytest.raises(ParameterError) as info:
        build_workload(bad, "run")
    assert info.value.problems[:2] == property_problems(bad)
    assert len(info.value.problems) >= 2


def test_same_setting_under_two_names() -> None:
    assert alias_conflicts([("threads", "4"), ("threadcount", "8")]) == [
        "threads and threadcount: the same setting given twice (4 and 8); give one"
    ]
    assert alias_conflicts([("threads", "4"), ("threadcount", "4"), ("threads", "4")]) == []
    assert alias_conflicts([("threads", "4"), ("threads", "8")]) == []  # last one wins
    assert alias_conflicts([("duration", "5"), ("maxexecutiontime", "9")])


def test_properties_file_syntax() -> None:
    text = "# c\n! c\na=1\nb : 2\nc 3\nlong=x\\\n  y\n\nd"
    assert parse_properties_text(text) == {"a": "1", "b": "2", "c": "3", "long": "xy", "d": ""}


def test_a_directory_without_a_manifest_is_named_as_such(tmp_path: Path) -> None:
    got = cli_problems([], subject=str(tmp_path))
    assert got[0] == f"subject: {tmp_path} is not a subject directory (no manifest.toml)"
    assert any("unknown subject 'nosuch'" in p for p in cli_problems([], subject="nosuch"))


def test_workload_error_puts_the_reason_first_not_the_argv() -> None:
    tail = (
        " [+] Running 2/2\n ✔ Container wb-r1-etcd1-1  Running\n"
        " Container wb-r1-etcd2-1  Started\n\x1b[32m\x1b[0m\n"
        "unknown request distribution 'foo' (requestdistribution)\n\n"
    )
    argv = ["/usr/local/bin/docker", "compose", "-p", "wb-r1", "run", *["-p", "a=b"] * 50]
    text = str(WorkloadError(argv, 2, tail))
    first, *rest = text.splitlines()
    assert (
        first == "command failed (exit 2): unknown request distribution 'foo' (requestdistribution)"
    )
    assert rest[-1].startswith("  argv: /usr/local/bin/docker compose -p wb-r1 run")
    assert rest[-1].endswith("...") and len(rest[-1]) < 180
    assert not any("Container" in line or "[+]" in line for line in rest)
    assert str(WorkloadError(["ycsb", "run"], 1, "")) == "command failed (exit 1): ycsb run"

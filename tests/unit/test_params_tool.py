"""The run parameter `tool`: empty is the subject's default; else the subject must accept it."""

from __future__ import annotations

import pytest

from workbench.errors import ParameterError
from workbench.manifest import load_manifest
from workbench.params import defaults, validate_run
from workbench.run.workload import tool_name


def test_empty_tool_is_the_subjects_default() -> None:
    assert defaults("benchmark")["tool"] == ""
    params = validate_run({})
    assert tool_name(params, load_manifest("etcd")) == "native"


def test_go_ycsb_is_accepted_on_etcd() -> None:
    params = validate_run({"tool": "go-ycsb"})
    assert tool_name(params, load_manifest("etcd")) == "go-ycsb"


def test_an_unaccepted_tool_is_refused_with_the_valid_ones() -> None:
    with pytest.raises(
        ParameterError,
        match=r"tool: subject 'etcd' does not accept tool "
        r"'jmeter'; valid: native, go-ycsb",
    ):
        validate_run({"tool": "jmeter"})

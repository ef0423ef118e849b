"""Labels: validated where they come in (the CLI, a notebook, a campaign file), kept in run.json."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.campaign import spec
from workbench.cli import main
from workbench.errors import ParameterError
from workbench.params import validate_run

from .conftest import make_run


@pytest.mark.parametrize(
    ("labels", "why"),
    [
        (["Commit=x"], "label key 'Commit'"),
        (["commit"], "expected KEY=VALUE"),
        ({"commit": "a\nb"}, "printable"),
        ({"commit": "x" * 201}, "<= 200"),
        ({"k" * 65: "x"}, "1-64"),
    ],
)
def test_bad_labels_are_refused(labels: object, why: str) -> None:
    with pytest.raises(ParameterError, match=why):
        validate_run({"labels": labels})


def test_labels_from_a_notebook_string_and_a_campaign_file() -> None:
    assert validate_run({"labels": "commit=abc,branch=main"}).labels == {
        "commit": "abc",
        "branch": "main",
    }
    campaign = spec.validate(
        {
            "name": "t",
            "repeat": 1,
            "base": {"duration": 5, "labels": {"commit": "abc123", "branch": "main"}},
            "configs": [{"name": "t2", "threads": 2}, {"name": "t4", "threads": 4}],
        }
    )
    assert {c["labels"]["commit"] for c in campaign.configs.values()} == {"abc123"}


def test_an_unknown_where_field_is_an_error(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_run(results, 0)
    assert main(["history", "--results", str(results), "--where", "colour=red"]) == 3
    assert "no run has that field" in capsys.readouterr().err

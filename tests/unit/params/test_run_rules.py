"""The rules on run parameters that need a room above params (the fault schedule) are listed in
one place (params.rules.RUN_RULES) and run wherever parameters come in: a plain papermill run's
validation cell rejects a bad `--fault` without anything of the run layer imported first."""

from __future__ import annotations

import sys

import pytest

from workbench.errors import ParameterError
from workbench.faults import plan
from workbench.operator import plan as operator_plan
from workbench.params import from_namespace, validate_run
from workbench.params.rules import RUN_RULES, run_rules


@pytest.fixture
def no_run_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every `workbench.run` module unimportable (None in sys.modules) for the test."""
    for name in [n for n in sys.modules if n == "workbench.run" or n.startswith("workbench.run.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "workbench.run", None)
    with pytest.raises(ImportError):
        __import__("workbench.run.faulting")


@pytest.mark.usefixtures("no_run_layer")
def test_a_bad_fault_is_rejected_by_validation_alone() -> None:
    with pytest.raises(ParameterError) as err:
        validate_run({"faults": ["explode:etcd0@1+1", "kill:nobody@2+1"], "duration": 30})
    text = str(err.value)
    assert "explode" in text and "nobody" in text  # both problems, in the one error


@pytest.mark.usefixtures("no_run_layer")
def test_the_notebooks_validation_cell_rejects_it_too() -> None:
    """notebooks/benchmark.ipynb validates with from_namespace(kind, globals())."""
    cell_globals = {"subject": "etcd", "duration": 20.0, "faults": ("kill:leader@30+5",)}
    with pytest.raises(ParameterError, match="kill:leader"):
        from_namespace("benchmark", cell_globals)
    assert validate_run({"faults": ["kill:leader@5+2"], "duration": 20}).faults


def test_the_rules_are_the_listed_ones() -> None:
    assert RUN_RULES == (
        ("workbench.faults.plan", "schedule_problems"),
        ("workbench.operator.plan", "operator_problems"),
    )
    assert run_rules() == [plan.schedule_problems, operator_plan.operator_problems]


FRESH = """
import sys
from workbench.errors import ParameterError
from workbench.params import from_namespace
try:
    from_namespace("benchmark", {"subject": "etcd", "duration": 20.0, "faults": ("explode:etcd0@1",)})
except ParameterError as exc:
    print("refused:", exc)
print("run layer imported:", any(n.startswith("workbench.run") for n in sys.modules))
"""


@pytest.mark.local  # a fresh interpreter: nothing imported before the validation cell
def test_a_fresh_interpreter_validating_like_the_notebook_refuses_a_bad_fault() -> None:
    import subprocess  # only this test starts a process

    out = subprocess.run(
        [sys.executable, "-c", FRESH], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert "refused:" in out and "explode" in out
    assert "run layer imported: False" in out

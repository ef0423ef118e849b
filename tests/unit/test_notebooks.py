"""Notebooks: stored without outputs, a papermill `parameters` cell that matches params.py, and a
validation cell right after it; thin (every code cell is short and calls the library)."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

from workbench import params as P

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
KINDS = {"benchmark": "benchmark", "verify": "verify", "compare": "compare", "explore": "explore"}


def load(name: str) -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    return nb


def test_every_notebook_is_known() -> None:
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == sorted(KINDS)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_stored_without_outputs(name: str) -> None:
    nb = load(name)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]
        assert "injected-parameters" not in cell.metadata.get("tags", [])
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("name", sorted(KINDS))
def test_parameters_cell_matches_params_py(name: str) -> None:
    nb = load(name)
    code = [c for c in nb.cells if c.cell_type == "code"]
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and code[0] is tagged[0], "the first code cell is the parameters cell"
    ns: dict = {}
    exec(compile(tagged[0].source, f"{name}:parameters", "exec"), ns)  # plain literals only
    declared = {k: v for k, v in ns.items() if not k.startswith("__")}
    expected = {
        k: list(v) if isinstance(v, tuple) else v for k, v in P.defaults(KINDS[name]).items()
    }
    assert declared == expected
    # every assignment is a literal papermill can override
    for node in ast.parse(tagged[0].source).body:
        assert isinstance(node, ast.Assign)
        ast.literal_eval(node.value)
    # the next code cell validates them
    assert f'from_namespace("{KINDS[name]}", globals())' in code[1].source


@pytest.mark.parametrize("name", sorted(KINDS))
def test_notebooks_are_thin(name: str) -> None:
    nb = load(name)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert len(cell.source.splitlines()) <= 16, cell.source
            tree = ast.parse(cell.source)
            assert not any(isinstance(n, ast.ClassDef) for n in ast.walk(tree))


def test_benchmark_calls_every_stage_in_order_and_fails_last() -> None:
    src = "\n".join(c.source for c in load("benchmark").cells if c.cell_type == "code")
    stages = [
        "stack_up()",
        "pre_checks()",
        "load()",
        "run()",
        "post_checks()",
        "collect_metrics()",
        "build_timeline()",
        "finish()",
        "raise_for_checks()",
    ]
    positions = [src.index(f"bench.{s}") for s in stages]
    assert positions == sorted(positions)
    last = [c for c in load("benchmark").cells if c.cell_type == "code"][-1]
    assert last.source.strip().endswith("bench.raise_for_checks()")


def test_validation_cell_rejects_bad_injection() -> None:
    """Run the first two cells the way papermill would, with a bad value and an unknown name."""
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    nb = load_notebook_node(str(NOTEBOOKS / "benchmark.ipynb"))
    nb = parameterize_notebook(nb, {"threads": -3, "threds": 2})
    code = [c for c in nb.cells if c.cell_type == "code"]
    history: list[str] = []
    ns: dict = {"In": history}
    with pytest.raises(P.ParameterError) as info:
        for cell in code[:3]:  # parameters, injected-parameters, validation
            history.append(cell.source)
            exec(compile(cell.source, "cell", "exec"), ns)
    text = str(info.value)
    assert "threads: must be >= 1" in text and "threds: unknown parameter" in text

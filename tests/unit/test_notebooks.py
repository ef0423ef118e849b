"""Notebooks: stored without outputs, a papermill `parameters` cell that matches params.py (values,
type annotations `papermill --help-notebook` shows, docs), and a validation cell right after it;
thin (every code cell but the parameters is short and calls the library)."""

from __future__ import annotations

import ast
import logging
import types
import typing
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from papermill.cli import papermill
from papermill.inspection import inspect_notebook

from workbench import params as P

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
KINDS = {
    "benchmark": "benchmark",
    "verify": "verify",
    "compare": "compare",
    "explore": "explore",
    "campaign": "campaign",
    "history": "history",
    "findmax": "findmax",
}


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
    body = ast.parse(tagged[0].source).body
    names = [n.target.id for n in body if isinstance(n, ast.AnnAssign | ast.Assign) and _is_name(n)]
    declared = {k: ns[k] for k in names}
    expected = {
        k: list(v) if isinstance(v, tuple) else v for k, v in P.defaults(KINDS[name]).items()
    }
    assert declared == expected
    # every assignment is an annotated literal papermill can override; the only other statement
    # is the typing import its annotations need
    for node in body:
        if isinstance(node, ast.ImportFrom):
            assert node.module == "typing", ast.unparse(node)
            continue
        assert isinstance(node, ast.AnnAssign) and node.value is not None, ast.unparse(node)
        ast.literal_eval(node.value)
    # the next code cell validates them
    assert f'from_namespace("{KINDS[name]}", globals())' in code[1].source


@pytest.mark.parametrize("name", sorted(KINDS))
def test_notebooks_are_thin(name: str) -> None:
    nb = load(name)
    for cell in nb.cells:
        if cell.cell_type == "code":
            # the parameters cell is one declaration per parameter, as long as the parameter set
            params_cell = "parameters" in cell.metadata.get("tags", [])
            assert params_cell or len(cell.source.splitlines()) <= 16, cell.source
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


def _is_name(node: ast.AnnAssign | ast.Assign) -> bool:
    target = node.target if isinstance(node, ast.AnnAssign) else node.targets[0]
    return isinstance(target, ast.Name)


def _papermill_type(hint: typing.Any) -> str:
    """How a parameter's model type is written in the cell for papermill's parser."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        return _papermill_type(args[0])
    if origin in (typing.Union, types.UnionType):
        (inner,) = [a for a in args if a is not type(None)]
        return f"Optional[{_papermill_type(inner)}]"
    if origin is tuple:  # the notebook holds a list; papermill injects lists
        return f"list[{_papermill_type(args[0])}]"
    if origin is dict:
        return f"dict[{', '.join(_papermill_type(a) for a in args)}]"
    return str(hint.__name__)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_help_notebook_lists_every_parameter_with_its_type(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    """What `papermill --help-notebook` shows: every parameter, its type, default and doc."""
    path = str(NOTEBOOKS / f"{name}.ipynb")
    with caplog.at_level(logging.WARNING, logger="papermill"):
        shown = inspect_notebook(path)
    assert not [r.getMessage() for r in caplog.records if "Unable to parse" in r.getMessage()]
    fields = P.KINDS[KINDS[name]].model_fields
    assert list(shown) == list(fields)
    defaults, docs = P.defaults(KINDS[name]), P.docs(KINDS[name])
    for param, info in shown.items():
        assert info["inferred_type_name"] == _papermill_type(fields[param].annotation), param
        default = defaults[param]
        assert ast.literal_eval(info["default"]) == (
            list(default) if isinstance(default, tuple) else default
        ), param
        assert info["help"] == docs[param]
    result = CliRunner().invoke(papermill, ["--help-notebook", path])  # the CLI, in process
    assert result.exit_code == 0, result.output
    assert "Unknown type" not in result.output
    for param in fields:
        assert f"  {param}: {_papermill_type(fields[param].annotation)} (default " in result.output

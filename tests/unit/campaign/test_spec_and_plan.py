"""The campaign file's validation (every problem in one error) and the planned order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from workbench.campaign import spec
from workbench.campaign.plan import plan
from workbench.errors import ParameterError

EXAMPLE = """
name = "threads"
subject = "etcd"
workload = "a"
repeat = 5
order = "interleaved"
seed = 1
stack = "per-run"
[base]
duration = 10
recordcount = 1000
[[configs]]
name = "t2"
threads = 2
[[configs]]
name = "t8"
threads = 8
[compare]
baseline = "t2"
metrics = ["throughput", "p99_ms"]
alpha = 0.05
min_effect = 0.05
"""


def problems(raw: dict[str, Any], **kw: Any) -> list[str]:
    with pytest.raises(ParameterError) as exc:
        spec.validate(raw, **kw)
    return exc.value.problems


def test_the_issue_example_validates_with_the_real_run_parameters(tmp_path: Path) -> None:
    path = tmp_path / "threads.toml"
    path.write_text(EXAMPLE)
    c = spec.load(path)
    assert list(c.configs) == ["t2", "t8"] and c.baseline == "t2"
    assert c.configs["t8"]["threads"] == 8 and c.configs["t2"]["duration"] == 10.0
    assert c.configs["t2"]["recordcount"] == 1000 and c.file.repeat == 5


def test_every_problem_in_one_error() -> None:
    raw = {
        "name": "x",
        "repeat": 0,
        "colour": "blue",
        "order": "sideways",
        "configs": [{"name": "a", "threads": 1}, {"name": "a"}],
        "matrix": {"threads": [1, 2]},
        "compare": {"baseline": "nope", "metrics": ["throughput", "speed"], "alpha": 2},
    }
    found = problems(raw, validate_params=dict)
    text = "\n".join(found)
    assert "colour: unknown key" in text
    assert "repeat: Input should be greater than or equal to 1" in text
    assert "order: " in text and "compare.alpha" in text
    assert "configs and matrix: give one of them, not both" in text
    assert "compare.baseline: 'nope' is not a configuration" in text
    assert "unknown metric 'speed'" in text


def test_named_config_problems() -> None:
    raw = {"name": "x", "configs": [{"name": "a"}, {"name": "a"}, {"threads": 3}]}
    text = "\n".join(problems(raw, validate_params=dict))
    assert "configs.1.name: 'a' appears twice" in text and "configs.2.name:" in text
    assert problems({"name": "x"}, validate_params=dict) == [
        "configs: give [[configs]] or [matrix]"
    ]
    reserved = {
        "name": "x",
        "base": {"run_id": "r"},
        "configs": [{"name": "a", "results_dir": "/"}],
    }
    text = "\n".join(problems(reserved, validate_params=dict))
    assert "base.run_id: set by the campaign" in text and "configs.a.results_dir" in text


def test_run_parameters_are_checked_per_configuration() -> None:
    raw = {
        "name": "x",
        "base": {"duration": -1},
        "configs": [{"name": "ok", "threads": 2}, {"name": "bad", "threads": 0}],
    }
    found = problems(raw)  # the default validator: workbench.params
    assert any(p.startswith("every configuration: duration: must be > 0") for p in found)
    assert any(p.startswith("configs.bad: threads: must be >= 1") for p in found)
    assert not any(p.startswith("configs.ok:") for p in found)


def test_injected_validator_gets_the_merged_parameters() -> None:
    seen = []

    def check(values: dict[str, Any]) -> dict[str, Any]:
        seen.append(values)
        return {**values, "checked": True}

    c = spec.validate(
        {"name": "m", "base": {"duration": 5}, "matrix": {"threads": [1, 4], "target": [0, 100]}},
        check,
    )
    assert list(c.configs) == [
        "threads-1_target-0",
        "threads-1_target-100",
        "threads-4_target-0",
        "threads-4_target-100",
    ]
    assert seen[1] == {
        "subject": "etcd",
        "workload": "a",
        "duration": 5,
        "threads": 1,
        "target": 100,
    }
    assert c.baseline == "threads-1_target-0" and c.configs["threads-4_target-0"]["checked"]


def test_toml_syntax_error_is_a_parameter_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("name = \n")
    with pytest.raises(ParameterError, match=r"bad\.toml"):
        spec.load(path)


def order_of(runs: list[Any]) -> list[tuple[str, int]]:
    return [(r.config, r.repetition) for r in runs]


def test_planned_orders() -> None:
    assert order_of(plan(["A", "B"], 2, "interleaved")) == [("A", 0), ("B", 0), ("A", 1), ("B", 1)]
    assert order_of(plan(["A", "B"], 2, "blocked")) == [("A", 0), ("A", 1), ("B", 0), ("B", 1)]
    rnd = plan(["A", "B", "C"], 4, "random", seed=7)
    assert rnd == plan(["A", "B", "C"], 4, "random", seed=7)  # seeded
    assert order_of(rnd) != order_of(plan(["A", "B", "C"], 4, "random", seed=8))
    assert sorted(order_of(rnd)) == sorted(order_of(plan(["A", "B", "C"], 4, "blocked")))
    for c in "ABC":  # each configuration's repetitions numbered in execution order
        assert [r.repetition for r in rnd if r.config == c] == [0, 1, 2, 3]
    assert [r.index for r in rnd] == list(range(12))
    with pytest.raises(ValueError, match="unknown order"):
        plan(["A"], 1, "zigzag")


def test_run_ids() -> None:
    p = plan(["t2", "t8"], 2, "interleaved")[3]
    assert p.run_id("C") == "C-003-t8-r1" and p.run_id("C", attempt=2) == "C-003-t8-r1-a2"


def test_per_campaign_stack_is_accepted_but_not_with_faults() -> None:
    raw = {"name": "x", "stack": "per-campaign", "configs": [{"name": "a"}, {"name": "b"}]}
    assert spec.validate(raw, validate_params=dict).file.stack == "per-campaign"
    faulted = {**raw, "configs": [{"name": "a"}, {"name": "b", "faults": ["pause:leader@1+1"]}]}
    assert problems(faulted, validate_params=dict) == [spec.PER_CAMPAIGN_FAULTS]
    # per-run fault campaigns stay valid
    assert spec.validate({**faulted, "stack": "per-run"}, validate_params=dict)


def test_resamples_of_older_files_still_validate() -> None:
    # the bootstrap it sized is gone (order-statistic intervals); older files and records keep it
    raw = {"name": "x", "configs": [{"name": "a"}]}
    assert spec.validate({**raw, "compare": {"resamples": 999}}, validate_params=dict)
    assert spec.validate(raw, validate_params=dict).file.compare.resamples == 9999
    assert any(p.startswith("compare.resamples") for p in problems(
        {**raw, "compare": {"resamples": 5}}, validate_params=dict
    ))  # fmt: skip


def test_a_bad_shape_does_not_hide_bad_run_parameters() -> None:
    raw = {"name": "x", "repeat": 0, "configs": [{"name": "a", "threads": 0}, {"name": "b"}]}
    found = problems(raw)  # the default validator: workbench.params
    assert any(p.startswith("repeat: ") for p in found)
    assert "configs.a: threads: must be >= 1, got 0" in found
    # configurations that cannot be read at all: only the shape is reported
    found = problems({"name": "x", "repeat": 0, "configs": [{"threads": 0}]})
    assert any(p.startswith("repeat: ") for p in found) and not any("threads" in p for p in found)

"""The operator under test on a real etcd stack, through the conductor, each run bounded in time:
the reference operator recovers a persistent follower kill and a persistent leader pause; with no
operator the killed member stays down (censored, operator_recovered fails); a deliberately
harmful operator (built here from the workbench image) that stops a healthy member fails
integrity and counts as an action with no fault. Nothing is left behind: the operator's
container goes with its run.

Needs the workbench image with this checkout's reference operator (`workbench setup --subject
etcd`).
"""

from __future__ import annotations

import subprocess
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.artifacts import OperatorDoc, RunDir
from workbench.docker import cli as docker
from workbench.manifest import Manifest
from workbench.params import validate_run
from workbench.run.benchmark import Benchmark
from workbench.stack import Stack

pytestmark = pytest.mark.integration
SERVICES = ["etcd0", "etcd1", "etcd2"]
HARMFUL = "workbench/test-harmful-operator:local"


@pytest.fixture(scope="module")
def stack(etcd_manifest: Manifest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with Stack(etcd_manifest, run_dir=tmp_path_factory.mktemp("operator-stack")) as st:
        yield st


def _run(stack: Stack, results: Path, **values: object) -> tuple[Benchmark, OperatorDoc]:
    params = validate_run(
        {
            "subject": "etcd",
            "recordcount": 300,
            "threads": 4,
            "target": 200,
            "duration": 35,
            "results_dir": str(results),
            **values,
        }
    )
    bench = Benchmark(params, project=stack.project, progress=lambda m: None)
    t0 = time.monotonic()
    bench.execute()
    assert time.monotonic() - t0 < 240, "an operator run is bounded in time"
    doc = RunDir(bench.run_dir).operator()
    assert isinstance(doc, OperatorDoc)
    return bench, doc


def _verdicts(bench: Benchmark) -> dict[str, str]:
    return {v.name: v.status for v in bench.verdicts}


def _all_healthy(stack: Stack, timeout: float = 60) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(stack.services_health().get(s) == "healthy" for s in SERVICES):
            return True
        time.sleep(0.5)
    return False


def _no_operator_left(stack: Stack) -> None:
    left = docker.container_names(docker.compose_labels(stack.project, "operator"))
    assert left == [], f"the operator's container outlived its run: {left}"


def test_the_reference_operator_recovers_a_persistent_follower_kill(
    stack: Stack, tmp_path: Path
) -> None:
    bench, doc = _run(
        stack, tmp_path, operator="reference", operator_docker=True, faults=["kill:follower@8"]
    )
    got = _verdicts(bench)
    assert got["operator_detected"] == "pass" and got["operator_recovered"] == "pass", got
    assert got["operator_integrity"] == "pass" and got["operator_false_alarms"] == "pass", got
    assert doc.scores is not None
    (f,) = doc.scores.faults
    assert f.persistent and f.recovered and f.recovery_s is not None
    assert f.detect_s is not None and f.detect_s < 10 and f.detect_named_target
    assert f.first_action is not None and f.first_action.startswith("start ")
    assert any(c.attributed == "operator" and c.action == "start" for c in doc.container_events)
    assert doc.readback is not None and doc.readback.found == doc.readback.loaded == 300
    assert doc.exit is not None and doc.exit.running_at_end
    assert (bench.run_dir / "logs" / "operator.log").read_text().strip()
    _no_operator_left(stack)
    assert _all_healthy(stack)


def test_the_reference_operator_unpauses_a_persistent_leader_pause(
    stack: Stack, tmp_path: Path
) -> None:
    bench, doc = _run(
        stack, tmp_path, operator="reference", operator_docker=True, faults=["pause:leader@8"]
    )
    got = _verdicts(bench)
    assert got["operator_recovered"] == "pass", (got, doc.scores)
    assert doc.scores is not None and doc.scores.faults[0].first_action is not None
    assert doc.scores.faults[0].first_action.startswith("unpause ")
    _no_operator_left(stack)
    assert _all_healthy(stack)


def test_with_no_operator_the_member_stays_down_and_recovery_fails(
    stack: Stack, tmp_path: Path
) -> None:
    bench, doc = _run(stack, tmp_path, faults=["kill:follower@8"])
    got = _verdicts(bench)
    assert got["operator_recovered"] == "fail", got
    assert got["operator_detected"] == "skipped" and got["operator_integrity"] == "pass"
    assert doc.scores is not None
    (f,) = doc.scores.faults
    assert f.censored and not f.recovered and f.censored_at_s is not None
    assert f.first_action is None  # nobody acted
    frame = RunDir(bench.run_dir).membership()
    assert frame is not None
    end = frame[frame["t"] == frame["t"].max()]
    assert not bool(end[end["member"] == f.target]["healthy"].iloc[0])  # down at the end
    assert _all_healthy(stack)  # the workbench undid its fault in `finally`


HARMFUL_SCRIPT = textwrap.dedent(
    """
    # A harmful operator: 6 s after it starts it stops a HEALTHY member (etcd2) and says nothing.
    import json, os, time, httpx
    time.sleep(6)
    project = os.environ["WB_PROJECT"]
    t = httpx.HTTPTransport(uds="/var/run/docker.sock")
    with httpx.Client(transport=t, base_url="http://docker") as c:
        flt = json.dumps({"label": [f"com.docker.compose.project={project}",
                                    "com.docker.compose.service=etcd2"]})
        (victim,) = c.get("/containers/json", params={"filters": flt}).json()
        print("stopping", victim["Id"][:12], flush=True)
        c.post(f"/containers/{victim['Id']}/stop", params={"t": "0"})
    time.sleep(3600)
    """
)


@pytest.fixture
def harmful_image(tmp_path: Path) -> Iterator[str]:
    ctx = tmp_path / "harmful"
    ctx.mkdir()
    (ctx / "harm.py").write_text(HARMFUL_SCRIPT)
    (ctx / "Dockerfile").write_text(
        "FROM workbench/workbench:local\nCOPY harm.py /harm.py\n"
        'ENTRYPOINT ["/opt/workbench/bin/python3", "/harm.py"]\n'
    )
    subprocess.run(docker.build(HARMFUL, ctx), check=True, timeout=300)
    yield HARMFUL
    subprocess.run(["docker", "rmi", "-f", HARMFUL], check=False, timeout=60)


def test_a_harmful_operator_that_stops_a_healthy_member_fails_integrity(
    etcd_manifest: Manifest, harmful_image: str, tmp_path: Path
) -> None:
    with Stack(etcd_manifest, run_dir=tmp_path / "stack") as own:  # it breaks its stack
        bench, doc = _run(
            own, tmp_path / "results", operator=harmful_image, operator_docker=True, duration=20
        )
        got = _verdicts(bench)
        assert got["operator_integrity"] == "fail", got
        assert got["operator_false_alarms"] == "fail", got  # an action with no fault
        assert doc.scores is not None
        assert doc.scores.integrity.down_end == ["etcd2"]
        assert any(c.service == "etcd2" for c in doc.scores.actions_without_fault)
        _no_operator_left(own)

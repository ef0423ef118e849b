"""workbench.docker against the real engine: a throwaway container (from the base image the
workbench builds on, present locally) paused, unpaused and killed through the CLI builders, seen
through the Engine API and recorded by the event recorder; removed in `finally`."""

from __future__ import annotations

import itertools
import secrets

import pytest

from workbench import proc
from workbench.docker import cli
from workbench.docker.engine import Engine
from workbench.docker.recorder import EventRecorder

pytestmark = pytest.mark.integration
IMAGE = "debian:bookworm-slim"


def test_a_containers_life_through_the_adapter(docker_engine: None) -> None:
    project = f"wb-evrec-{secrets.token_hex(3)}"
    name = f"{project}-sleeper-1"
    labels = cli.compose_labels(project, "sleeper", oneoff=False)
    label_args = [a for k, v in labels.items() for a in ("--label", f"{k}={v}")]
    with EventRecorder(project) as rec:
        try:
            proc.run(
                ["docker", "run", "-d", "--name", name, *label_args, IMAGE, "sleep", "120"],
                timeout=60,
            )
            with Engine.connect() as engine:
                assert engine.version()["ApiVersion"]
                (found,) = engine.containers(labels)
                assert found["Names"] == [f"/{name}"]
                assert engine.inspect(found["Id"])["State"]["Pid"] > 0
            for argv in (cli.pause(name), cli.unpause(name), cli.kill(name, "KILL")):
                proc.run(argv, timeout=30)
            assert cli.container_ids(labels) == [found["Id"][:12]]
        finally:
            proc.run(cli.rm(name, volumes=True), check=False, timeout=60)
    events = rec.stop()
    assert rec.error is None
    assert [e.action for e in events] == [
        "create", "start", "pause", "unpause", "kill", "die", "destroy",
    ]  # fmt: skip
    kill, die = events[4], events[5]
    assert (kill.signal, die.exit_code) == (9, 137)
    assert {(e.project, e.service, e.name) for e in events} == {(project, "sleeper", name)}
    assert all(a.time_ns < b.time_ns for a, b in itertools.pairwise(events))
    assert cli.container_ids(labels) == []

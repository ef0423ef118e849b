"""The operator under test as a run parameter: `none`, `reference` (the workbench's own, in its
image) or a local image. `operator_problems` is a params rule (workbench.params.rules.RUN_RULES):
every way in (the CLI, a notebook's validation cell, a campaign file) refuses a missing image or a
missing Docker socket before anything starts.
"""

from __future__ import annotations

from pathlib import Path

from workbench.docker import cli as docker
from workbench.docker.engine import DOCKER_SOCKET, engine_answers
from workbench.errors import WorkbenchError
from workbench.manifest import load_manifest
from workbench.params import RunParams

REFERENCE = "reference"
REFERENCE_IMAGE = "workbench/workbench:local"
REFERENCE_ENTRYPOINT = ("workbench", ["operator", "reference"])  # entrypoint, its arguments


def operator_problems(params: RunParams) -> list[str]:
    """The params rule (workbench.params.rules.RUN_RULES): the subject runs an operator, the
    image is on this engine, the socket is there when asked. When the engine does not answer
    yet (a fresh machine before setup) the image is checked again before the stack starts."""
    if params.operator == "none":
        return []
    out = []
    try:
        manifest = load_manifest(params.subject)
    except WorkbenchError:
        return []  # the subject's own rule says what is wrong with it
    if not manifest.operator:
        out.append(f"operator: subject {manifest.name} has no operator service")
    if params.operator_docker and not Path(DOCKER_SOCKET).exists():
        out.append(
            f"operator_docker: no Docker socket at {DOCKER_SOCKET} to mount into the operator "
            "(start the engine: `workbench setup`)"
        )
    if params.operator != REFERENCE and engine_answers():
        out.extend(image_problems(params.operator))
    return out


def image_problems(image: str) -> list[str]:
    if docker.image_label(image, "org.workbench.inputs") is not None:
        return []
    return [
        f"operator: image {image!r} is not on this Docker engine (runs never pull it): "
        f"build it (`docker build -t {image} DIR`) or load it (`docker load -i FILE`)"
    ]

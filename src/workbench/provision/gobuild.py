"""Go programs built on the host from the Go module proxy, then copied into an offline image.

A `GoProgram` names a module at a pinned version (a tag or a full commit) and the binaries to
build from it. `ensure_binaries` downloads the module with `go mod download -json` (Go's module
cache), copies its source to a writable folder and runs `go build` there (Go's build cache reused),
once per pinned version into CACHE_DIR/go/<name>-<version12>/. `ensure_go_image` then builds an
image FROM the offline base image with those binaries copied in, labelled with the module version
and an inputs hash (rebuilt when the version, the Dockerfile or the base image changes).
`doctor_entries` looks only. Running the programs (go-ycsb as a YCSB tool, PD as a subject) lives
elsewhere (ycsb/, subjects/pd/).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from workbench import proc
from workbench.docker import cli as docker
from workbench.errors import CommandError, PrerequisiteError
from workbench.provision.engine import STATE_DIR, Prereq, Progress, engine_ok, quiet
from workbench.provision.images import BASE_IMAGE, CACHE_DIR, INPUTS_LABEL, image_label

MODULE_LABEL = "org.workbench.go.module"
VERSION_LABEL = "org.workbench.go.version"
STAMP = "build.json"
DOWNLOAD_TIMEOUT_S = 1800
BUILD_TIMEOUT_S = 2400


@dataclass(frozen=True)
class GoProgram:
    """One Go module at a pinned version and the binaries built from it."""

    name: str  # short name: cache folder prefix, `setup --tool <name>`
    module: str  # module path, e.g. github.com/pingcap/go-ycsb
    version: str  # what the proxy is asked for: a tag or a full 40-hex commit
    binaries: tuple[tuple[str, str], ...]  # (output name, package path inside the module)
    image: str  # the image tag built from the binaries
    tags: tuple[str, ...] = ()  # go build -tags
    apt_packages: tuple[str, ...] = ()  # Debian packages the image needs beside the binaries
    entrypoint: str = ""  # binary the image runs; default: the first one
    commit: str = ""  # the commit the version stands for, when known (label only)

    @property
    def version12(self) -> str:
        v = self.version
        return v[:12] if re.fullmatch(r"[0-9a-f]{40}", v) else v

    @property
    def key(self) -> str:
        """Cache folder name: a new pinned version is a new folder (so a rebuild)."""
        return f"{self.name}-{self.version12}"

    def spec(self) -> dict[str, object]:
        """Everything the binaries are built from (stamped beside them)."""
        return {
            "module": self.module,
            "version": self.version,
            "binaries": [list(b) for b in self.binaries],
            "tags": list(self.tags),
        }


GO_YCSB = GoProgram(
    name="go-ycsb",
    module="github.com/pingcap/go-ycsb",
    # The TiKV subject pins commit 55b4d0fdad85618aa774675b41975e0f7db1e193, which the module
    # proxy refuses (403 "This module version is not available", as it does for @master); it
    # serves the tag v1.0.3 (2025-12-31), the newest release, built here instead.
    version="v1.0.3",
    binaries=(("go-ycsb", "./cmd/go-ycsb"),),
    image="workbench/go-ycsb:v1.0.3",
)

PD = GoProgram(
    name="pd",
    module="github.com/tikv/pd",
    # v8.5.5. PD's go.mod says `module github.com/tikv/pd` (no /v8), so a v8 tag is no valid
    # module version: the commit is asked for. The proxy refuses the whole module path (its version
    # list, @v8.5.5 and this commit all answer 403), so on this machine the build fails plainly.
    version="9c9a8c8a25684b3516e11bc92922df99302c9c46",
    binaries=(("pd-server", "./cmd/pd-server"), ("pd-ctl", "./tools/pd-ctl")),
    tags=("without_dashboard",),
    image="workbench/pd:v8.5.5",
    # busybox: the TiKV subject's PD healthcheck (`/bin/busybox wget -q -O /dev/null URL`).
    apt_packages=("busybox",),
    commit="9c9a8c8a25684b3516e11bc92922df99302c9c46",
)

PROGRAMS: dict[str, GoProgram] = {p.name: p for p in (GO_YCSB, PD)}


# --- the binaries --------------------------------------------------------------------------


def go_binary() -> str | None:
    return shutil.which("go")


def cache_dir(program: GoProgram, root: Path | None = None) -> Path:
    return (root or CACHE_DIR / "go") / program.key


def download_argv(program: GoProgram) -> list[str]:
    return ["go", "mod", "download", "-json", f"{program.module}@{program.version}"]


def build_argv(program: GoProgram, package: str, out: Path) -> list[str]:
    argv = ["go", "build", "-trimpath", "-buildvcs=false", "-mod=mod"]
    if program.tags:
        argv += ["-tags", ",".join(program.tags)]
    return [*argv, "-o", str(out), package]


def build_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """Static binaries (they run on the base image, not the host), GOFLAGS taken over here."""
    env = dict(os.environ if base is None else base)
    env.pop("GOFLAGS", None)  # -mod=mod and -buildvcs=false are in the argv
    env["CGO_ENABLED"] = "0"
    return env


def binaries_ok(program: GoProgram, root: Path | None = None) -> bool:
    """The cache folder holds every binary, stamped with this program's exact spec."""
    d = cache_dir(program, root)
    try:
        stamp = json.loads((d / STAMP).read_text())
    except (OSError, ValueError):
        return False
    return stamp.get("spec") == program.spec() and all(
        (d / name).is_file() for name, _ in program.binaries
    )


def module_dir(program: GoProgram, env: dict[str, str], root: Path | None = None) -> Path:
    """The module's source in Go's module cache (downloaded once); a refusal says which module."""
    r = proc.run(download_argv(program), timeout=DOWNLOAD_TIMEOUT_S, env=env, check=False)
    try:
        info = json.loads(r.stdout)
    except ValueError:
        info = {"Error": proc.tail(r.stdout + r.stderr)}
    if info.get("Error") or r.returncode != 0 or not info.get("Dir"):
        reason = str(info.get("Error") or proc.tail(r.stdout + r.stderr))
        refused = refusal_path(program, root)
        refused.parent.mkdir(parents=True, exist_ok=True)
        refused.write_text(reason + "\n")  # doctor shows it without asking the proxy again
        raise PrerequisiteError(
            f"the Go module proxy did not give {program.module}@{program.version}: {reason}"
        )
    refusal_path(program, root).unlink(missing_ok=True)
    return Path(info["Dir"])


def refusal_path(program: GoProgram, root: Path | None = None) -> Path:
    """Where the last refusal of the module download is kept (absent once it was served)."""
    return (root or CACHE_DIR / "go") / f"{program.key}.refused"


def _writable_copy(src: Path, dest: Path) -> None:
    """Module cache files are read-only; `go build -mod=mod` may need to write go.sum."""
    shutil.copytree(src, dest, symlinks=True)
    for p in [dest, *dest.rglob("*")]:
        if not p.is_symlink():
            p.chmod(p.stat().st_mode | stat.S_IWUSR)


def ensure_binaries(
    program: GoProgram, progress: Progress = quiet, root: Path | None = None
) -> Path:
    """Build the program's binaries once per pinned version; the folder holding them."""
    d = cache_dir(program, root)
    if binaries_ok(program, root):
        return d
    if go_binary() is None:
        raise PrerequisiteError(no_go_fix(program))
    env = build_env()
    t0 = time.monotonic()
    progress(f"go mod download {program.module}@{program.version}")
    src = module_dir(program, env, root)
    d.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"wb-go-{program.name}-", dir=d.parent) as tmp:
        work, out = Path(tmp) / "src", Path(tmp) / "out"
        _writable_copy(src, work)
        out.mkdir()
        log_path = STATE_DIR / "builds" / f"go-{program.key}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text("")
        for name, package in program.binaries:
            progress(f"go build {name} ({program.key}; log: {log_path})")
            proc.stream(
                build_argv(program, package, out / name), log_path=log_path, env=env, cwd=work
            )
        stamp = {
            "spec": program.spec(),
            "go": proc.run(["go", "version"], env=env).stdout.strip(),
            "build_s": round(time.monotonic() - t0, 1),
            "sha256": {n: _sha256(out / n) for n, _ in program.binaries},
        }
        (out / STAMP).write_text(json.dumps(stamp, indent=2) + "\n")
        if d.exists():
            shutil.rmtree(d)
        out.rename(d)
    progress(f"built {program.key} in {stamp['build_s']} s")
    return d


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --- the image -----------------------------------------------------------------------------


def dockerfile(program: GoProgram) -> str:
    """The image: the offline base image, the binaries copied in, nothing fetched but apt."""
    lines = [
        f"# {program.module}@{program.version}, built on the host by workbench.provision.gobuild",
        f"FROM {BASE_IMAGE}",
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ]
    if program.apt_packages:
        lines.append(
            "RUN printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d"
            " && chmod +x /usr/sbin/policy-rc.d && apt-get update"
            " && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "
            + " ".join(program.apt_packages)
            + " && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb"
        )
    for name, _ in program.binaries:
        lines.append(f"COPY {name} /usr/local/bin/{name}")
    entry = program.entrypoint or program.binaries[0][0]
    lines.append(f'ENTRYPOINT ["/usr/local/bin/{entry}"]')
    return "\n".join(lines) + "\n"


def image_inputs(program: GoProgram, base_id: str) -> str:
    """Hash of what the image is made of; the binaries follow from the spec."""
    h = hashlib.sha256()
    h.update(base_id.strip().encode())
    h.update(json.dumps(program.spec(), sort_keys=True).encode())
    h.update(dockerfile(program).encode())
    return h.hexdigest()[:16]


def _base_id() -> str:
    return docker.image_id(BASE_IMAGE)


def image_build_argv(program: GoProgram, inputs: str, context: Path) -> list[str]:
    labels = {
        INPUTS_LABEL: inputs,
        MODULE_LABEL: program.module,
        VERSION_LABEL: program.version,
    }
    if program.commit:
        labels["org.workbench.go.commit"] = program.commit
    return docker.build(program.image, context, labels=labels)


def image_state(program: GoProgram) -> str:
    """'ok', 'missing' or 'stale' (built from another version, Dockerfile or base image)."""
    label = image_label(program.image)
    if label is None:
        return "missing"
    return "ok" if label == image_inputs(program, _base_id()) else "stale"


def ensure_go_image(program: GoProgram, progress: Progress = quiet) -> str:
    """Build the binaries (if needed) and the image (if missing or stale); the image tag."""
    inputs = image_inputs(program, _base_id())
    if image_label(program.image) == inputs:
        return program.image
    binaries = ensure_binaries(program, progress)
    log_path = STATE_DIR / "builds" / f"image-{program.key}.log"
    log_path.write_text("")
    with tempfile.TemporaryDirectory(prefix="wb-goimg-") as tmp:
        ctx = Path(tmp)
        (ctx / "Dockerfile").write_text(dockerfile(program))
        for name, _ in program.binaries:
            shutil.copy2(binaries / name, ctx / name)
        progress(f"building image {program.image} (log: {log_path})")
        env = {**os.environ, "DOCKER_BUILDKIT": "0"}
        try:
            proc.stream(image_build_argv(program, inputs, ctx), log_path=log_path, env=env)
        except CommandError as exc:
            raise PrerequisiteError(f"building {program.image} failed: {exc}") from exc
    return program.image


# --- doctor --------------------------------------------------------------------------------


def no_go_fix(program: GoProgram) -> str:
    return (
        f"no Go toolchain: `go` is not on PATH, so {program.name} cannot be built here. Install Go "
        f">= 1.25.5 and make the Go module proxy reachable, then `{setup_command(program)}`"
    )


def setup_command(program: GoProgram) -> str:
    return (
        f"workbench setup --tool {program.name}"
        if program is GO_YCSB
        else f"workbench setup --subject {program.name}"
    )


def doctor_entries(program: GoProgram, engine: bool | None = None) -> list[Prereq]:
    """The program's binaries and image: ok / missing / stale, each with the exact fix.

    The binaries are needed only to build the image: with the image ok they are not required.
    """
    have_go = go_binary() is not None
    fix = setup_command(program) if have_go else no_go_fix(program)
    refused = refusal_path(program)
    if have_go and refused.is_file():
        fix = (
            f"the Go module proxy refused {program.module}@{program.version} at the last "
            f"`{setup_command(program)}` ({refused.read_text().strip().splitlines()[-1].strip()}): point "
            f"GOPROXY at a proxy that serves it, then `{setup_command(program)}`"
        )
    built = binaries_ok(program)
    engine = engine_ok() if engine is None else engine
    state = image_state(program) if engine else "unknown (no Docker engine)"
    binary_ok = built or state == "ok"
    detail = (
        f"built in {cache_dir(program)}"
        if built
        else "not built (not needed: the image is there)"
        if binary_ok
        else "not built"
    )
    out = [Prereq(f"go build {program.key}", binary_ok, detail, "" if binary_ok else fix)]
    if engine:
        img_ok = state == "ok"
        img_fix = setup_command(program) if built else fix  # cached binaries need no Go
        out.append(Prereq(f"image {program.image}", img_ok, state, "" if img_ok else img_fix))
    return out

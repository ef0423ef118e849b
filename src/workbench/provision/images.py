"""Images: the offline base image (pulled, or debootstrapped from this machine's Debian mirror and
imported) and each subject's images, rebuilt only when their inputs change (a hash label).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path

from workbench import proc
from workbench.docker import cli as docker
from workbench.errors import CommandError, PrerequisiteError
from workbench.manifest import ImageSpec, Manifest
from workbench.provision.engine import STATE_DIR, Progress, apt_install, is_debian_root, quiet

BASE_IMAGE = "debian:bookworm-slim"
PROJECT_ROOT = Path(__file__).resolve().parents[3]
CACHE_DIR = Path(os.environ.get("WORKBENCH_CACHE_DIR", Path.home() / ".cache/workbench"))
INPUTS_LABEL = "org.workbench.inputs"
# What the slim workbench image needs at run time (probe, native YCSB generator, operator).
IMAGE_REQUIREMENTS = ("httpx", "hdrhistogram", "pandas", "pydantic")


def image_label(tag: str, label: str = INPUTS_LABEL) -> str | None:
    """The image's label value ('' when unlabelled), or None when the image does not exist."""
    return docker.image_label(tag, label)


def image_exists(tag: str) -> bool:
    return image_label(tag) is not None


def apt_mirror(sources_root: Path = Path("/etc/apt")) -> str | None:
    """The Debian mirror this machine's apt uses (read from its sources, never hard-coded)."""
    files = sorted((sources_root / "sources.list.d").glob("*.sources"))
    for f in files:
        for block in f.read_text().split("\n\n"):
            uris = re.search(r"^URIs:\s*(\S+)", block, re.M)
            suites = re.search(r"^Suites:\s*(.+)$", block, re.M)
            if (
                uris
                and suites
                and "security" not in uris.group(1)
                and "bookworm" in suites.group(1).split()
            ):
                return uris.group(1)
    lists = [
        sources_root / "sources.list",
        *sorted((sources_root / "sources.list.d").glob("*.list")),
    ]
    for f in lists:
        if not f.is_file():
            continue
        for line in f.read_text().splitlines():
            m = re.match(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s", line)
            if m and "security" not in m.group(1):
                return m.group(1)
    return None


def ensure_base_image(progress: Progress = quiet) -> None:
    if image_exists(BASE_IMAGE):
        return
    progress(f"pulling {BASE_IMAGE}")
    if proc.ok(docker.pull(BASE_IMAGE), timeout=120) and image_exists(BASE_IMAGE):
        return
    progress("no registry answers: building the base image with debootstrap")
    if not is_debian_root():
        raise PrerequisiteError(
            f"image {BASE_IMAGE} is missing and no registry answers; on a Debian machine as root "
            "`workbench setup` builds it with debootstrap, elsewhere `docker pull` it where a registry is reachable"
        )
    if shutil.which("debootstrap") is None:
        apt_install(["debootstrap"], progress)
    mirror = apt_mirror()
    if mirror is None:
        raise PrerequisiteError(
            "cannot find a bookworm Debian mirror in /etc/apt sources for debootstrap"
        )
    with tempfile.TemporaryDirectory(prefix="wb-rootfs-") as tmp:
        root = Path(tmp) / "rootfs"
        proc.run(["debootstrap", "--variant=minbase", "bookworm", str(root), mirror], timeout=900)
        for pattern in ("var/cache/apt/archives/*.deb", "var/lib/apt/lists/*"):
            for p in root.glob(pattern):
                if p.is_file():
                    p.unlink()
        progress(f"importing {BASE_IMAGE}")
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        import_argv = docker.import_image(BASE_IMAGE, changes=['CMD ["bash"]'])
        imp = subprocess.run(
            import_argv,
            stdin=tar.stdout,
            capture_output=True,
            text=True,
            check=False,
        )
        assert tar.stdout is not None
        tar.stdout.close()
        tar.wait()
        if imp.returncode != 0 or tar.returncode != 0:
            raise CommandError(import_argv, imp.returncode, imp.stderr)


def _hash_files(h: hashlib._Hash, paths: Iterable[Path], root: Path) -> None:
    for p in sorted(paths):
        if p.is_file() and "__pycache__" not in p.parts:
            h.update(str(p.relative_to(root)).encode())
            h.update(p.read_bytes())


def image_inputs_hash(manifest: Manifest, spec: ImageSpec) -> str:
    """Hash of everything an image is built from: rebuild when (and only when) it changes."""
    h = hashlib.sha256()
    context = (manifest.directory / spec.context).resolve()
    h.update(docker.image_id(BASE_IMAGE).encode())
    dockerfile = context / spec.dockerfile
    _hash_files(h, [dockerfile, *_copied_files(dockerfile, context)], context)
    if spec.wheelhouse:
        _hash_files(h, (PROJECT_ROOT / "src").rglob("*.py"), PROJECT_ROOT)
        _hash_files(h, [PROJECT_ROOT / "pyproject.toml"], PROJECT_ROOT)
        h.update(_image_requirements().encode())
    return h.hexdigest()[:16]


def _copied_files(dockerfile: Path, context: Path) -> list[Path]:
    """Files a Dockerfile COPYs/ADDs from its context (so editing them triggers a rebuild)."""
    out: list[Path] = []
    for m in re.finditer(r"^(?:COPY|ADD)\s+(?!--from)(.+)$", dockerfile.read_text(), re.M):
        for src in m.group(1).split()[:-1]:
            if src.startswith("--"):
                continue
            p = context / src
            out += [f for f in p.rglob("*") if f.is_file()] if p.is_dir() else [p]
    return out


def _image_requirements() -> str:
    lines = []
    for name in IMAGE_REQUIREMENTS:
        try:
            lines.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            lines.append(name)
    return "\n".join(lines) + "\n"


def build_wheelhouse(dest: Path, progress: Progress = quiet) -> None:
    """The project's wheel plus its slim run-time dependencies, built on the host (cached)."""
    cache = CACHE_DIR / "wheelhouse"
    cache.mkdir(parents=True, exist_ok=True)
    reqs = _image_requirements()
    stamp = cache / "requirements.txt"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    if not stamp.is_file() or stamp.read_text() != reqs:
        progress("building the wheelhouse of run-time dependencies")
        req_file = cache / "requirements.in"
        req_file.write_text(reqs)
        proc.run([*pip, "wheel", "-q", "-w", str(cache), "-r", str(req_file)], timeout=900)
        stamp.write_text(reqs)
    dest.mkdir(parents=True, exist_ok=True)
    for whl in cache.glob("*.whl"):
        shutil.copy2(whl, dest / whl.name)
    shutil.copy2(stamp, dest / "requirements.txt")
    progress("building the workbench wheel")
    proc.run([*pip, "wheel", "-q", "--no-deps", "-w", str(dest), str(PROJECT_ROOT)], timeout=600)


def build_image(
    manifest: Manifest, spec: ImageSpec, inputs: str, progress: Progress = quiet
) -> None:
    context = (manifest.directory / spec.context).resolve()
    log_dir = STATE_DIR / "builds"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / (re.sub(r"[^A-Za-z0-9_.-]", "_", spec.tag) + ".log")
    log_path.write_text("")
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}  # legacy builder: works with Debian's engine

    def show(line: str) -> None:
        if line.startswith("Step "):
            progress(f"  {spec.tag}: {line[:100]}")

    with tempfile.TemporaryDirectory(prefix="wb-build-") as tmp:
        if spec.wheelhouse:
            ctx = Path(tmp)
            shutil.copy2(context / spec.dockerfile, ctx / "Dockerfile")
            build_wheelhouse(ctx / "wheelhouse", progress)
            dockerfile = ctx / "Dockerfile"
        else:
            ctx, dockerfile = context, context / spec.dockerfile
        argv = docker.build(spec.tag, ctx, dockerfile=dockerfile, labels={INPUTS_LABEL: inputs})
        progress(f"building image {spec.tag} (log: {log_path})")
        proc.stream(argv, log_path=log_path, on_line=show, env=env)


def image_status(manifest: Manifest, spec: ImageSpec) -> tuple[str, str]:
    """('ok'|'missing'|'stale', inputs hash) for one locally built image."""
    inputs = image_inputs_hash(manifest, spec)
    label = image_label(spec.tag)
    if label is None:
        return "missing", inputs
    return ("ok" if label == inputs else "stale"), inputs


def ensure_subject_images(manifest: Manifest, progress: Progress = quiet) -> None:
    """Pull the registry images first (so a machine without a registry learns that plainly,
    before any build), then build the subject's own images that are missing or stale."""
    unpulled = []
    for img in manifest.pulled_images:
        if image_exists(img):
            continue
        progress(f"pulling {img}")
        if not proc.ok(docker.pull(img), timeout=600):
            unpulled.append(img)
    if unpulled:
        raise PrerequisiteError(
            f"subject {manifest.name}: {len(unpulled)} image(s) missing and no registry answers "
            f"from this machine: {', '.join(unpulled)}. Run where the engine can pull them, or "
            "`docker load` saved copies; `workbench doctor --subject "
            f"{manifest.name}` lists every missing image."
        )

    with ThreadPoolExecutor(max(1, len(manifest.images))) as pool:  # looking is docker CLI calls
        states = list(pool.map(lambda spec: image_status(manifest, spec), manifest.images))
    for spec, (state, inputs) in zip(manifest.images, states, strict=True):
        if state != "ok":
            build_image(manifest, spec, inputs, progress)


def unbuildable(manifest: Manifest) -> dict[str, str]:
    """Images whose build needs a registry or module downloads (declared by the manifest)."""
    return {
        spec.tag: f"needs a registry to build ({spec.dockerfile} pulls its base images and Go modules)"
        for spec in manifest.images
        if not builds_offline(manifest, spec)
    }


def builds_offline(manifest: Manifest, spec: ImageSpec) -> bool:
    text = (manifest.directory / spec.context / spec.dockerfile).read_text()
    bases = re.findall(r"^FROM\s+(\S+)", text, re.M)
    return all(b == BASE_IMAGE or b.lower() in {"scratch"} for b in bases)

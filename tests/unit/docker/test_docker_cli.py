"""workbench.docker.cli: the argv each builder makes (what the engine's CLI is asked, word by word)."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

from workbench.docker import cli
from workbench.errors import CommandError


def test_container_commands() -> None:
    assert cli.kill("wb-x-etcd0-1", "INT") == ["docker", "kill", "--signal", "INT", "wb-x-etcd0-1"]
    assert cli.kill("c") == ["docker", "kill", "--signal", "KILL", "c"]
    assert cli.stop("c", 10) == ["docker", "stop", "--time", "10", "c"]
    assert cli.restart("c", 1) == ["docker", "restart", "--time", "1", "c"]
    assert [cli.start("c"), cli.pause("c"), cli.unpause("c")] == [
        ["docker", "start", "c"],
        ["docker", "pause", "c"],
        ["docker", "unpause", "c"],
    ]
    assert cli.rm("a") == ["docker", "rm", "--force", "a"]
    assert cli.rm("a", "b", volumes=True) == ["docker", "rm", "--force", "--volumes", "a", "b"]
    with pytest.raises(ValueError, match="at least one"):
        cli.rm()


def test_ps_by_compose_labels() -> None:
    labels = cli.compose_labels("wb-x", "etcd1", oneoff=False)
    assert labels == {
        "com.docker.compose.project": "wb-x",
        "com.docker.compose.service": "etcd1",
        "com.docker.compose.oneoff": "False",
    }
    assert cli.ps(labels=labels, fmt="{{.Names}}") == [
        "docker", "ps", "-a",
        "--filter", "label=com.docker.compose.project=wb-x",
        "--filter", "label=com.docker.compose.service=etcd1",
        "--filter", "label=com.docker.compose.oneoff=False",
        "--format", "{{.Names}}",
    ]  # fmt: skip
    assert cli.ps(labels=cli.compose_labels("p"), quiet=True) == [
        "docker", "ps", "-a", "-q", "--filter", "label=com.docker.compose.project=p",
    ]  # fmt: skip
    assert cli.ps(all=False) == ["docker", "ps"]
    assert cli.compose_labels("p", oneoff=True)["com.docker.compose.oneoff"] == "True"
    assert cli.label_format("a.b") == '{{.Label "a.b"}}'


def test_inspect_and_the_network_namespace() -> None:
    assert cli.inspect_state("c") == ["docker", "inspect", "--format", "{{json .State}}", "c"]
    assert cli.nsenter(4242, ["tc", "qdisc", "show"]) == [
        "nsenter", "-t", "4242", "-n", "tc", "qdisc", "show",
    ]  # fmt: skip
    assert cli.parse_state('{"Running": true, "Pid": 7}') == {"Running": True, "Pid": 7}
    with pytest.raises(ValueError, match="not an object"):
        cli.parse_state("[1]")


def test_image_commands(tmp_path: Path) -> None:
    assert cli.image_inspect("debian:bookworm-slim") == [
        "docker", "image", "inspect", "--format", "{{.Id}}", "debian:bookworm-slim",
    ]  # fmt: skip
    assert cli.build("wb/x:1", tmp_path, dockerfile=tmp_path / "D", labels={"a": "1", "b": "2"}) == [
        "docker", "build", "--label", "a=1", "--label", "b=2", "-t", "wb/x:1",
        "-f", str(tmp_path / "D"), str(tmp_path),
    ]  # fmt: skip
    assert cli.build("t", "ctx") == ["docker", "build", "-t", "t", "ctx"]
    assert cli.import_image("debian:bookworm-slim", changes=['CMD ["bash"]']) == [
        "docker", "import", "--change", 'CMD ["bash"]', "-", "debian:bookworm-slim",
    ]  # fmt: skip
    assert cli.pull("img:1") == ["docker", "pull", "img:1"]


def test_engine_and_compose_versions() -> None:
    assert cli.version() == ["docker", "version", "--format", "{{.Server.Version}}"]
    assert cli.info() == ["docker", "info", "--format", "{{.ServerVersion}}"]
    assert cli.compose_version() == ["docker", "compose", "version"]
    assert cli.compose_version(short=True) == ["docker", "compose", "version", "--short"]


def test_a_probe_that_cannot_run_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pure tier refuses to start a process: the probe helpers turn that refusal (like a
    missing binary) into None / '' / False instead of raising."""

    def refuse(argv: list[str], **kw: object) -> object:
        raise CommandError(argv, None, "executable not found: docker")

    monkeypatch.setattr(cli.proc, "run", refuse)
    monkeypatch.setattr(cli.proc, "ok", lambda argv, timeout=20: False)
    assert cli.server_version() is None and cli.compose_version_short() is None
    assert cli.image_id("x") == "" and cli.image_label("x", "l") is None
    assert cli.container_ids({"a": "b"}) == [] and not cli.engine_answers()


def test_the_helpers_read_what_the_cli_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    printed = {
        "{{.Id}}": "sha256:abc\n",
        '{{ index .Config.Labels "org.workbench.inputs" }}': "<no value>\n",
        "{{.Server.Version}}": "20.10.24+dfsg1\n",
    }
    seen: list[list[str]] = []

    def run(argv: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
        seen.append(list(argv))
        if argv[:2] == ["docker", "ps"]:
            return subprocess.CompletedProcess(argv, 0, "a1\nb2\n", "")
        fmt = argv[argv.index("--format") + 1]
        return subprocess.CompletedProcess(argv, 0, printed[fmt], "")

    monkeypatch.setattr(cli.proc, "run", run)
    assert cli.image_id("debian:bookworm-slim") == "sha256:abc"
    assert cli.image_label("t", "org.workbench.inputs") == ""  # unlabelled, but it exists
    assert cli.server_version() == "20.10.24+dfsg1"
    assert cli.container_ids(cli.compose_labels("wb-x")) == ["a1", "b2"]
    assert seen[-1] == cli.ps(labels=cli.compose_labels("wb-x"), quiet=True)


SRC = Path(cli.__file__).parents[1]


def test_no_docker_argv_or_engine_call_outside_the_adapter() -> None:
    """Every `docker ...` argv list and every Engine API call is built in workbench.docker."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if "docker" in path.relative_to(SRC).parts[:1]:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            where = f"{path.relative_to(SRC)}:{getattr(node, 'lineno', '?')}"
            if (
                isinstance(node, ast.List)
                and node.elts
                and isinstance(node.elts[0], ast.Constant)
                and node.elts[0].value == "docker"
            ):
                found.append(f"{where}: a docker argv")
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and ("/containers/" in text or text == "/events"):
                found.append(f"{where}: an Engine API path")
            if isinstance(node, ast.keyword) and node.arg == "uds":
                found.append(f"{where}: a client on the engine's socket")
    assert found == []

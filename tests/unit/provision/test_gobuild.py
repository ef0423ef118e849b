"""gobuild: cache key, the go/docker argv built, the stamp that decides a rebuild, doctor texts."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from workbench.provision import gobuild
from workbench.provision.gobuild import GO_YCSB, PD, GoProgram


def test_cache_key_is_name_and_short_commit_or_tag() -> None:
    assert PD.key == "pd-9c9a8c8a2568"
    assert GO_YCSB.key == "go-ycsb-v1.0.3"
    other = replace(PD, version="0123456789abcdef0123456789abcdef01234567")
    assert other.key == "pd-0123456789ab"
    assert gobuild.cache_dir(PD, Path("/c")) == Path("/c/pd-9c9a8c8a2568")


def test_download_and_build_argv() -> None:
    assert gobuild.download_argv(GO_YCSB) == [
        "go",
        "mod",
        "download",
        "-json",
        "github.com/pingcap/go-ycsb@v1.0.3",
    ]
    argv = gobuild.build_argv(PD, "./cmd/pd-server", Path("/o/pd-server"))
    assert argv == [
        "go",
        "build",
        "-trimpath",
        "-buildvcs=false",
        "-mod=mod",
        "-tags",
        "without_dashboard",
        "-o",
        "/o/pd-server",
        "./cmd/pd-server",
    ]
    assert "-tags" not in gobuild.build_argv(GO_YCSB, "./cmd/go-ycsb", Path("/o/x"))


def test_build_env_is_static_and_drops_goflags() -> None:
    env = gobuild.build_env({"GOFLAGS": "-mod=vendor", "PATH": "/bin", "GOPROXY": "p"})
    assert env == {"PATH": "/bin", "GOPROXY": "p", "CGO_ENABLED": "0"}


def _stamp(program: GoProgram, root: Path, spec: dict[str, object] | None = None) -> None:
    d = gobuild.cache_dir(program, root)
    d.mkdir(parents=True)
    for name, _ in program.binaries:
        (d / name).write_bytes(b"\x7fELF")
    (d / gobuild.STAMP).write_text(json.dumps({"spec": spec or program.spec()}))


def test_binaries_ok_only_for_the_same_spec(tmp_path: Path) -> None:
    assert not gobuild.binaries_ok(PD, tmp_path)
    _stamp(PD, tmp_path)
    assert gobuild.binaries_ok(PD, tmp_path)
    assert not gobuild.binaries_ok(replace(PD, tags=()), tmp_path)  # same folder, other spec
    (gobuild.cache_dir(PD, tmp_path) / "pd-ctl").unlink()
    assert not gobuild.binaries_ok(PD, tmp_path)


def test_dockerfile_copies_binaries_onto_the_base_image() -> None:
    text = gobuild.dockerfile(PD)
    assert "FROM debian:bookworm-slim" in text
    assert "COPY pd-server /usr/local/bin/pd-server" in text
    assert "COPY pd-ctl /usr/local/bin/pd-ctl" in text
    assert "busybox" in text and "policy-rc.d" in text
    assert text.rstrip().endswith('ENTRYPOINT ["/usr/local/bin/pd-server"]')
    assert "apt-get" not in gobuild.dockerfile(GO_YCSB)


def test_image_inputs_change_with_version_and_base() -> None:
    a = gobuild.image_inputs(GO_YCSB, "sha256:base")
    assert a == gobuild.image_inputs(GO_YCSB, "sha256:base")
    assert a != gobuild.image_inputs(GO_YCSB, "sha256:other")
    assert a != gobuild.image_inputs(replace(GO_YCSB, version="v1.0.1"), "sha256:base")


def test_image_build_argv_labels_the_commit() -> None:
    argv = gobuild.image_build_argv(PD, "abc", Path("/ctx"))
    assert argv[:2] == ["docker", "build"]
    assert argv[-3:] == ["-t", "workbench/pd:v8.5.5", "/ctx"]
    labels = [argv[i + 1] for i, a in enumerate(argv) if a == "--label"]
    assert "org.workbench.inputs=abc" in labels
    assert "org.workbench.go.module=github.com/tikv/pd" in labels
    assert f"org.workbench.go.commit={PD.commit}" in labels


@pytest.fixture
def no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(gobuild, "CACHE_DIR", tmp_path)
    return tmp_path


def test_doctor_without_go_says_so(no_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gobuild, "go_binary", lambda: None)
    monkeypatch.setattr(gobuild, "image_state", lambda p: "missing")
    binary, image = gobuild.doctor_entries(PD, engine=True)
    assert not binary.ok and not image.ok
    assert binary.fix.startswith("no Go toolchain: `go` is not on PATH")
    assert "workbench setup --subject pd" in binary.fix
    assert image.detail == "missing"


def test_doctor_with_go_gives_the_setup_command(
    no_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gobuild, "go_binary", lambda: "/usr/local/go/bin/go")
    monkeypatch.setattr(gobuild, "image_state", lambda p: "stale")
    binary, image = gobuild.doctor_entries(GO_YCSB, engine=True)
    assert (binary.ok, binary.fix) == (False, "workbench setup --tool go-ycsb")
    assert (image.ok, image.detail, image.fix) == (False, "stale", "workbench setup --tool go-ycsb")


def test_doctor_image_ok_needs_no_binary_and_no_go(
    no_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gobuild, "go_binary", lambda: None)
    monkeypatch.setattr(gobuild, "image_state", lambda p: "ok")
    binary, image = gobuild.doctor_entries(GO_YCSB, engine=True)
    assert binary.ok and "not needed" in binary.detail and binary.fix == ""
    assert image.ok and image.fix == ""


def test_doctor_cached_binary_without_go_can_still_build_the_image(
    no_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stamp(GO_YCSB, no_cache / "go")
    monkeypatch.setattr(gobuild, "go_binary", lambda: None)
    monkeypatch.setattr(gobuild, "image_state", lambda p: "missing")
    binary, image = gobuild.doctor_entries(GO_YCSB, engine=True)
    assert binary.ok and binary.detail.startswith("built in ")
    assert image.fix == "workbench setup --tool go-ycsb"


def test_doctor_without_engine_lists_only_the_binary(
    no_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gobuild, "go_binary", lambda: "/go")
    assert [p.name for p in gobuild.doctor_entries(PD, engine=False)] == [
        "go build pd-9c9a8c8a2568"
    ]


def test_ensure_binaries_without_go_raises_the_doctor_text(
    no_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gobuild, "go_binary", lambda: None)
    with pytest.raises(gobuild.PrerequisiteError, match="no Go toolchain"):
        gobuild.ensure_binaries(PD)


def test_doctor_names_a_recorded_proxy_refusal(
    no_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = gobuild.refusal_path(PD)
    refused.parent.mkdir(parents=True)
    refused.write_text("reading .../@v/x.info: 403 Forbidden\n\tserver response: not available.\n")
    monkeypatch.setattr(gobuild, "go_binary", lambda: "/go")
    monkeypatch.setattr(gobuild, "image_state", lambda p: "missing")
    binary, image = gobuild.doctor_entries(PD, engine=True)
    assert binary.fix.startswith(f"the Go module proxy refused github.com/tikv/pd@{PD.version}")
    assert "(server response: not available.)" in binary.fix
    assert binary.fix.endswith("then `workbench setup --subject pd`")
    assert image.fix == binary.fix

"""`[ycsb.<tool>]` tables: a tool's own service, binding and properties over the [ycsb] defaults."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from workbench.errors import ManifestError
from workbench.manifest import SUBJECTS_DIR, load_manifest


def _subject(tmp_path: Path, ycsb_tail: str) -> Path:
    d = tmp_path / "subj"
    shutil.copytree(SUBJECTS_DIR / "etcd", d)
    shutil.copytree(SUBJECTS_DIR / "common", tmp_path / "common")
    text = (d / "manifest.toml").read_text()
    start, end = text.index("[ycsb]"), text.index("[[queries]]")
    head = '[ycsb]\ntool = "native"\nservice = "ycsb"\nbinding = "etcd"\n'
    head += 'properties = { "etcd.endpoints" = "${cluster}" }\n'
    (d / "manifest.toml").write_text(text[:start] + head + ycsb_tail + "\n" + text[end:])
    return d


def test_the_shipped_etcd_subject_accepts_go_ycsb_with_its_own_service() -> None:
    y = load_manifest("etcd").ycsb_spec()
    assert y.tools == ("native", "go-ycsb")
    go = y.for_tool("go-ycsb")
    assert (go.service, go.binding) == ("go-ycsb", "etcd")
    assert go.properties == {"etcd.endpoints": "${cluster}"}
    native = y.for_tool("native")
    assert (native.service, native.binding) == ("ycsb", "etcd")


def test_a_tool_table_overrides_only_what_it_names(tmp_path: Path) -> None:
    tail = 'tools = ["native", "go-ycsb"]\n[ycsb.go-ycsb]\nservice = "gy"\n'
    y = load_manifest(_subject(tmp_path, tail)).ycsb_spec()
    go = y.for_tool("go-ycsb")
    assert (go.service, go.binding) == ("gy", "etcd")
    assert go.properties == {"etcd.endpoints": "${cluster}"}


def test_a_table_of_a_tool_not_accepted_is_refused(tmp_path: Path) -> None:
    tail = '[ycsb.go-ycsb]\nservice = "gy"\n'  # tools default to ("native",)
    with pytest.raises(ManifestError, match=r"\[ycsb.go-ycsb\]: not among tools \['native'\]"):
        load_manifest(_subject(tmp_path, tail))


def test_a_tool_table_refuses_unknown_keys_and_nested_values(tmp_path: Path) -> None:
    tail = 'tools = ["native", "go-ycsb"]\n[ycsb.go-ycsb]\nservise = "gy"\n'
    with pytest.raises(ManifestError, match="servise"):
        load_manifest(_subject(tmp_path, tail))
    tail = 'tools = ["native", "go-ycsb"]\n[ycsb.go-ycsb]\nproperties = { a = [1] }\n'
    with pytest.raises(ManifestError, match="expected a string or number"):
        load_manifest(_subject(tmp_path / "2", tail))

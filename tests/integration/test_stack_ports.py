"""A host port taken between choosing it and `compose up` publishing it: the stack starts again on
fresh ports, and without a retry left the error names the address, not a health timeout."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from workbench.errors import PortConflictError
from workbench.manifest import Manifest
from workbench.stack import Stack, running_projects


def _hold(port: int) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", port))
    s.listen()
    return s


def test_a_port_taken_meanwhile_means_fresh_ports(etcd_manifest: Manifest, tmp_path: Path) -> None:
    st = Stack(etcd_manifest, run_dir=tmp_path)
    chosen = st.ports["WB_PROMETHEUS_PORT"]
    thief = _hold(chosen)
    try:
        with st:
            assert st.ports["WB_PROMETHEUS_PORT"] != chosen
            r = httpx.get(st.endpoint("prometheus") + "/-/ready", timeout=5)
            assert r.status_code == 200
    finally:
        thief.close()
    assert st.project not in running_projects("wb-")


def test_without_a_retry_the_error_names_the_taken_address(
    etcd_manifest: Manifest, tmp_path: Path
) -> None:
    st = Stack(etcd_manifest, run_dir=tmp_path)
    st.port_retries = 0
    port = st.ports["WB_ETCD1_PORT"]
    thief = _hold(port)
    try:
        with pytest.raises(PortConflictError) as exc, st:
            pass
    finally:
        thief.close()
    assert f"127.0.0.1:{port}" in str(exc.value) and "not healthy after" not in str(exc.value)
    assert exc.value.after_s < 60
    assert st.project not in running_projects("wb-")

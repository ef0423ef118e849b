"""go-ycsb built for real from the Go module proxy, imaged, and run (Docker and `go` required).

In the unit folder beside the pure gobuild tests, but marked `integration`: it runs `go` and
Docker. Cold (empty module and build caches) it takes ~4 min on 2 cores; warm ~7 s; a no-op well
under a second.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from workbench.provision import gobuild
from workbench.ycsb import parser

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def go_ycsb_image(docker_engine: None) -> str:
    if gobuild.go_binary() is None:
        pytest.skip(gobuild.no_go_fix(gobuild.GO_YCSB))
    return gobuild.ensure_go_image(gobuild.GO_YCSB, print)


def test_binary_is_stamped_and_a_second_setup_is_a_no_op(go_ycsb_image: str) -> None:
    d = gobuild.cache_dir(gobuild.GO_YCSB)
    stamp = json.loads((d / gobuild.STAMP).read_text())
    assert stamp["spec"] == gobuild.GO_YCSB.spec()
    assert len(stamp["sha256"]["go-ycsb"]) == 64
    t0 = time.monotonic()
    assert gobuild.ensure_go_image(gobuild.GO_YCSB) == go_ycsb_image
    assert time.monotonic() - t0 < 5
    assert [p.ok for p in gobuild.doctor_entries(gobuild.GO_YCSB)] == [True, True]


def test_image_is_labelled_and_runs_the_basic_binding(go_ycsb_image: str) -> None:
    fmt = "{{json .Config.Labels}}"
    labels = json.loads(
        subprocess.run(
            ["docker", "image", "inspect", "--format", fmt, go_ycsb_image],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert labels[gobuild.VERSION_LABEL] == gobuild.GO_YCSB.version
    assert labels[gobuild.MODULE_LABEL] == "github.com/pingcap/go-ycsb"
    r = subprocess.run(
        ["docker", "run", "--rm", go_ycsb_image, "load", "basic", "-p", "recordcount=500"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    result = parser.parse(r.stdout)
    assert result.complete
    total = {s.operation: s for s in result.final}["TOTAL"]
    assert total.count == 500

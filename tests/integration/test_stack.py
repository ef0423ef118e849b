"""The etcd stack for real: healthy, one leader, targets up, side by side, broken, interrupted."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from workbench.errors import UnhealthyStackError
from workbench.manifest import SUBJECTS_DIR, Manifest, load_manifest
from workbench.stack import Stack, running_projects


def _members_status(st: Stack) -> list[dict[str, object]]:
    out = []
    with httpx.Client(timeout=5) as http:
        for url in st.endpoint("cluster").split(","):
            r = http.post(url + "/v3/maintenance/status", json={})
            r.raise_for_status()
            out.append(r.json())
    return out


def test_stack_is_healthy_with_one_leader_and_targets_up(etcd_stack: Stack) -> None:
    st = etcd_stack
    health = st.services_health()
    assert {s: health[s] for s in st.manifest.healthy_services} == dict.fromkeys(
        st.manifest.healthy_services, "healthy"
    )
    statuses = _members_status(st)
    assert len(statuses) == 3
    leaders = {int(s["leader"]) for s in statuses}  # type: ignore[call-overload]
    members = {int(s["header"]["member_id"]) for s in statuses}  # type: ignore[index]
    assert len(leaders) == 1 and leaders <= members and len(members) == 3
    r = httpx.get(
        st.endpoint("prometheus") + "/api/v1/targets", params={"state": "active"}, timeout=5
    )
    targets = r.json()["data"]["activeTargets"]
    assert sorted(t["labels"]["instance"] for t in targets) == [
        "etcd0:2379",
        "etcd1:2379",
        "etcd2:2379",
    ]
    assert {t["health"] for t in targets} == {"up"}
    assert st.timings.healthy_s is not None and st.timings.healthy_s < 60


def test_ports_are_loopback_only(etcd_stack: Stack) -> None:
    r = subprocess.run(
        [*etcd_stack.compose_argv(), "ps", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    text = r.stdout
    rows = (
        json.loads(text)
        if text.lstrip().startswith("[")
        else [json.loads(x) for x in text.splitlines() if x]
    )
    published = [p for row in rows for p in row.get("Publishers") or [] if p.get("PublishedPort")]
    assert published, rows
    assert {p["URL"] for p in published} == {"127.0.0.1"}


def test_probe_and_one_off_run_inside_network(etcd_stack: Stack) -> None:
    r = etcd_stack.run("probe", [], timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    payload = json.loads(r.stdout.strip().splitlines()[-1])
    assert len(payload["targets"]) == 4 and all(t["ok"] for t in payload["targets"].values())
    r2 = subprocess.run(
        [*etcd_stack.exec_argv("etcd1"), "etcdctl", "member", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r2.returncode == 0 and r2.stdout.count("started") == 3, r2.stdout + r2.stderr
    # A write through one member is visible through another (a real Raft cluster).
    key = base64.b64encode(b"wb-test-key").decode()
    val = base64.b64encode(b"v1").decode()
    urls = etcd_stack.endpoint("cluster").split(",")
    httpx.post(
        urls[0] + "/v3/kv/put", json={"key": key, "value": val}, timeout=5
    ).raise_for_status()
    got = httpx.post(urls[2] + "/v3/kv/range", json={"key": key}, timeout=5).json()
    assert base64.b64decode(got["kvs"][0]["value"]) == b"v1"


def test_two_stacks_side_by_side(etcd_manifest: Manifest, tmp_path: Path) -> None:
    a = Stack(etcd_manifest, run_dir=tmp_path / "a")
    b = Stack(etcd_manifest, run_dir=tmp_path / "b")
    with a, b:
        assert a.project != b.project
        assert not set(a.ports.values()) & set(b.ports.values())
        for st in (a, b):
            assert httpx.get(st.endpoint("prometheus") + "/-/ready", timeout=5).status_code == 200
        running = running_projects()
        assert a.project in running and b.project in running
    assert a.project not in running_projects() and b.project not in running_projects()
    for st in (a, b):
        logs = {p.name for p in (st.run_dir / "logs").glob("*.log")}  # type: ignore[operator]
        assert {"etcd0.log", "etcd1.log", "etcd2.log", "prometheus.log"} <= logs
        assert (st.run_dir / "logs" / "etcd0.log").stat().st_size > 0  # type: ignore[operator]
        assert st.timings.down_s is not None


def _broken_subject(tmp_path: Path) -> Path:
    """The etcd subject with etcd2's healthcheck made to fail forever."""
    d = tmp_path / "broken"
    shutil.copytree(SUBJECTS_DIR / "etcd", d)
    shutil.copytree(SUBJECTS_DIR / "common", tmp_path / "common")
    compose = (d / "compose.yaml").read_text()
    marker = "  etcd2:\n    <<: *etcd\n"
    assert marker in compose
    compose = compose.replace(
        marker,
        marker + '    healthcheck:\n      test: ["CMD-SHELL", "echo broken-on-purpose; exit 1"]\n'
        "      interval: 1s\n      retries: 2\n",
    )
    (d / "compose.yaml").write_text(compose)
    manifest = (
        (d / "manifest.toml").read_text().replace("health_timeout_s = 90", "health_timeout_s = 20")
    )
    (d / "manifest.toml").write_text(manifest)
    return d


def test_broken_subject_names_service_captures_logs_leaves_nothing(
    etcd_manifest: Manifest, tmp_path: Path
) -> None:
    m = load_manifest(_broken_subject(tmp_path))
    st = Stack(m, run_dir=tmp_path / "run")
    t0 = time.monotonic()
    with pytest.raises(UnhealthyStackError) as info, st:
        pytest.fail("a broken stack must not come up")
    assert time.monotonic() - t0 < 60
    assert "etcd2" in info.value.unhealthy
    assert "etcd2" in str(info.value)
    assert (tmp_path / "run" / "logs" / "etcd2.log").is_file()
    assert st.project not in running_projects()


_INTERRUPT_SCRIPT = """
import sys, pathlib
from workbench.manifest import load_manifest
from workbench.stack import Stack
m = load_manifest(sys.argv[1])
st = Stack(m, run_dir=pathlib.Path(sys.argv[2]), project=sys.argv[3], health_timeout_s=120)
print("entering", flush=True)
try:
    with st:
        print("healthy", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(130)
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_during_up_tears_down(
    etcd_manifest: Manifest, tmp_path: Path, sig: signal.Signals
) -> None:
    # Interrupt while the stack can never become healthy, so we are surely inside `up`.
    subject = _broken_subject(tmp_path)
    project = f"wb-etcd-int{os.getpid() % 10000}{int(sig)}"
    p = subprocess.Popen(
        [sys.executable, "-c", _INTERRUPT_SCRIPT, str(subject), str(tmp_path / "run"), project],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 30
    while project not in running_projects() and time.monotonic() < deadline:
        time.sleep(0.3)
    assert project in running_projects(), "stack never started"
    p.send_signal(sig)
    out, _ = p.communicate(timeout=60)
    assert p.returncode == 130, out
    assert "interrupted" in out and "healthy\n" not in out
    assert project not in running_projects()
    assert (tmp_path / "run" / "logs").is_dir()


def test_cli_up_then_down_leaves_nothing(etcd_manifest: Manifest) -> None:
    wb = [sys.executable, "-m", "workbench"]
    project = f"wb-etcd-cli{os.getpid() % 10000}"
    up = subprocess.run(
        [*wb, "up", "--project", project], capture_output=True, text=True, timeout=180
    )
    assert up.returncode == 0, up.stderr
    info = json.loads(up.stdout)
    assert info["project"] == project
    status = subprocess.run([*wb, "status", "--json"], capture_output=True, text=True, timeout=60)
    assert json.loads(status.stdout)[project]["services"]["etcd0"] == "healthy"
    down = subprocess.run(
        [*wb, "down", "--project", project], capture_output=True, text=True, timeout=120
    )
    assert down.returncode == 0, down.stderr
    assert project not in running_projects()
    leftovers = subprocess.run(
        ["docker", "volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={project}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert leftovers.strip() == ""


def test_doctor_says_which_tikv_images_are_missing_and_why(docker_engine: None) -> None:
    from workbench.manifest import load_manifest as load
    from workbench.provision import image_exists

    r = subprocess.run([sys.executable, "-m", "workbench", "doctor", "--subject", "tikv"],
                       capture_output=True, text=True, timeout=120)  # fmt: skip
    m = load("tikv")
    missing = [img for img in m.pulled_images if not image_exists(img)]
    if not missing:
        pytest.skip("every TiKV image is present on this engine")
    assert r.returncode == 1
    for img in missing:
        line = next(x for x in r.stdout.splitlines() if img in x and "MISSING" in x)
        assert "needs a registry" in line
    assert "ok      docker engine" in r.stdout

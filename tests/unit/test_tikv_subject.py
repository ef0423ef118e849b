"""The TiKV subject, checked structurally (no registry here, so it cannot be started).

`docker compose config` renders the file as Compose itself reads it; `pitfalls()` looks at that
rendering for every pitfall of ../shared/specs/tikv-stack.md and the seed. Each pitfall is also put
back on purpose (a mutated copy of the rendering) to show that `pitfalls()` catches it.
"""

from __future__ import annotations

import copy
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from fakes.processes import LocalPrometheus
from workbench import grafana
from workbench.manifest import Manifest, load_manifest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PD = ("pd0", "pd1", "pd2")
TIKV = ("tikv0", "tikv1", "tikv2")
NODES = PD + TIKV
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")
_SIZE = {"B": 1, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "KB": 2**10, "MB": 2**20, "GB": 2**30}


# -- fixtures ---------------------------------------------------------------------------------


def compose_argv() -> list[str]:
    """`docker compose` when the plugin answers, else the venv's Compose v2 binary."""
    if shutil.which("docker"):
        r = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if r.returncode == 0:
            return ["docker", "compose"]
    venv_bin = Path(sys.executable).parent / "docker-compose"
    if venv_bin.is_file():
        return [str(venv_bin)]
    pytest.fail("no Compose v2: `docker compose` fails and the venv has no docker-compose binary")


def render(m: Manifest, env: dict[str, str] | None = None) -> dict[str, Any]:
    """The compose file as Compose renders it, every profile included."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("WB_", "COMPOSE_"))}
    argv = [
        *compose_argv(),
        "-f",
        str(m.compose_file),
        "--profile",
        "*",
        "config",
        "--format",
        "json",
    ]
    r = subprocess.run(
        argv, capture_output=True, text=True, check=False, env={**clean, **(env or {})}, timeout=60
    )
    assert r.returncode == 0, f"`{' '.join(argv)}` failed:\n{r.stderr}"
    cfg: dict[str, Any] = json.loads(r.stdout)
    return cfg


@pytest.fixture(scope="module")
def manifest() -> Manifest:
    return load_manifest("tikv")


@pytest.fixture(scope="module")
def cfg(manifest: Manifest) -> dict[str, Any]:
    return render(manifest)


@pytest.fixture(scope="module")
def raw(manifest: Manifest) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(manifest.compose_file.read_text())
    return doc


def parse_size(text: str) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*", text)
    assert m and m.group(2).upper() in _SIZE, f"not a size: {text!r}"
    return int(float(m.group(1)) * _SIZE[m.group(2).upper()])


def flag(command: list[str], name: str) -> str | None:
    for arg in command:
        if arg.startswith(f"{name}="):
            return arg.split("=", 1)[1]
    return None


# -- the pitfall detector -----------------------------------------------------------------------


def _healthcheck_problems(name: str, svc: dict[str, Any], url_part: str) -> list[str]:
    test = (svc.get("healthcheck") or {}).get("test") or []
    if not test:
        return [f"{name}: no healthcheck"]
    out = []
    words = " ".join(test)
    if test[0] != "CMD":
        out.append(f"{name}: healthcheck is {test[0]} (a shell form can mask the exit status)")
    if "curl" in words:
        out.append(f"{name}: healthcheck uses curl (not in the Rocky/busybox release images)")
    if "||" in words or "exit" in test:
        out.append(f"{name}: healthcheck rewrites the exit status")
    if "wget" not in test or "-O" not in test or "-T" in test:
        out.append(f"{name}: healthcheck is not `[busybox] wget -q -O /dev/null URL` (no -T)")
    if name in NODES and test[1:2] != ["/bin/busybox"]:
        out.append(f"{name}: PD/TiKV images have busybox only at /bin/busybox, without applets")
    if url_part not in words:
        out.append(f"{name}: healthcheck does not GET {url_part}")
    return out


def pitfalls(cfg: dict[str, Any], m: Manifest) -> list[str]:
    """Every way the rendered stack departs from the hardened design; [] when it does not."""
    out: list[str] = []
    services: dict[str, dict[str, Any]] = cfg["services"]
    if set(services) != {*NODES, "prometheus", "grafana", "ycsb", "operator", "probe"}:
        out.append(f"unexpected services: {sorted(services)}")
        return out
    known = {*m.pulled_images, *(i.tag for i in m.images)}
    # 7: pinned tags, nothing pulled that the manifest does not list
    for name, svc in services.items():
        image = str(svc.get("image", ""))
        if ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest"):
            out.append(f"{name}: image {image!r} has no pinned tag")
        if image not in known:
            out.append(f"{name}: image {image!r} is in neither pulled_images nor [[images]]")
    # 1, 2, 4, 5, 8 on the nodes
    volumes_seen: dict[str, str] = {}
    for name in NODES:
        svc = services[name]
        cmd = svc.get("command") or []
        data_dir = flag(cmd, "--data-dir")
        own = [v for v in svc.get("volumes", []) if v.get("type") == "volume"]
        if len(own) != 1 or data_dir is None or not data_dir.startswith(own[0]["target"]):
            out.append(f"{name}: data dir {data_dir} is not on a named volume of its own")
        for v in own:
            if v["source"] in volumes_seen:
                out.append(f"{name}: shares volume {v['source']} with {volumes_seen[v['source']]}")
            volumes_seen[v["source"]] = name
            if v["source"] not in (cfg.get("volumes") or {}):
                out.append(f"{name}: volume {v['source']} is not declared")
        if name in PD:
            if flag(cmd, "--advertise-client-urls") != f"http://{name}:2379":
                out.append(f"{name}: does not advertise http://{name}:2379")
            if flag(cmd, "--initial-cluster") != ",".join(f"{p}=http://{p}:2380" for p in PD):
                out.append(f"{name}: static initial cluster is not pd0..pd2")
            out += _healthcheck_problems(name, svc, "http://127.0.0.1:2379/pd/api/v1/health")
            continue
        nofile = (svc.get("ulimits") or {}).get("nofile") or {}
        if (
            not isinstance(nofile, dict)
            or min(nofile.get("soft", 0), nofile.get("hard", 0)) < 1_000_000
        ):
            out.append(f"{name}: ulimits nofile is not 1000000 soft and hard (pitfall 1)")
        if flag(cmd, "--status-addr") != "0.0.0.0:20180":
            out.append(f"{name}: --status-addr is not 0.0.0.0:20180 (pitfall 2)")
        if flag(cmd, "--advertise-status-addr") != f"{name}:20180":
            out.append(f"{name}: --advertise-status-addr is not {name}:20180 (pitfall 2)")
        if flag(cmd, "--advertise-addr") != f"{name}:20160":
            out.append(f"{name}: --advertise-addr is not {name}:20160")
        if flag(cmd, "--pd") != "pd0:2379,pd1:2379,pd2:2379":
            out.append(f"{name}: --pd does not list the three PDs")
        mem = int(svc.get("mem_limit") or 0)
        cache = _block_cache(m, svc)
        if not mem and cache is None:
            out.append(f"{name}: neither mem_limit nor storage.block-cache.capacity (pitfall 4)")
        if mem and cache is not None and cache >= mem // 2:
            out.append(f"{name}: block cache {cache} is not well below mem_limit {mem}")
        out += _healthcheck_problems(name, svc, "http://127.0.0.1:20180/status")
        for p in PD:
            if (svc.get("depends_on") or {}).get(p, {}).get("condition") != "service_healthy":
                out.append(f"{name}: does not wait for {p} service_healthy")
    out += _healthcheck_problems("prometheus", services["prometheus"], "/-/ready")
    out += _healthcheck_problems("grafana", services["grafana"], "/api/health")
    for name, deps in (("prometheus", NODES), ("grafana", ("prometheus",))):
        for d in deps:
            if (services[name].get("depends_on") or {}).get(d, {}).get(
                "condition"
            ) != "service_healthy":
                out.append(f"{name}: does not wait for {d} service_healthy")
    # ports: 127.0.0.1 only
    for name, svc in services.items():
        for p in svc.get("ports") or []:
            if p.get("host_ip") != "127.0.0.1":
                where = p.get("host_ip") or "all interfaces"
                out.append(f"{name}: port {p.get('target')} published on {where}")
    # 6: the subject's workloads are mounted where the manifest says, and the command uses them
    ycsb = services["ycsb"]
    mounts = {v["target"]: v for v in ycsb.get("volumes") or []}
    wl_dir = (m.directory / m.ycsb.workloads_dir).resolve()
    mount = mounts.get(m.ycsb.workloads_path_in_container)
    if mount is None or Path(mount["source"]).resolve() != wl_dir:
        out.append(
            f"ycsb: {wl_dir} is not mounted at {m.ycsb.workloads_path_in_container} (pitfall 6)"
        )
    cmd = ycsb.get("command") or []
    files = [cmd[i + 1] for i, a in enumerate(cmd[:-1]) if a == "-P"]
    if not files or any(not f.startswith(m.ycsb.workloads_path_in_container + "/") for f in files):
        out.append(f"ycsb: -P {files} does not read the mounted workloads (pitfall 6)")
    for f in files:
        rel = f.removeprefix(m.ycsb.workloads_path_in_container + "/")
        if rel == f or not (wl_dir / rel).is_file():
            out.append(f"ycsb: -P {f} names no file of {wl_dir}")
    return out


def _block_cache(m: Manifest, svc: dict[str, Any]) -> int | None:
    conf = flag(svc.get("command") or [], "--config")
    if conf is None:
        return None
    mounts = {v["target"]: v["source"] for v in svc.get("volumes") or [] if v.get("type") == "bind"}
    if conf not in mounts:
        return None
    doc = tomllib.loads(Path(mounts[conf]).read_text())
    cap = doc.get("storage", {}).get("block-cache", {}).get("capacity")
    return parse_size(cap) if isinstance(cap, str) else None


# -- tests ----------------------------------------------------------------------------------------


def test_manifest_loads(manifest: Manifest) -> None:
    m = manifest
    assert m.name == "tikv"
    assert m.healthy_services == (*NODES, "prometheus", "grafana")
    assert m.readiness_targets is not None and m.readiness_targets.jobs == {"pd": 3, "tikv": 3}
    assert (m.ycsb.tool, m.ycsb.service, m.ycsb.binding) == ("go-ycsb", "ycsb", "tikv")
    assert m.ycsb.properties == {"tikv.pd": "pd0:2379,pd1:2379,pd2:2379", "tikv.type": "raw"}
    assert m.checks["pre"] == ("pd_healthy", "prometheus_targets", "grafana", "probe_connectivity")
    assert m.checks["post"] == (
        "ycsb_traffic", "scrape_coverage", "counts_agree",
        "error_rate", "target_rate", "client_saturation",
        "series_aligned", "reads_found",
        "fault_stack_healthy", "fault_unavailability", "fault_recovery", "fault_errors",
        "operator_detected", "operator_recovered", "operator_integrity", "operator_false_alarms",
        "host_contention",
    )  # fmt: skip
    assert set(m.endpoints) == {"cluster", "prometheus", "grafana"}
    assert m.endpoint("cluster", "network") == "http://pd0:2379,http://pd1:2379,http://pd2:2379"
    assert m.endpoint("grafana", "host", {"WB_GRAFANA_PORT": 4321}) == "http://127.0.0.1:4321"
    assert {q.kind for q in m.queries} == {"throughput", "latency", "resource", "other"}
    assert "raw_" in m.check_options["server_ops_query"]
    assert m.workloads() == ["a", "b", "c", "d", "e", "f"]
    assert {"pingcap/pd:v8.5.5", "pingcap/tikv:v8.5.5"} <= set(m.pulled_images)


def test_compose_config_passes_and_has_no_pitfall(manifest: Manifest, cfg: dict[str, Any]) -> None:
    assert pitfalls(cfg, manifest) == []


MUTATIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "no ulimits": lambda c: c["services"]["tikv1"].pop("ulimits"),
    "low nofile": lambda c: c["services"]["tikv0"]["ulimits"].update(
        nofile={"soft": 1024, "hard": 4096}
    ),
    "status on loopback": lambda c: _set_flag(c, "tikv2", "--status-addr", "127.0.0.1:20180"),
    "no advertised status": lambda c: _drop_flag(c, "tikv0", "--advertise-status-addr"),
    "no memory bound": lambda c: [
        c["services"]["tikv0"].pop("mem_limit"),
        _drop_flag(c, "tikv0", "--config"),
    ],
    "curl healthcheck": lambda c: c["services"]["tikv1"]["healthcheck"].update(
        test=["CMD-SHELL", "curl -s http://127.0.0.1:20180/status || exit 1"]
    ),
    "wget with -T": lambda c: c["services"]["pd1"]["healthcheck"]["test"].insert(3, "-T"),
    "latest tag": lambda c: c["services"]["prometheus"].update(image="prom/prometheus:latest"),
    "untagged image": lambda c: c["services"]["grafana"].update(image="grafana/grafana"),
    "all interfaces": lambda c: c["services"]["pd0"]["ports"][0].update(host_ip=""),
    "shared volume": lambda c: c["services"]["tikv1"]["volumes"][0].update(source="tikv0-data"),
    "seed workloads mount": lambda c: c["services"]["ycsb"]["volumes"][0].update(
        target="/custom-workloads"
    ),
    "built-in workload": lambda c: _replace_arg(
        c, "ycsb", "/workloads/workloada", "/go-ycsb-workloads/workloada"
    ),
    "started, not healthy": lambda c: c["services"]["tikv2"]["depends_on"]["pd1"].update(
        condition="service_started"
    ),
    "prometheus not gated": lambda c: c["services"]["prometheus"]["depends_on"].pop("tikv1"),
}


def _set_flag(c: dict[str, Any], svc: str, name: str, value: str) -> None:
    cmd = c["services"][svc]["command"]
    cmd[:] = [f"{name}={value}" if a.startswith(f"{name}=") else a for a in cmd]


def _drop_flag(c: dict[str, Any], svc: str, name: str) -> None:
    cmd = c["services"][svc]["command"]
    cmd[:] = [a for a in cmd if not a.startswith(f"{name}=")]


def _replace_arg(c: dict[str, Any], svc: str, old: str, new: str) -> None:
    cmd = c["services"][svc]["command"]
    assert old in cmd, f"fixture drift: {old} not in {cmd}"
    cmd[cmd.index(old)] = new


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_each_pitfall_is_caught(manifest: Manifest, cfg: dict[str, Any], mutation: str) -> None:
    bad = copy.deepcopy(cfg)
    MUTATIONS[mutation](bad)
    assert pitfalls(bad, manifest), f"reintroducing {mutation!r} went unnoticed"


def test_every_image_is_pinned_and_listed(manifest: Manifest, cfg: dict[str, Any]) -> None:
    for img in manifest.pulled_images:
        name, _, tag = img.rpartition(":")
        assert name and tag and tag != "latest" and "/" not in tag, img
    (spec,) = [i for i in manifest.images if i.tag.startswith("workbench/go-ycsb:")]
    build = cfg["services"]["ycsb"]["build"]
    assert Path(build["context"]).resolve() == (manifest.directory / spec.context).resolve()
    assert build["dockerfile"] == spec.dockerfile
    dockerfile = (manifest.directory / spec.context / spec.dockerfile).read_text()
    bases = re.findall(r"^FROM\s+(\S+)", dockerfile, re.M)
    assert len(bases) == 2, "Dockerfile.ycsb is multi-stage: a Go build stage and a runtime stage"
    assert set(bases) <= set(manifest.pulled_images), f"build bases {bases} not in pulled_images"
    commit = re.search(r"^ARG GO_YCSB_COMMIT=([0-9a-f]+)$", dockerfile, re.M)
    assert commit and len(commit.group(1)) == 40, "go-ycsb must be pinned to a full commit"
    assert cfg["services"]["ycsb"]["image"] == f"workbench/go-ycsb:{commit.group(1)[:12]}"
    assert cfg["services"]["ycsb"]["image"] in {i.tag for i in manifest.images}
    assert cfg["services"]["ycsb"]["pull_policy"] == "never"
    assert "latest" not in manifest.compose_file.read_text()
    # the image ships no workload files: -P can only name the subject's own
    assert not re.search(r"^(ADD|COPY)\s.*workloads", dockerfile, re.M | re.I)


def test_ports_come_from_manifest_variables(manifest: Manifest, raw: dict[str, Any]) -> None:
    declared = {(p.service, p.container_port): p for p in manifest.ports}
    published = set()
    for name, svc in raw["services"].items():
        for spec in svc.get("ports") or []:
            m = re.fullmatch(r"127\.0\.0\.1:\$\{([A-Z0-9_]+):-(\d+)\}:(\d+)", spec)
            assert m, f"{name}: port {spec!r} is not 127.0.0.1:${{VAR:-default}}:port"
            p = declared.get((name, int(m.group(3))))
            assert p is not None, f"{name}:{m.group(3)} is not in [[ports]]"
            assert (p.env, p.default) == (m.group(1), int(m.group(2)))
            published.add((name, int(m.group(3))))
    assert published == set(declared)


@pytest.mark.local
def test_ports_follow_the_environment(manifest: Manifest) -> None:
    env = {p.env: str(41000 + i) for i, p in enumerate(manifest.ports)}
    cfg = render(manifest, env)
    for i, p in enumerate(manifest.ports):
        (port,) = cfg["services"][p.service]["ports"]
        assert (port["host_ip"], port["published"], port["target"]) == (
            "127.0.0.1", str(41000 + i), p.container_port,
        )  # fmt: skip


def test_every_compose_variable_is_declared(manifest: Manifest) -> None:
    text = manifest.compose_file.read_text()
    used = set(_VAR.findall(text))
    ports = {p.env for p in manifest.ports}
    documented = {str(v) for k, v in manifest.check_options.items() if k.endswith("_env")}
    assert used - ports - documented == set()
    assert ports <= used, f"declared but unused: {ports - used}"
    assert documented <= used, f"documented but unused: {documented - used}"


@pytest.mark.local
def test_operator_defaults_to_workbench_image_and_can_be_replaced(
    manifest: Manifest, cfg: dict[str, Any]
) -> None:
    op = cfg["services"]["operator"]
    assert op["image"] == "workbench/workbench:local" and op["pull_policy"] == "never"
    assert op["profiles"] == ["operator"]
    assert op.get("entrypoint") is None  # the image's own; the run gives the reference one
    assert op["environment"]["PD_ENDPOINT"] == "http://pd0:2379"
    assert op["environment"]["PROMETHEUS_URL"] == manifest.endpoint("prometheus", "network")
    opts = manifest.check_options
    replaced = render(
        manifest,
        {
            opts["operator_image_env"]: "example/operator:1.2.3",
            opts["operator_pull_policy_env"]: "missing",
        },
    )["services"]["operator"]
    assert replaced["image"] == "example/operator:1.2.3"
    assert replaced["pull_policy"] == "missing"
    assert "workbench/workbench:local" in {i.tag for i in manifest.images}


def test_probe_reaches_every_endpoint_from_inside(manifest: Manifest, cfg: dict[str, Any]) -> None:
    """Same shape as the etcd subject's probe; its URLs cover the manifest's network endpoints."""
    probe = cfg["services"]["probe"]
    assert probe["entrypoint"] == ["workbench", "probe"] and probe["profiles"] == ["tools"]
    env = probe["environment"]
    urls = [
        u
        for var in ("WB_CLUSTER_URL", "WB_PROMETHEUS_URL", "WB_PROBE_URLS")
        for u in env[var].split(",")
    ]
    for name in ("cluster", "prometheus", "grafana"):
        for base in manifest.endpoint(name, "network").split(","):
            assert any(u.startswith(base + "/") for u in urls), f"probe does not reach {base}"


def test_prometheus_scrapes_pd_and_tikv(manifest: Manifest, cfg: dict[str, Any]) -> None:
    mounts = {v["target"]: v["source"] for v in cfg["services"]["prometheus"]["volumes"]}
    doc = yaml.safe_load(Path(mounts["/etc/prometheus/prometheus.yml"]).read_text())
    jobs = {
        j["job_name"]: [t for sc in j["static_configs"] for t in sc["targets"]]
        for j in doc["scrape_configs"]
    }
    assert jobs == {"pd": [f"{p}:2379" for p in PD], "tikv": [f"{t}:20180" for t in TIKV]}
    assert manifest.readiness_targets is not None
    assert {j: len(t) for j, t in jobs.items()} == manifest.readiness_targets.jobs
    interval = parse_duration(doc["global"]["scrape_interval"])
    assert parse_duration(doc["global"]["scrape_timeout"]) < interval
    for q in manifest.queries:
        for window in re.findall(r"\[(\w+)\]", q.query):
            assert parse_duration(window) >= 4 * interval, f"{q.name}: window {window} < 4 scrapes"
        assert re.search(r'job=~?"(pd|tikv)"', q.query), f"{q.name}: not bound to the pd/tikv jobs"


def parse_duration(text: str) -> float:
    m = re.fullmatch(r"(\d+)(ms|s|m)", text)
    assert m, text
    return int(m.group(1)) * {"ms": 0.001, "s": 1.0, "m": 60.0}[m.group(2)]


def test_grafana_datasource_dashboard_and_manifest_agree(
    manifest: Manifest, cfg: dict[str, Any]
) -> None:
    g = cfg["services"]["grafana"]
    mounts = {v["target"]: Path(v["source"]) for v in g["volumes"] if v["type"] == "bind"}
    ds_dir = mounts["/etc/grafana/provisioning/datasources"]
    (ds,) = [
        d
        for f in sorted(ds_dir.glob("*.y*ml"))
        for d in yaml.safe_load(f.read_text())["datasources"]
    ]
    uid = manifest.check_options["grafana_datasource_uid"]
    assert (ds["uid"], ds["type"], ds["isDefault"]) == (uid, "prometheus", True)
    assert ds["url"] == manifest.endpoint("prometheus", "network")
    (provider,) = yaml.safe_load(
        (mounts["/etc/grafana/provisioning/dashboards"] / "workbench.yaml").read_text()
    )["providers"]
    dash_dir = mounts[provider["options"]["path"]]
    path = grafana.dashboard_path(manifest)
    assert path.parent.resolve() == dash_dir.resolve() and path.is_file()
    committed = json.loads(path.read_text())
    assert committed == grafana.dashboard_from_manifest(manifest), (
        "dashboard is out of date: run `python -m workbench.grafana tikv`"
    )
    assert committed["uid"] == manifest.check_options["grafana_dashboard_uid"]
    panels = [p for p in committed["panels"] if p["type"] == "timeseries"]
    assert {p["datasource"]["uid"] for p in panels} == {uid}
    assert {p["targets"][0]["expr"] for p in panels} == {q.query for q in manifest.queries}
    assert {"ops", "s"} <= {p["fieldConfig"]["defaults"]["unit"] for p in panels}
    # credentials: by variable name only, defaults that match what the grafana check assumes
    env = g["environment"]
    assert env["GF_SECURITY_ADMIN_USER"] == "admin" and env["GF_SECURITY_ADMIN_PASSWORD"] == "admin"
    text = manifest.compose_file.read_text()
    assert "${" + manifest.check_options["grafana_password_env"] + ":-admin}" in text


# -- the healthcheck command, run for real against a local HTTP server --------------------------


class _StatusHandler(http.server.BaseHTTPRequestHandler):
    """Answers every GET with the status named by the server's `status` attribute."""

    def do_GET(self) -> None:
        self.send_response(self.server.status)  # type: ignore[attr-defined]
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def status_server() -> Iterator[http.server.ThreadingHTTPServer]:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _StatusHandler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


def host_tool(name: str, package: str) -> str:
    """A host binary a test runs: skip on a developer machine without it, fail in CI."""
    path = shutil.which(name)
    if path is None:
        msg = f"{name} is not installed (apt-get install {package})"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.mark.local
@pytest.mark.parametrize("service", [*NODES, "prometheus", "grafana"])
def test_healthcheck_fails_on_http_error(
    cfg: dict[str, Any], status_server: http.server.ThreadingHTTPServer, service: str
) -> None:
    """The exact healthcheck argv, with busybox from this host: 0 on 200, non-zero on 4xx/5xx."""
    bb = host_tool("busybox", "busybox")
    test = cfg["services"][service]["healthcheck"]["test"]
    assert test[0] == "CMD"
    argv = [bb, *test[2:]] if test[1] == "/bin/busybox" else [bb, *test[1:]]
    port = status_server.server_address[1]
    argv = [re.sub(r"^http://127\.0\.0\.1:\d+", f"http://127.0.0.1:{port}", a) for a in argv]
    codes = {}
    for status in (200, 404, 500, 503):
        status_server.status = status  # type: ignore[attr-defined]
        codes[status] = subprocess.run(
            argv, capture_output=True, check=False, timeout=20
        ).returncode
    assert codes[200] == 0, codes
    assert all(codes[s] not in (0, 139) for s in (404, 500, 503)), codes


# -- the Prometheus side, checked by Prometheus itself ------------------------------------------


@pytest.mark.local
def test_promtool_accepts_the_scrape_config(manifest: Manifest, cfg: dict[str, Any]) -> None:
    promtool = host_tool("promtool", "prometheus")
    mounts = {v["target"]: v["source"] for v in cfg["services"]["prometheus"]["volumes"]}
    r = subprocess.run(
        [promtool, "check", "config", mounts["/etc/prometheus/prometheus.yml"]],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.local
def test_every_query_parses_in_a_real_prometheus(manifest: Manifest, tmp_path: Path) -> None:
    """A local Prometheus (no targets) evaluates each query: a PromQL typo is HTTP 400."""
    queries = {q.name: q.query for q in manifest.queries}
    queries["server_ops_query"] = manifest.check_options["server_ops_query"]
    prom = LocalPrometheus(tmp_path, jobs={})
    prom.start()
    try:
        for name, promql in queries.items():
            r = httpx.get(f"{prom.url}/api/v1/query", params={"query": promql}, timeout=10)
            assert r.status_code == 200 and r.json()["status"] == "success", (name, r.text)
        bad = httpx.get(
            f"{prom.url}/api/v1/query", params={"query": "sum(rate(x[20s])"}, timeout=10
        )
        assert bad.status_code == 400  # the server does reject a malformed query
    finally:
        prom.close()

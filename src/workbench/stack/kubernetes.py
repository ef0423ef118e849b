"""The TiKV subject on Kubernetes with TiDB Operator v1: manifests rendered from the subject's files.

Pure (reads only the subject's files): `render(manifest, plan)` returns file name -> YAML text for

    00-namespace.yaml      a namespace of the run's own (deleting it removes everything)
    10-tidbcluster.yaml    pingcap.com/v1alpha1 TidbCluster: PD 3, TiKV 3, TiDB 0, the pinned version,
                           storage requests, TiKV's config from subjects/tikv/config/tikv.toml
    20-prometheus.yaml     ConfigMap + Deployment + Service: Prometheus with the Compose stack's
                           scrape config (same job names `pd` and `tikv`, same intervals), its
                           targets the operator's pod DNS names instead of container names
    30-ycsb.yaml           ConfigMap: the workload file and each generator's split properties
    40-ycsb-load.yaml      Indexed Job (completions = parallelism = N) of go-ycsb `load`
    41-ycsb-run.yaml       the same for `run`

Each generator pod reads `/ycsb/<phase>-<index>.properties` with its index from the Job's
completion-index annotation (downward API, expanded by Kubernetes in `args` as `$(WB_INDEX)`):
no shell in the pod. Facts of TiDB Operator v1 used here: the PD client service `<cluster>-pd`,
pods `<cluster>-pd-<i>` / `<cluster>-tikv-<i>` behind headless services `<cluster>-pd-peer` /
`<cluster>-tikv-peer`, pod label `app.kubernetes.io/component` = pd | tikv, readiness as the
TidbCluster's `Ready` condition. Never run against a real cluster here (README: Kubernetes).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from typing import Any

import yaml

from workbench.errors import ConfigError
from workbench.manifest import Manifest, workload_file_name
from workbench.shares import Share, shares

API_VERSION = "pingcap.com/v1alpha1"
CLUSTER = "basic"  # the TidbCluster's name (prefix of every pod and service the operator makes)
PD_PORT, TIKV_STATUS_PORT, PROMETHEUS_PORT = 2379, 20180, 9090
YCSB_MOUNT = "/ycsb"  # the workload file and the split properties (one ConfigMap)
INDEX_ENV = "WB_INDEX"
INDEX_ANNOTATION = "metadata.annotations['batch.kubernetes.io/job-completion-index']"
_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


@dataclass(frozen=True)
class KubePlan:
    """What to render: the namespace, the generators and the load (the run's parameters)."""

    namespace: str = "wb-tikv"
    generators: int = 1
    workload: str = "a"
    recordcount: int = 1000
    operationcount: int = 1000
    threads: int = 4
    target: int = 0
    pd_storage: str = "10Gi"
    tikv_storage: str = "50Gi"
    storage_class: str | None = None  # None: the cluster's default StorageClass
    ycsb_image: str | None = None  # None: the subject's go-ycsb image (push it where nodes pull)

    def problems(self) -> list[str]:
        out = []
        if not _NAME.fullmatch(self.namespace) or len(self.namespace) > 63:
            out.append(f"namespace: {self.namespace!r} is not a DNS label (a-z, 0-9, '-')")
        for name in ("recordcount", "operationcount", "threads"):
            if getattr(self, name) < 1:
                out.append(f"{name}: must be >= 1, got {getattr(self, name)}")
        return out


def _image(manifest: Manifest, repo: str) -> str:
    for ref in manifest.pulled_images:
        if ref.rsplit(":", 1)[0] == repo:
            return ref
    raise ConfigError(f"{manifest.path}: pulled_images has no {repo} image to pin the version by")


def _built_image(manifest: Manifest, word: str) -> str:
    for spec in manifest.images:
        if word in spec.tag:
            return spec.tag
    raise ConfigError(f"{manifest.path}: no [[images]] entry with {word!r} in its tag")


def _version(manifest: Manifest) -> str:
    pd, tikv = (_image(manifest, r).rsplit(":", 1)[1] for r in ("pingcap/pd", "pingcap/tikv"))
    if pd != tikv:
        raise ConfigError(f"{manifest.path}: PD {pd} and TiKV {tikv}: TidbCluster has one version")
    return tikv


def _replicas(manifest: Manifest, prefix: str) -> int:
    return sum(1 for s in manifest.healthy_services if re.fullmatch(rf"{prefix}\d+", s))


def check_subject(manifest: Manifest) -> None:
    """Only a PD + TiKV subject driven by go-ycsb's tikv binding renders for TiDB Operator."""
    y = manifest.ycsb
    if y is None or y.binding != "tikv" or _replicas(manifest, "tikv") == 0:
        raise ConfigError(
            f"platform kubernetes: subject {manifest.name!r} is not a PD + TiKV subject "
            "(TiDB Operator runs TiKV only); use --subject tikv"
        )
    if y.tool != "go-ycsb":
        raise ConfigError(f"platform kubernetes: only go-ycsb runs as a Job, not {y.tool!r}")


def _storage(plan: KubePlan, size: str) -> dict[str, Any]:
    out: dict[str, Any] = {"requests": {"storage": size}}
    if plan.storage_class:
        out["storageClassName"] = plan.storage_class
    return out


def tidb_cluster(manifest: Manifest, plan: KubePlan) -> dict[str, Any]:
    tikv_config = tomllib.loads((manifest.directory / "config" / "tikv.toml").read_text())
    pd: dict[str, Any] = {
        "baseImage": "pingcap/pd",
        "replicas": _replicas(manifest, "pd"),
        "maxFailoverCount": 0,
        **_storage(plan, plan.pd_storage),
        "config": {},
    }
    tikv: dict[str, Any] = {
        "baseImage": "pingcap/tikv",
        "replicas": _replicas(manifest, "tikv"),
        "maxFailoverCount": 0,
        **_storage(plan, plan.tikv_storage),
        "config": tikv_config,
    }
    return {
        "apiVersion": API_VERSION,
        "kind": "TidbCluster",
        "metadata": {"name": CLUSTER, "namespace": plan.namespace},
        "spec": {
            "version": _version(manifest),
            "timezone": "UTC",
            "pvReclaimPolicy": "Delete",  # the namespace is thrown away after the run
            "configUpdateStrategy": "RollingUpdate",
            "discovery": {},
            "pd": pd,
            "tikv": tikv,
            "tidb": {"baseImage": "pingcap/tidb", "replicas": 0},  # raw KV: no SQL layer
        },
    }


def pod_targets(component: str, replicas: int, namespace: str, port: int) -> list[str]:
    """Each pod's stable DNS name behind the operator's headless `<cluster>-<component>-peer`."""
    peer = f"{CLUSTER}-{component}-peer"
    return [f"{CLUSTER}-{component}-{i}.{peer}.{namespace}.svc:{port}" for i in range(replicas)]


def prometheus_config(manifest: Manifest, plan: KubePlan) -> dict[str, Any]:
    """The Compose stack's prometheus.yml with each job's targets moved to the pods' names."""
    cfg = yaml.safe_load((manifest.directory / "config" / "prometheus.yml").read_text())
    ports = {"pd": PD_PORT, "tikv": TIKV_STATUS_PORT}
    for job in cfg.get("scrape_configs", []):
        name = job["job_name"]
        if name not in ports:
            raise ConfigError(f"prometheus.yml: job {name!r} has no Kubernetes target rule")
        targets = pod_targets(name, _replicas(manifest, name), plan.namespace, ports[name])
        job["static_configs"] = [{"targets": targets}]
    return dict(cfg)


def _labels(component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": "workbench", "app.kubernetes.io/component": component}


def prometheus(manifest: Manifest, plan: KubePlan) -> list[dict[str, Any]]:
    ns, labels = plan.namespace, _labels("prometheus")
    config = yaml.safe_dump(prometheus_config(manifest, plan), sort_keys=False)
    container = {
        "name": "prometheus",
        "image": _image(manifest, "prom/prometheus"),
        "args": [
            "--config.file=/etc/prometheus/prometheus.yml",
            "--storage.tsdb.path=/prometheus",
            "--storage.tsdb.retention.time=1d",
            f"--web.listen-address=0.0.0.0:{PROMETHEUS_PORT}",
        ],
        "ports": [{"name": "http", "containerPort": PROMETHEUS_PORT}],
        "readinessProbe": {"httpGet": {"path": "/-/ready", "port": PROMETHEUS_PORT}},
        "volumeMounts": [
            {"name": "config", "mountPath": "/etc/prometheus", "readOnly": True},
            {"name": "data", "mountPath": "/prometheus"},
        ],
    }
    pod = {
        "metadata": {"labels": labels},
        "spec": {
            "containers": [container],
            "volumes": [
                {"name": "config", "configMap": {"name": "prometheus"}},
                {"name": "data", "emptyDir": {}},
            ],
        },
    }
    return [
        _config_map("prometheus", ns, {"prometheus.yml": config}),
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "prometheus", "namespace": ns, "labels": labels},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": pod},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "prometheus", "namespace": ns, "labels": labels},
            "spec": {
                "selector": labels,
                "ports": [{"name": "http", "port": PROMETHEUS_PORT, "targetPort": "http"}],
            },
        },
    ]


def _config_map(name: str, namespace: str, data: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": data,
    }


def split_files(parts: list[Share]) -> dict[str, str]:
    """`load-<i>.properties` (key range) and `run-<i>.properties` (operation count, target)."""
    out = {}
    for s in parts:
        run = {**s.run_properties(), **({"target": str(s.target)} if s.target else {})}
        for phase, props in (("load", s.load_properties()), ("run", run)):
            out[f"{phase}-{s.index}.properties"] = "".join(f"{k}={v}\n" for k, v in props.items())
    return out


def ycsb_config(manifest: Manifest, plan: KubePlan) -> dict[str, Any]:
    name = workload_file_name(plan.workload)
    path = manifest.workload_file(plan.workload)
    if not path.is_file():
        raise ConfigError(f"no workload {plan.workload!r} in {path.parent}")
    parts = shares(
        plan.generators,
        plan.recordcount,
        operationcount=plan.operationcount,
        target=plan.target,
    )
    data = {name: path.read_text(), **split_files(parts)}
    return _config_map("ycsb", plan.namespace, data)


def ycsb_args(manifest: Manifest, plan: KubePlan, phase: str) -> list[str]:
    """go-ycsb's argv in a generator pod (the image's entrypoint is go-ycsb)."""
    props = dict(manifest.ycsb_spec().properties)
    props["tikv.pd"] = f"{CLUSTER}-pd:{PD_PORT}"  # the operator's PD client service
    props["recordcount"] = str(plan.recordcount)
    argv = [phase, manifest.ycsb_spec().binding]
    argv += ["-P", f"{YCSB_MOUNT}/{workload_file_name(plan.workload)}"]
    argv += ["-P", f"{YCSB_MOUNT}/{phase}-$({INDEX_ENV}).properties"]
    for k, v in props.items():
        argv += ["-p", f"{k}={v}"]
    return [*argv, "--threads", str(plan.threads), "--interval", "1"]


def ycsb_job(manifest: Manifest, plan: KubePlan, phase: str) -> dict[str, Any]:
    labels = {**_labels("ycsb"), "workbench/phase": phase}
    image = plan.ycsb_image or _built_image(manifest, "go-ycsb")
    container = {
        "name": "go-ycsb",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "args": ycsb_args(manifest, plan, phase),
        "env": [{"name": INDEX_ENV, "valueFrom": {"fieldRef": {"fieldPath": INDEX_ANNOTATION}}}],
        "volumeMounts": [{"name": "ycsb", "mountPath": YCSB_MOUNT, "readOnly": True}],
    }
    # generators away from the TiKV pods where the nodes allow it (docs/scale.md: placement)
    away = {
        "weight": 100,
        "podAffinityTerm": {
            "topologyKey": "kubernetes.io/hostname",
            "labelSelector": {"matchLabels": {"app.kubernetes.io/component": "tikv"}},
        },
    }
    pod = {
        "metadata": {"labels": labels},
        "spec": {
            "restartPolicy": "Never",
            "containers": [container],
            "volumes": [{"name": "ycsb", "configMap": {"name": "ycsb"}}],
            "affinity": {
                "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [away]}
            },
        },
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": f"ycsb-{phase}", "namespace": plan.namespace, "labels": labels},
        "spec": {
            "completionMode": "Indexed",
            "completions": plan.generators,
            "parallelism": plan.generators,
            "backoffLimit": 0,  # a generator that fails is a result, not something to retry
            "template": pod,
        },
    }


def documents(manifest: Manifest, plan: KubePlan) -> dict[str, list[dict[str, Any]]]:
    """File name -> the resources in it, in apply order."""
    check_subject(manifest)
    bad = plan.problems()
    if bad:
        raise ConfigError("; ".join(bad))
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": plan.namespace, "labels": {"app.kubernetes.io/name": "workbench"}},
    }
    return {
        "00-namespace.yaml": [namespace],
        "10-tidbcluster.yaml": [tidb_cluster(manifest, plan)],
        "20-prometheus.yaml": prometheus(manifest, plan),
        "30-ycsb.yaml": [ycsb_config(manifest, plan)],
        "40-ycsb-load.yaml": [ycsb_job(manifest, plan, "load")],
        "41-ycsb-run.yaml": [ycsb_job(manifest, plan, "run")],
    }


HEADER = (
    "# Rendered by `workbench render --platform kubernetes` from subjects/{subject}/ for TiDB "
    "Operator v1\n# (pingcap.com/v1alpha1). Not yet run against a real cluster: validated offline.\n"
)


class _Dumper(yaml.SafeDumper):
    """Plain YAML for people: no anchors for repeated label maps, files as literal blocks."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _text(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _text)


def to_yaml(doc: dict[str, Any]) -> str:
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, width=120)


def render(manifest: Manifest, plan: KubePlan) -> dict[str, str]:
    """File name -> YAML text (multi-document where a file holds several resources)."""
    out = {}
    for name, docs in documents(manifest, plan).items():
        body = "---\n".join(to_yaml(d) for d in docs)
        out[name] = HEADER.format(subject=manifest.name) + body
    return out

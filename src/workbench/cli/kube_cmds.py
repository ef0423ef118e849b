"""`workbench render`: a subject's stack for another platform, written to files and validated."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "render",
        help="write the TiKV subject's Kubernetes manifests (TiDB Operator), validated offline",
    )
    p.add_argument("--platform", default="kubernetes", choices=["kubernetes"])
    p.add_argument("--subject", default="tikv", help="a PD + TiKV subject (default: tikv)")
    p.add_argument("--generators", type=int, default=1, help="go-ycsb pods (Indexed Job)")
    p.add_argument("--out", type=Path, required=True, help="directory for the YAML files")
    p.add_argument("--namespace", default="wb-tikv", help="the run's own namespace")
    p.add_argument("--workload", default="a", help="YCSB workload letter (default: a)")
    p.add_argument("--recordcount", type=int, default=1000)
    p.add_argument("--operationcount", type=int, default=1000)
    p.add_argument("--threads", type=int, default=4, help="threads per generator")
    p.add_argument("--target", type=int, default=0, help="total ops/s over all generators")
    p.add_argument("--storage-class", help="StorageClass of PD/TiKV volumes (default: cluster's)")
    p.add_argument("--ycsb-image", help="go-ycsb image the nodes can pull (default: subject's)")
    p.add_argument(
        "--apply",
        action="store_true",
        help="then apply them with kubectl (server-side), run load and run Jobs, save pod logs "
        "in OUT/logs, delete the namespace; needs kubectl and a cluster with TiDB Operator v1",
    )
    p.set_defaults(func=cmd_render)


def cmd_render(args: argparse.Namespace) -> int:
    # imported here: a command loads only what it uses (`workbench --help` starts fast)
    from workbench.errors import ConfigError
    from workbench.manifest import load_manifest
    from workbench.stack import kubectl, kubernetes, kubevalidate

    plan = kubernetes.KubePlan(
        namespace=args.namespace,
        generators=args.generators,
        workload=args.workload,
        recordcount=args.recordcount,
        operationcount=args.operationcount,
        threads=args.threads,
        target=args.target,
        storage_class=args.storage_class,
        ycsb_image=args.ycsb_image,
    )
    manifest = load_manifest(args.subject)
    if args.apply:
        kubectl.preflight()  # one clear error before anything is written or applied
    docs = kubernetes.documents(manifest, plan)
    bad = kubevalidate.problems(d for ds in docs.values() for d in ds)
    if bad:
        raise ConfigError("rendered manifests do not validate:\n  " + "\n  ".join(bad))
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in kubernetes.render(manifest, plan).items():
        (args.out / name).write_text(text)
        print(args.out / name)
    print(f"validated offline: {sum(len(d) for d in docs.values())} resources")
    if args.apply:
        with kubectl.KubeSession(args.out, plan.namespace, plan.generators) as session:
            session.up()
            print(f"reached: {session.reach()}")
            for phase in ("load", "run"):
                session.job(phase, args.out / "logs" / f"{phase}.log")
                print(args.out / "logs" / f"{phase}.log")
    return 0

"""H1: is the cluster itself healthy? etcd (`cluster_healthy`) and PD/TiKV (`pd_healthy`).

Gather steps record every response (or the error that replaced it) per endpoint; judges decide.
An endpoint that does not answer is a `fail` naming the member; a response whose shape cannot be
read is `unknown` (it was not verified either way).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any

from workbench.checks.base import CheckContext, Judgement, Unobservable, register
from workbench.cluster.etcd import EtcdClient, EtcdCluster
from workbench.cluster.pd import PDClient
from workbench.errors import ClusterError, ClusterUnreadable

TIMEOUT_S = 3.0


def _ask(get: Callable[[], Any]) -> dict[str, Any]:
    """One typed answer recorded as {"ok": fields}, {"unreadable": why} or {"error", "class"}."""
    try:
        got = get()
    except ClusterUnreadable as exc:
        return {"unreadable": str(exc).splitlines()[0], "response": exc.response}
    except ClusterError as exc:
        return {"error": str(exc).splitlines()[0], "class": exc.error_class}
    if isinstance(got, tuple):
        return {"ok": [asdict(g) for g in got]}
    return {"ok": asdict(got)}


def _err(resp: Mapping[str, Any]) -> str | None:
    return None if "ok" in resp else str(resp.get("error") or resp.get("unreadable"))


def _ok(resp: Mapping[str, Any], what: str) -> Any:
    """The answer's fields; Unobservable when it answered something unreadable."""
    if "unreadable" in resp:
        raise Unobservable(f"unreadable {what}: {resp['unreadable']}", {what: dict(resp)})
    return resp.get("ok")


# -- etcd ------------------------------------------------------------------------------------


def gather_etcd(ctx: CheckContext) -> dict[str, Any]:
    http = ctx.require_http()
    hosts = ctx.urls("cluster", "host")
    nets = ctx.network_endpoints.get("cluster", "").split(",")
    members = []
    for i, url in enumerate(hosts):
        client = EtcdClient(http, url, timeout=TIMEOUT_S)
        members.append(
            {
                "endpoint": url,
                "network": nets[i].strip().rstrip("/") if i < len(nets) else None,
                "status": _ask(client.status),
                "health": _ask(client.health),
            }
        )
    cluster = EtcdCluster(http, {u: u for u in hosts}, timeout=TIMEOUT_S)
    return {"endpoints": members, "member_list": _ask(cluster.member_list)}


def judge_etcd(obs: Mapping[str, Any], options: Mapping[str, Any]) -> Judgement:
    """Every member answers and is healthy, all agree on exactly one leader that is a member."""
    listed = {
        m["id"]: {"name": m["name"], "client_urls": list(m["client_urls"])}
        for m in (_ok(obs["member_list"], "member list") or [])
    }

    def name_of(ep: Mapping[str, Any], member_id: int | None) -> str:
        if member_id is not None and member_id in listed:
            return str(listed[member_id]["name"])
        for m in listed.values():
            if ep.get("network") in m["client_urls"] or ep["endpoint"] in m["client_urls"]:
                return str(m["name"])
        return str(ep["endpoint"])

    problems: list[str] = []
    members: list[dict[str, Any]] = []
    leaders: dict[str, int] = {}
    for ep in obs["endpoints"]:
        st = _ok(ep["status"], f"status from {ep['endpoint']}")
        err = _err(ep["status"])
        row: dict[str, Any] = {"endpoint": ep["endpoint"], "reachable": err is None}
        if st is not None:
            row.update(
                id=st["member_id"],
                leader=st["leader_id"],
                version=st["version"],
                raft_term=st["raft_term"],
                revision=st["revision"],
                db_size=st["db_size"],
                alarms=list(st["errors"]),
            )
        name = name_of(ep, st["member_id"] if st else None)
        row["name"] = name
        if err is not None:
            problems.append(f"{name} ({ep['endpoint']}) unreachable: {err}")
        else:
            leaders[name] = row["leader"]
            if row["alarms"]:
                problems.append(f"{name} reports errors: {row['alarms']}")
            h = ep["health"]
            healthy = "ok" in h and h["ok"]["healthy"]
            row["health"] = h["ok"]["body"] if "ok" in h else _err(h)
            if not healthy:
                problems.append(f"{name} /health not true: {row['health']}")
        members.append(row)

    expected = int(options.get("expected_members", len(obs["endpoints"])))
    if listed and len(listed) != expected:
        problems.append(f"member list has {len(listed)} members, expected {expected}")
    distinct = set(leaders.values())
    leader_id = next(iter(distinct)) if len(distinct) == 1 else None
    if leaders and len(distinct) != 1:
        problems.append(f"members disagree on the leader: {leaders}")
    elif leader_id == 0:
        problems.append("no leader (leader id 0)")
    elif leader_id is not None and listed and leader_id not in listed:
        problems.append(f"leader {leader_id} is not in the member list")
    leader_name = listed.get(leader_id, {}).get("name") if leader_id is not None else None
    evidence = {
        "members": members,
        "member_list": {str(k): v for k, v in listed.items()},
        "leader": {"id": leader_id, "name": leader_name},
        "expected_members": expected,
    }
    if problems:
        return Judgement("fail", "; ".join(problems), evidence)
    return Judgement(
        "pass",
        f"{len(members)}/{expected} members healthy, one leader: {leader_name} ({leader_id})",
        evidence,
    )


# -- PD / TiKV -------------------------------------------------------------------------------


def gather_pd(ctx: CheckContext) -> dict[str, Any]:
    http = ctx.require_http()
    name = ctx.options.get("pd_endpoint") or ("pd" if "pd" in ctx.endpoints else "cluster")
    urls = ctx.urls(str(name), "host")
    obs: dict[str, Any] = {}
    for url in urls:  # the first PD that answers speaks for the cluster
        pd = PDClient(http, url, timeout=TIMEOUT_S)
        obs = {
            "endpoint": url,
            "health": _ask(pd.health),
            "stores": _ask(pd.stores),
            "cluster_status": _ask(pd.cluster_status),
            "members": _ask(pd.members),
        }
        if obs["stores"].get("class") not in ("timeout", "refused", "transport"):
            break
    return obs


def judge_pd(obs: Mapping[str, Any], options: Mapping[str, Any]) -> Judgement:
    """Every PD healthy, `count` stores (default 3) all Up, cluster initialized."""
    expected = int(options.get("expected_stores", 3))
    problems: list[str] = []
    evidence: dict[str, Any] = {"endpoint": obs.get("endpoint"), "expected_stores": expected}
    h = obs["health"]
    if (err := _err(h)) is not None:
        _ok(h, "PD response (/health)")
        problems.append(f"PD /health: {err}")
    else:
        pds = [
            {"name": m["name"], "member_id": m["member_id"], "health": m["health"]} for m in h["ok"]
        ]
        evidence["pd"] = pds
        problems += [f"PD {m['name']} unhealthy" for m in pds if m["health"] is not True]
    st = obs["stores"]
    if (err := _err(st)) is not None:
        _ok(st, "PD response (/stores)")
        problems.append(f"PD /stores: {err}")
    else:
        stores = [_store_row(s) for s in st["ok"]]
        evidence["stores"] = stores
        if len(stores) != expected:
            problems.append(f"{len(stores)} stores, expected {expected}")
        problems += [
            f"store {s['id']} ({s['address']}) is {s['state_name']}"
            for s in stores
            if s["state_name"] != "Up"
        ]
    cs = obs["cluster_status"]
    if (err := _err(cs)) is not None:
        _ok(cs, "PD response (/cluster/status)")
        problems.append(f"PD /cluster/status: {err}")
    else:
        evidence["is_initialized"] = cs["ok"]["is_initialized"]
        if cs["ok"]["is_initialized"] is not True:
            problems.append("cluster is not initialized")
    mem = obs.get("members", {})
    if "ok" in mem:
        evidence["cluster_id"] = mem["ok"]["cluster_id"]
        if mem["ok"]["leader"]:
            lead = mem["ok"]["leader"]
            evidence["pd_leader"] = {"name": lead["name"], "member_id": lead["member_id"]}
    if problems:
        return Judgement("fail", "; ".join(problems), evidence)
    n_pd = len(evidence.get("pd", []))
    return Judgement(
        "pass",
        f"{n_pd} PD healthy, {expected}/{expected} stores Up, cluster initialized",
        evidence,
    )


def _store_row(s: Mapping[str, Any]) -> dict[str, Any]:
    """A typed store as the evidence row the report shows (absent fields left out)."""
    return {k: v for k, v in s.items() if v is not None or k == "last_heartbeat_ns"}


register(
    "cluster_healthy",
    "etcd: every member answers, /health true, exactly one leader agreed by all",
    gather_etcd,
    judge_etcd,
)
register(
    "pd_healthy",
    "PD/TiKV: every PD /health true, /stores count 3 all Up, cluster initialized",
    gather_pd,
    judge_pd,
)

"""H1: is the cluster itself healthy? etcd (`cluster_healthy`) and PD/TiKV (`pd_healthy`).

Gather steps record every response (or the error that replaced it) per endpoint; judges decide.
An endpoint that does not answer is a `fail` naming the member; a response whose shape cannot be
read is `unknown` (it was not verified either way).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from workbench.checks.base import CheckContext, Judgement, Unobservable, register
from workbench.checks.parse import parse_id, parse_size
from workbench.units import parse_go_duration

TIMEOUT_S = 3.0


def _call(http: httpx.Client, method: str, url: str, **kw: Any) -> dict[str, Any]:
    """One HTTP call recorded as {"status", "body"} or {"error"}; never raises for HTTP."""
    try:
        r = http.request(method, url, timeout=TIMEOUT_S, **kw)
    except httpx.HTTPError as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    try:
        body: Any = r.json()
    except ValueError:
        body = r.text[:500]
    return {"status": r.status_code, "body": body}


def _err(resp: Mapping[str, Any]) -> str | None:
    if "error" in resp:
        return str(resp["error"])
    if resp.get("status") != 200:
        return f"HTTP {resp.get('status')}: {str(resp.get('body'))[:200]}"
    return None


# -- etcd ------------------------------------------------------------------------------------


def gather_etcd(ctx: CheckContext) -> dict[str, Any]:
    http = ctx.require_http()
    hosts = ctx.urls("cluster", "host")
    nets = ctx.network_endpoints.get("cluster", "").split(",")
    members = []
    for i, url in enumerate(hosts):
        members.append(
            {
                "endpoint": url,
                "network": nets[i].strip().rstrip("/") if i < len(nets) else None,
                "status": _call(http, "POST", f"{url}/v3/maintenance/status", json={}),
                "health": _call(http, "GET", f"{url}/health"),
            }
        )
    member_list: dict[str, Any] = {"error": "no member answered"}
    for url in hosts:
        member_list = _call(http, "POST", f"{url}/v3/cluster/member/list", json={})
        if _err(member_list) is None:
            break
    return {"endpoints": members, "member_list": member_list}


def judge_etcd(obs: Mapping[str, Any], options: Mapping[str, Any]) -> Judgement:
    """Every member answers and is healthy, all agree on exactly one leader that is a member."""
    ml = obs["member_list"]
    if _err(ml) is not None:
        listed: dict[int, dict[str, Any]] = {}
    else:
        try:
            listed = {
                parse_id(m["ID"]): {
                    "name": m.get("name", ""),
                    "client_urls": [u.rstrip("/") for u in m.get("clientURLs", [])],
                }
                for m in ml["body"]["members"]
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise Unobservable(f"unreadable member list: {exc!r}", {"member_list": ml}) from exc

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
        st = ep["status"]
        err = _err(st)
        row: dict[str, Any] = {"endpoint": ep["endpoint"], "reachable": err is None}
        member_id = None
        if err is None:
            try:
                body = st["body"]
                member_id = parse_id(body["header"]["member_id"])
                leader = parse_id(body["leader"])
                row.update(
                    id=member_id,
                    leader=leader,
                    version=body.get("version"),
                    raft_term=int(body.get("raftTerm", 0)),
                    revision=int(body["header"].get("revision", 0)),
                    db_size=int(body.get("dbSize", 0)),
                    alarms=list(body.get("errors", [])),
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise Unobservable(
                    f"unreadable status from {ep['endpoint']}: {exc!r}", {"status": st}
                ) from exc
        name = name_of(ep, member_id)
        row["name"] = name
        if err is not None:
            problems.append(f"{name} ({ep['endpoint']}) unreachable: {err}")
        else:
            leaders[name] = row["leader"]
            if row["alarms"]:
                problems.append(f"{name} reports errors: {row['alarms']}")
            h = ep["health"]
            herr = _err(h)
            healthy = (
                herr is None
                and isinstance(h["body"], dict)
                and h["body"].get("health")
                in (
                    "true",
                    True,
                )
            )
            row["health"] = h.get("body") if herr is None else herr
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

PD = "/pd/api/v1"


def gather_pd(ctx: CheckContext) -> dict[str, Any]:
    http = ctx.require_http()
    name = ctx.options.get("pd_endpoint") or ("pd" if "pd" in ctx.endpoints else "cluster")
    urls = ctx.urls(str(name), "host")
    obs: dict[str, Any] = {}
    for url in urls:  # the first PD that answers speaks for the cluster
        obs = {"endpoint": url}
        for key, path in (
            ("health", "/health"),
            ("stores", "/stores"),
            ("cluster_status", "/cluster/status"),
            ("members", "/members"),
        ):
            obs[key] = _call(http, "GET", f"{url}{PD}{path}")
        if "error" not in obs["stores"]:
            break
    return obs


def _store_row(s: Mapping[str, Any]) -> dict[str, Any]:
    store, status = s["store"], s.get("status", {})
    row: dict[str, Any] = {
        "id": parse_id(store["id"]),
        "address": store.get("address"),
        "state_name": store.get("state_name", "Up"),
        "version": store.get("version"),
        "last_heartbeat_ns": int(store["last_heartbeat"]) if "last_heartbeat" in store else None,
    }
    for k in ("capacity", "available", "used_size"):
        if k in status:
            row[f"{k}_bytes"] = parse_size(status[k])
    if "uptime" in status:
        row["uptime_s"] = parse_go_duration(status["uptime"])
    for k in ("leader_count", "region_count"):
        if k in status:
            row[k] = int(status[k])
    return row


def judge_pd(obs: Mapping[str, Any], options: Mapping[str, Any]) -> Judgement:
    """Every PD healthy, `count` stores (default 3) all Up, cluster initialized."""
    expected = int(options.get("expected_stores", 3))
    problems: list[str] = []
    evidence: dict[str, Any] = {"endpoint": obs.get("endpoint"), "expected_stores": expected}
    try:
        h = obs["health"]
        if (err := _err(h)) is not None:
            problems.append(f"PD /health: {err}")
        else:
            pds = [
                {"name": m["name"], "member_id": parse_id(m["member_id"]), "health": m["health"]}
                for m in h["body"]
            ]
            evidence["pd"] = pds
            problems += [f"PD {m['name']} unhealthy" for m in pds if m["health"] is not True]
        st = obs["stores"]
        if (err := _err(st)) is not None:
            problems.append(f"PD /stores: {err}")
        else:
            stores = [_store_row(s) for s in st["body"].get("stores") or []]
            evidence["stores"] = stores
            count = int(st["body"].get("count", len(stores)))
            if count != expected:
                problems.append(f"{count} stores, expected {expected}")
            problems += [
                f"store {s['id']} ({s['address']}) is {s['state_name']}"
                for s in stores
                if s["state_name"] != "Up"
            ]
        cs = obs["cluster_status"]
        if (err := _err(cs)) is not None:
            problems.append(f"PD /cluster/status: {err}")
        else:
            evidence["is_initialized"] = cs["body"].get("is_initialized")
            if cs["body"].get("is_initialized") is not True:
                problems.append("cluster is not initialized")
        mem = obs.get("members", {})
        if _err(mem) is None and isinstance(mem.get("body"), dict):
            body = mem["body"]
            evidence["cluster_id"] = parse_id(body["header"]["cluster_id"])
            if body.get("leader"):
                evidence["pd_leader"] = {
                    "name": body["leader"].get("name"),
                    "member_id": parse_id(body["leader"]["member_id"]),
                }
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise Unobservable(f"unreadable PD response: {exc!r}", {"responses": dict(obs)}) from exc
    if problems:
        return Judgement("fail", "; ".join(problems), evidence)
    n_pd = len(evidence.get("pd", []))
    return Judgement(
        "pass",
        f"{n_pd} PD healthy, {expected}/{expected} stores Up, cluster initialized",
        evidence,
    )


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

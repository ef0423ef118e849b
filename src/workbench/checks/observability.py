"""H2, H3, H5: Prometheus scrapes every target, Grafana shows the stack's Prometheus, and the
cluster and Prometheus answer from inside the compose network (the probe container)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import httpx

from workbench.checks.base import (
    CheckContext,
    Judgement,
    NotApplicable,
    Unobservable,
    register,
)
from workbench.errors import WorkbenchError

TIMEOUT_S = 3.0


def _call(http: httpx.Client, method: str, url: str, **kw: Any) -> dict[str, Any]:
    """One Grafana call recorded as {"status", "body"} or {"error"}; never raises for HTTP."""
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


# -- H2: Prometheus targets --------------------------------------------------------------------


def expected_jobs(ctx: CheckContext) -> dict[str, int]:
    jobs = ctx.options.get("prometheus_jobs") or ctx.expected_targets
    return {str(k): int(v) for k, v in dict(jobs).items()}


def gather_targets(ctx: CheckContext) -> dict[str, Any]:
    prom = ctx.require_prometheus()
    jobs = expected_jobs(ctx)
    try:
        targets = prom.targets()
    except WorkbenchError as exc:
        return {"jobs": jobs, "error": str(exc), "prometheus": prom.base_url}
    rows = [
        {
            "job": t.get("labels", {}).get("job", t.get("scrapePool")),
            "instance": t.get("labels", {}).get("instance", t.get("scrapeUrl")),
            "health": t.get("health"),
            "last_error": t.get("lastError", ""),
            "last_scrape": t.get("lastScrape"),
            "scrape_interval": t.get("scrapeInterval"),
        }
        for t in targets
    ]
    return {"jobs": jobs, "targets": rows, "prometheus": prom.base_url}


def judge_targets(obs: Mapping[str, Any], options: Mapping[str, Any]) -> Judgement:
    """Each expected job has exactly its number of targets, all `up`."""
    jobs: dict[str, int] = obs["jobs"]
    if not jobs:
        raise Unobservable("no expected Prometheus jobs (manifest [readiness] or prometheus_jobs)")
    if "error" in obs:
        return Judgement("fail", f"Prometheus did not answer: {obs['error']}", dict(obs))
    targets = obs["targets"]
    problems, pending = [], []
    for job, n in sorted(jobs.items()):
        mine = [t for t in targets if t["job"] == job]
        if len(mine) != n:
            problems.append(f"job {job}: {len(mine)} targets, expected {n}")
        for t in mine:
            if t["health"] == "down":
                problems.append(f"{job}/{t['instance']} down: {t['last_error']}")
            elif t["health"] != "up":
                pending.append(f"{job}/{t['instance']} {t['health']}")
    evidence = {"expected": jobs, "targets": targets}
    if problems:
        return Judgement("fail", "; ".join(problems), evidence)
    if pending:
        return Judgement("unknown", "not scraped yet: " + ", ".join(pending), evidence)
    total = sum(jobs.values())
    names = ", ".join(f"{j}={n}" for j, n in sorted(jobs.items()))
    return Judgement("pass", f"{total}/{total} targets up ({names})", evidence)


# -- H3: Grafana -------------------------------------------------------------------------------


def grafana_auth(options: Mapping[str, Any]) -> tuple[str, str]:
    """Credentials: `grafana_user`/`grafana_password`, else the variables named by
    `grafana_user_env`/`grafana_password_env`, else Grafana's admin/admin. Never recorded."""

    def one(key: str) -> str:
        if options.get(key):
            return str(options[key])
        env = options.get(f"{key}_env")
        return os.environ.get(str(env), "admin") if env else "admin"

    return one("grafana_user"), one("grafana_password")


def gather_grafana(ctx: CheckContext) -> dict[str, Any]:
    if "grafana" not in ctx.endpoints:
        raise NotApplicable(f"subject {ctx.subject!r} has no Grafana (no `grafana` endpoint)")
    http = ctx.require_http()
    url = ctx.urls("grafana")[0]
    auth = grafana_auth(ctx.options)
    obs: dict[str, Any] = {
        "endpoint": url,
        "expected_url": str(
            ctx.options.get("grafana_prometheus_url") or ctx.network_endpoints.get("prometheus", "")
        ),
        "expected_uid": ctx.options.get("grafana_datasource_uid"),
        "health": _call(http, "GET", f"{url}/api/health"),
        "datasources": _call(http, "GET", f"{url}/api/datasources", auth=auth),
    }
    ds = obs["datasources"].get("body")
    default = (
        [d for d in ds if isinstance(d, dict) and d.get("isDefault")]
        if isinstance(ds, list)
        else []
    )
    if len(default) == 1 and default[0].get("uid"):
        uid = default[0]["uid"]
        obs["datasource_health"] = _call(
            http, "GET", f"{url}/api/datasources/uid/{uid}/health", auth=auth
        )
    dash = ctx.options.get("grafana_dashboard_uid")
    if dash:
        obs["dashboard_uid"] = str(dash)
        obs["dashboard"] = _call(http, "GET", f"{url}/api/dashboards/uid/{dash}", auth=auth)
    return obs


def judge_grafana(obs: Mapping[str, Any], options: Mapping[str, Any]) -> Judgement:
    """Grafana healthy; one default datasource, type prometheus, at the stack's Prometheus; its
    own health check OK."""
    evidence: dict[str, Any] = {"endpoint": obs["endpoint"], "expected_url": obs["expected_url"]}
    h = obs["health"]
    if (err := _err(h)) is not None:
        return Judgement("fail", f"Grafana /api/health: {err}", {**evidence, "health": h})
    evidence["health"] = h["body"]
    if not isinstance(h["body"], dict) or h["body"].get("database") != "ok":
        return Judgement("fail", f"Grafana database not ok: {h['body']}", evidence)
    ds = obs["datasources"]
    if ds.get("status") in (401, 403):
        raise Unobservable(f"Grafana refused the credentials (HTTP {ds['status']})", evidence)
    if (err := _err(ds)) is not None:
        return Judgement("fail", f"Grafana /api/datasources: {err}", evidence)
    body = ds["body"] if isinstance(ds["body"], list) else []
    evidence["datasources"] = [
        {k: d.get(k) for k in ("uid", "name", "type", "url", "isDefault")} for d in body
    ]
    default = [d for d in body if d.get("isDefault")]
    if len(default) != 1:
        return Judgement("fail", f"{len(default)} default datasources, expected 1", evidence)
    d = default[0]
    want = obs["expected_url"].rstrip("/")
    if d.get("type") != "prometheus" or str(d.get("url", "")).rstrip("/") != want:
        return Judgement(
            "fail",
            f"default datasource {d.get('name')!r} is {d.get('type')} at {d.get('url')}, "
            f"expected prometheus at {want}",
            evidence,
        )
    want_uid = obs.get("expected_uid")
    if want_uid and d.get("uid") != want_uid:
        return Judgement(
            "fail", f"default datasource uid is {d.get('uid')!r}, expected {want_uid!r}", evidence
        )
    dh = obs.get("datasource_health", {"error": "no uid on the default datasource"})
    evidence["datasource_health"] = dh.get("body", dh)
    if dh.get("status") == 404:
        raise Unobservable("Grafana has no datasource health API (Grafana < 9)", evidence)
    if "error" in dh:
        return Judgement("fail", f"datasource health: {dh['error']}", evidence)
    dbody = dh.get("body") if isinstance(dh.get("body"), dict) else {}
    if dh.get("status") != 200 or dbody.get("status") != "OK":
        return Judgement(
            "fail",
            f"datasource {d.get('name')!r} health {dbody.get('status')}: {dbody.get('message')}",
            evidence,
        )
    text = f"Grafana ok; default datasource {d.get('name')!r} → {want} healthy"
    if "dashboard" in obs:
        db = obs["dashboard"]
        evidence["dashboard"] = {"uid": obs["dashboard_uid"], "status": db.get("status")}
        if (err := _err(db)) is not None:
            return Judgement(
                "fail", f"dashboard {obs['dashboard_uid']!r} not provisioned: {err}", evidence
            )
        text += f"; dashboard {obs['dashboard_uid']!r} provisioned"
    return Judgement("pass", text, evidence)


# -- H5: probe connectivity from inside the network --------------------------------------------


def expected_probe_urls(ctx: CheckContext) -> list[str]:
    opt = ctx.options.get("probe_expect")
    if opt:
        return [str(u).rstrip("/") for u in opt]
    urls: list[str] = []
    for name in ("cluster", "pd", "prometheus"):
        if name in ctx.network_endpoints:
            urls += ctx.urls(name, "network")
    return urls


def gather_probe(ctx: CheckContext) -> dict[str, Any]:
    if ctx.probe is None:
        raise Unobservable("no probe runner (the probe container was not started)")
    expected = expected_probe_urls(ctx)
    try:
        proc = ctx.probe()
    except (WorkbenchError, OSError, httpx.HTTPError) as exc:
        raise Unobservable(f"probe did not run: {exc}", {"expected": expected}) from exc
    except Exception as exc:  # e.g. subprocess.TimeoutExpired
        raise Unobservable(f"probe did not run: {type(exc).__name__}: {exc}") from exc
    return {"expected": expected, "returncode": proc.returncode, "stdout": proc.stdout or ""}


def _probe_json(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                doc = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(doc, dict) and isinstance(doc.get("targets"), dict):
                return doc
    try:
        doc = json.loads(stdout)
    except json.JSONDecodeError:
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get("targets"), dict) else None


def judge_probe(obs: Mapping[str, Any], options: Mapping[str, Any]) -> Judgement:
    """Every expected URL was reached from inside the network and answered."""
    doc = _probe_json(obs["stdout"])
    evidence: dict[str, Any] = {"returncode": obs["returncode"], "expected": obs["expected"]}
    if doc is None:
        evidence["stdout_tail"] = obs["stdout"][-1000:]
        raise Unobservable(f"probe printed no result (exit {obs['returncode']})", evidence)
    targets: dict[str, Any] = doc["targets"]
    evidence["targets"] = targets
    failed = [
        f"{u}: {t.get('error') or 'HTTP ' + str(t.get('status'))}"
        for u, t in targets.items()
        if not t.get("ok")
    ]
    if failed:
        return Judgement(
            "fail", "not reachable from inside the network: " + "; ".join(failed), evidence
        )
    missing = [e for e in obs["expected"] if not any(u.startswith(e) for u in targets)]
    if missing or not targets:
        raise Unobservable(f"probe did not try: {', '.join(missing) or 'anything'}", evidence)
    if obs["returncode"] != 0:
        return Judgement("fail", f"probe exited {obs['returncode']} though all answered", evidence)
    return Judgement("pass", f"{len(targets)} URLs answered from inside the network", evidence)


register(
    "prometheus_targets",
    "Prometheus has the expected targets of each job, all up",
    gather_targets,
    judge_targets,
)
register(
    "grafana",
    "Grafana healthy; default datasource is the stack's Prometheus and its health is OK",
    gather_grafana,
    judge_grafana,
)
register(
    "probe_connectivity",
    "the cluster API and Prometheus answer from inside the compose network",
    gather_probe,
    judge_probe,
    beside_traffic=True,  # a container start (~0.8 s) that needs no idle cluster
)

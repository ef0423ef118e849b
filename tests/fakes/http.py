"""Local HTTP servers serving PD and Grafana responses shaped as ../shared/specs/tikv-stack.md says.

`FakeServer(routes)` serves a dict {(METHOD, path): Response} on 127.0.0.1 in a thread;
`pd_routes(...)` and `grafana_routes(...)` build the routes for a healthy cluster, with knobs for
the failures the checks must catch (down stores, a 500 from /health, an unhealthy datasource, sizes
with and without the space, ids above 2^53).
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BIG_ID = 2**63 + 12345  # above 2^53: a float would lose the last digits


@dataclass
class Response:
    status: int = 200
    body: Any = None  # JSON-encoded unless bytes/str
    auth: tuple[str, str] | None = None  # require basic auth

    def encode(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


class FakeServer:
    def __init__(self, routes: dict[tuple[str, str], Response]) -> None:
        self.routes = routes
        self.requests: list[tuple[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                path = self.path.split("?", 1)[0]
                outer.requests.append((self.command, path))
                resp = outer.routes.get(
                    (self.command, path), Response(404, {"message": "Not found"})
                )
                if resp.auth is not None:
                    want = "Basic " + base64.b64encode(":".join(resp.auth).encode()).decode()
                    if self.headers.get("Authorization") != want:
                        resp = Response(401, {"message": "Invalid username or password"})
                data = resp.encode()
                self.send_response(resp.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _serve
            do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def pd_store(i: int, state: str = "Up", spaced_sizes: bool = False) -> dict[str, Any]:
    sp = " " if spaced_sizes else ""
    store: dict[str, Any] = {
        "id": i,
        "address": f"tikv{i - 1}:20160",
        "version": "8.5.5",
        "status_address": f"tikv{i - 1}:20180",
        "git_hash": "0f0c5ed1f7b9d1c8f6d3f7e0f1a1a5b3f8d6c2e1",
        "start_timestamp": 1769292000,
        "deploy_path": "/",
        "last_heartbeat": 1769314518898123456,
        "state_name": state,
    }
    if state != "Up":
        store["state"] = {"Offline": 1, "Tombstone": 2}.get(state, 0)
    return {
        "store": store,
        "status": {
            "capacity": f"195{sp}GiB",
            "available": f"183.1{sp}GiB",
            "used_size": f"33.11{sp}MiB",
            "leader_count": 7,
            "leader_weight": 1,
            "leader_score": 7,
            "leader_size": 7,
            "region_count": 21,
            "region_weight": 1,
            "region_score": 21.03,
            "region_size": 21,
            "start_ts": "2026-01-24T22:00:00Z",
            "last_heartbeat_ts": "2026-01-25T04:15:18.898123456Z",
            "uptime": "6h15m18.898123456s",
        },
    }


def pd_routes(
    *,
    stores: list[str] | None = None,
    health_status: int = 200,
    unhealthy_pd: str | None = None,
    initialized: bool = True,
    spaced_sizes: bool = False,
    stores_body: Any = None,
) -> dict[tuple[str, str], Response]:
    """Routes of a PD leader for a 3 PD + 3 TiKV cluster (default: all healthy and Up)."""
    states = stores if stores is not None else ["Up", "Up", "Up"]
    members = [
        {
            "name": f"pd{i}",
            "member_id": BIG_ID + i,
            "peer_urls": [f"http://pd{i}:2380"],
            "client_urls": [f"http://pd{i}:2379"],
            "binary_version": "v8.5.5",
            "git_hash": "a1b2c3d4",
        }
        for i in range(3)
    ]
    health = [
        {
            "name": m["name"],
            "member_id": m["member_id"],
            "client_urls": m["client_urls"],
            "health": m["name"] != unhealthy_pd,
        }
        for m in members
    ]
    base = "/pd/api/v1"
    store_list = [pd_store(i + 1, s, spaced_sizes) for i, s in enumerate(states)]
    return {
        ("GET", f"{base}/health"): Response(
            health_status,
            health if health_status == 200 else "[PD:server:ErrUnhealthy]unhealthy member",
        ),
        ("GET", f"{base}/ping"): Response(200, None),
        ("GET", f"{base}/stores"): Response(
            200,
            stores_body
            if stores_body is not None
            else {"count": len(store_list), "stores": store_list},
        ),
        ("GET", f"{base}/members"): Response(
            200,
            {
                "header": {"cluster_id": BIG_ID - 1},
                "members": members,
                "leader": members[0],
                "etcd_leader": members[0],
            },
        ),
        ("GET", f"{base}/leader"): Response(200, members[0]),
        ("GET", f"{base}/cluster/status"): Response(
            200,
            {
                "raft_bootstrap_time": "2026-01-24T22:00:01.123456789Z",
                "is_initialized": initialized,
                "replication_status": {"state": "NORMAL"},
            },
        ),
        ("GET", f"{base}/regions/count"): Response(200, {"count": 21}),
        ("GET", f"{base}/version"): Response(200, {"version": "v8.5.5"}),
    }


def grafana_routes(
    *,
    prometheus_url: str = "http://prometheus:9090",
    ds_health: str = "OK",
    ds_health_route: bool = True,
    database: str = "ok",
    default: bool = True,
    auth: tuple[str, str] = ("admin", "admin"),
) -> dict[tuple[str, str], Response]:
    uid = "prometheus-wb"
    ds = [
        {
            "id": 1,
            "uid": uid,
            "orgId": 1,
            "name": "Prometheus",
            "type": "prometheus",
            "typeName": "Prometheus",
            "access": "proxy",
            "url": prometheus_url,
            "user": "",
            "database": "",
            "basicAuth": False,
            "isDefault": default,
            "jsonData": {"httpMethod": "POST"},
            "readOnly": True,
        }
    ]
    routes = {
        ("GET", "/api/health"): Response(
            200, {"commit": "8a1b2c3", "database": database, "version": "11.4.0"}
        ),
        ("GET", "/api/datasources"): Response(200, ds, auth=auth),
    }
    if ds_health_route:
        ok = ds_health == "OK"
        routes[("GET", f"/api/datasources/uid/{uid}/health")] = Response(
            200 if ok else 400,
            {
                "status": ds_health,
                "message": "Successfully queried the Prometheus API."
                if ok
                else 'Post "http://prometheus:9090/api/v1/query": dial tcp: lookup prometheus',
            },
            auth=auth,
        )
    return routes

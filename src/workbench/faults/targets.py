"""Which service a fault hits: the manifest's `[faults]` table and resolution at injection time.

A manifest says which services may be targeted and how a leader is found (no Python per subject):

    [faults]
    targets = ["etcd0", "etcd1", "etcd2"]
    [faults.leader]
    kind = "etcd"                        # etcd | pd
    members = { etcd0 = "http://127.0.0.1:${WB_ETCD0_PORT}", ... }   # service -> API URL (host)

Target names: a service of `targets`, `random` (seeded, drawn from `targets`), and the roles of
the leader kind: etcd → `leader`, `follower` (from each member's `POST /v3/maintenance/status`:
header.member_id and leader); pd → `pd-leader`, `pd-follower` (`GET /pd/api/v1/leader`, whose
`name` is the PD service) and `tikv-most-leaders` (`GET /pd/api/v1/stores`, the store with the
highest leader_count; its address host is the TiKV service). Roles are looked up at the moment
of injection through the cluster room's clients over an httpx client passed in. What lives
elsewhere: the cluster's API (workbench.cluster), acting on the container (actions.py), parsing
the schedule (schedule.py).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from workbench.cluster.etcd import EtcdCluster
from workbench.cluster.pd import PDCluster, most_leaders
from workbench.errors import ClusterError, ConfigError

ROLES: dict[str, tuple[str, ...]] = {
    "etcd": ("leader", "follower"),
    "pd": ("pd-leader", "pd-follower", "tikv-most-leaders"),
}
RANDOM = "random"


class LeaderConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["etcd", "pd"]
    members: dict[str, str] = Field(min_length=1)  # service -> URL template (${ENV} allowed)


class ProbeConfig(BaseModel):
    """`[faults.probe]`: the independent availability probe of a faulted run (it runs whenever
    `[faults.leader]` names the cluster's members): its tick, its deadline, and which of
    `server_counters` counts leader changes (the server's own time of the new leader)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    enabled: bool = True
    every_s: float = Field(default=0.1, gt=0)
    deadline_s: float = Field(default=0.5, gt=0)
    leader_counter: str | None = None


class FaultsConfig(BaseModel):
    """A manifest's `[faults]` table."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    targets: list[str] = Field(default_factory=list)
    leader: LeaderConfig | None = None
    # the server's own view of each fault: name → a raw counter selector (no rate, no sum), its
    # increase over the fault and the 10 s after it goes to faults.json (leader changes, ...)
    server_counters: dict[str, str] = Field(default_factory=dict)
    probe: ProbeConfig = Field(default_factory=ProbeConfig)

    @model_validator(mode="after")
    def _members_are_targets(self) -> FaultsConfig:
        counter = self.probe.leader_counter
        if counter is not None and counter not in self.server_counters:
            raise ValueError(f"probe.leader_counter {counter!r} is not in server_counters")
        if self.leader is not None:
            stray = sorted(set(self.leader.members) - set(self.targets))
            if stray:
                raise ValueError(f"leader members not in targets: {stray}")
        return self

    @classmethod
    def from_table(cls, table: Mapping[str, Any] | None, source: str = "manifest") -> FaultsConfig:
        """From the raw TOML table (None: a subject without faults: nothing may be targeted)."""
        try:
            return cls.model_validate(dict(table or {}))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'faults'}: {e['msg']}"
                for e in exc.errors()
            )
            raise ConfigError(f"{source}: [faults] {problems}") from exc

    def roles(self) -> tuple[str, ...]:
        return ROLES[self.leader.kind] if self.leader else ()

    def allowed(self) -> list[str]:
        """Every target name a schedule may use."""
        extra = [RANDOM] if self.targets else []
        return [*self.targets, *self.roles(), *extra]

    def member_urls(self, resolve: Callable[[str], str]) -> dict[str, str]:
        """service -> URL with the run's ports filled in (resolve: Manifest.resolve + ports)."""
        if self.leader is None:
            return {}
        return {s: resolve(u).rstrip("/") for s, u in self.leader.members.items()}


@dataclass(frozen=True)
class Resolution:
    service: str
    how: str  # "service" | "random" | a role
    evidence: dict[str, Any]


class TargetResolver:
    """Resolves a target name to a service now. `urls`: service -> member API URL (host side)."""

    def __init__(
        self,
        config: FaultsConfig,
        urls: Mapping[str, str],
        http: httpx.Client,
        seed: int,
        *,
        retry_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.retry_s, self.clock, self.sleep = retry_s, clock, sleep
        self.config = config
        self.urls = dict(urls)
        self.http = http
        self.seed = seed
        self.rng = random.Random(seed)

    def resolve(self, target: str) -> Resolution:
        if target in self.config.targets:
            return Resolution(target, "service", {})
        if target == RANDOM and self.config.targets:
            choice = self.rng.choice(sorted(self.config.targets))
            return Resolution(choice, RANDOM, {"seed": self.seed})
        if target in self.config.roles():
            return self._role_retried(target)
        raise ConfigError(f"unknown fault target {target!r}; valid: {self.config.allowed()}")

    def _role_retried(self, role: str) -> Resolution:
        """A role, asked again for up to retry_s while no member can tell (an election)."""
        deadline = self.clock() + self.retry_s
        while True:
            try:
                return self._role(role)
            except ClusterError:
                if self.clock() >= deadline:
                    raise
                self.sleep(0.2)

    def _role(self, role: str) -> Resolution:
        if role in ("leader", "follower"):
            found = EtcdCluster(self.http, self.urls).leader()
            leader, ev = found.service, found.evidence()
        elif role == "tikv-most-leaders":
            store, ev = most_leaders(PDCluster(self.http, self.urls).any(lambda c: c.stores()))
            return Resolution(store.service, role, ev)
        else:
            pd = PDCluster(self.http, self.urls).any(lambda c: c.leader())
            leader, ev = pd.name, {"member_id": pd.member_id}
        if role.endswith("follower"):
            others = sorted(s for s in self.urls if s != leader)
            if not others:
                raise ClusterError(f"no follower: every member is the leader {leader}")
            return Resolution(self.rng.choice(others), role, {**ev, "leader": leader})
        return Resolution(leader, role, ev)

"""The cluster's membership over a run, from the cluster's own API: one ROUND per second, each
member healthy or not, in the member list or not, voting or not, the leader or not.

- etcd: each member's `/health` and status (its leader), and the member list from the first
  member that answers (a member missing from it is out of the cluster; a learner is not voting).
- PD/TiKV: the stores PD reports (Up is healthy; Tombstone and Offline are out of the cluster);
  the PD member list says nothing of the data: the stores are the cluster a client reads.

`MembershipSampler` runs the rounds on a daemon thread between `start()` and `stop()`; a round
that fails is kept as an error sample per member (healthy False, `error` why): a cluster that
cannot be asked is not seen whole. Nothing raises into the run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from workbench.cluster.etcd import EtcdCluster
from workbench.cluster.pd import PDCluster
from workbench.errors import ClusterError
from workbench.operator.contract import MembershipSample

Round = Callable[[float], list[MembershipSample]]
EVERY_S = 1.0
OUT_OF_CLUSTER = frozenset({"Tombstone", "Offline"})  # PD store states no longer serving


def etcd_round(cluster: EtcdCluster) -> Round:
    """One etcd round at time `t`: health and status of every member, the member list once."""

    def one(t: float) -> list[MembershipSample]:
        statuses = cluster.statuses()
        healthy: dict[str, bool] = {}
        for name, client in cluster.members.items():
            try:
                healthy[name] = client.health().healthy
            except ClusterError:
                healthy[name] = False
        try:
            listed = {m.name: m for m in cluster.member_list()}
            problem = None
        except ClusterError as exc:
            listed, problem = {}, str(exc).splitlines()[0][:200]
        out = []
        for name in cluster.members:
            st, m = statuses.get(name), listed.get(name)
            out.append(
                MembershipSample(
                    t=t,
                    member=name,
                    healthy=healthy[name],
                    # no list at all: nobody answered; the member cannot be seen in the cluster
                    in_cluster=m is not None,
                    voting=m is not None and not m.is_learner,
                    is_leader=bool(st is not None and st.is_leader),
                    error=problem if m is None else None,
                )
            )
        return out

    return one


def pd_round(cluster: PDCluster, expected: list[str] | None = None) -> Round:
    """One PD round: every store PD knows (by its service), and each `expected` store PD has
    lost from its list entirely (out of the cluster)."""

    def one(t: float) -> list[MembershipSample]:
        try:
            stores = cluster.any(lambda c: c.stores())
        except ClusterError as exc:
            why = str(exc).splitlines()[0][:200]
            return [
                MembershipSample(t=t, member=s, healthy=False, in_cluster=False, error=why)
                for s in expected or []
            ]
        seen = {s.service: s for s in stores}
        out = [
            MembershipSample(
                t=t,
                member=name,
                healthy=s.state_name == "Up",
                in_cluster=s.state_name not in OUT_OF_CLUSTER,
                voting=s.state_name not in OUT_OF_CLUSTER,
            )
            for name, s in sorted(seen.items())
        ]
        for name in expected or []:
            if name not in seen:
                out.append(MembershipSample(t=t, member=name, healthy=False, in_cluster=False))
        return out

    return one


class MembershipSampler:
    """Rounds every `every_s` on a daemon thread; `stop()` takes one last round and returns all."""

    def __init__(
        self,
        round_: Round,
        *,
        every_s: float = EVERY_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.round, self.every_s, self.clock = round_, every_s, clock
        self.samples: list[MembershipSample] = []
        self.errors = 0  # rounds that raised (an unexpected failure of the round itself)
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="membership", daemon=True)

    def start(self) -> MembershipSampler:
        self._thread.start()
        return self

    def take(self) -> None:
        """One round now (its samples share the round's start time)."""
        t = self.clock()
        try:
            got = self.round(t)
        except Exception as exc:  # a round must never end the sampling
            self.errors += 1
            self.last_error = f"{type(exc).__name__}: {exc}"[:300]
            return
        with self._lock:
            self.samples.extend(got)

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self.take()
            self._stop.wait(max(0.0, self.every_s - (time.monotonic() - started)))

    def stop(self) -> list[MembershipSample]:
        """Stop the rounds, take a last one (the cluster as the phase left it), return all."""
        if not self._stop.is_set():
            self._stop.set()
            if self._thread.is_alive():
                self._thread.join(self.every_s + 10.0)
            self.take()
        with self._lock:
            return list(self.samples)

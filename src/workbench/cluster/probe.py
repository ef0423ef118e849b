"""An availability probe independent of the workload: small, open-loop, from the host.

Every `every_s` (100 ms) a tick starts one ATTEMPT per target in a worker pool, never waiting
for the previous tick's attempts: a request that hangs costs its own deadline, not the next tick.
The targets are each member and `cluster`, the client's view of the whole endpoint list (sticky
on the member that last answered, moving on when one cannot be reached, all within one deadline;
an answer, even an error, is final, as in the workload's binding). Each attempt is recorded per
operation: `Sample(t, target, attempt, op, ok, error, latency_s)` with t in unix seconds (the run
layer puts it on the run phase's clock) and `error` a ClusterError class (timeout, refused,
transport, http, server, unreadable) or `deadline` (an answer later than the deadline).

- etcd (`EtcdProber`): a lease grant then its revoke, each a Raft proposal through the leader
  with the deadline (500 ms), through the v3 JSON gateway; an attempt served = both answered in
  time. Not a KV put/get: the server counts KV requests to check the workload's own counts
  (counts_agree, series_aligned), and the probe's would be mixed into them.
- PD (`PDProber`): `GET /pd/api/v1/leader`: PD could name its leader. TiKV's KV API is gRPC, so
  this probe tells whether PD (the cluster's placement and timestamp service) served, not
  whether TiKV served reads and writes (`PDProber.scope` says so in faults.json).

The numbers drawn from the samples are workbench.faults.availability's (pure).
"""

from __future__ import annotations

import functools
import itertools
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import httpx

from workbench.cluster.etcd import EtcdClient
from workbench.cluster.pd import PDClient
from workbench.errors import ClusterError, ClusterUnreachable

CLUSTER = "cluster"  # the target that is the whole endpoint list
EVERY_S = 0.1
DEADLINE_S = 0.5
LEASE_TTL_S = 5  # a lease whose revoke was lost expires on its own


@dataclass(frozen=True)
class Sample:
    t: float  # when the operation started (unix s)
    target: str
    attempt: int  # the tick's number: the operations of one attempt share it
    op: str
    ok: bool
    error: str | None
    latency_s: float


OpResult = tuple[str, bool, str | None, float]  # op, ok, error class, latency


class Prober(Protocol):
    """One attempt against one target: its operations in order (op, ok, error, latency)."""

    scope: str

    def targets(self) -> list[str]: ...

    def attempt(self, target: str, seq: int) -> list[OpResult]: ...


def _timed(do: Callable[[], object], deadline_s: float) -> tuple[bool, str | None, float]:
    start = time.perf_counter()
    try:
        do()
    except ClusterError as exc:
        return False, exc.error_class, time.perf_counter() - start
    took = time.perf_counter() - start
    return (True, None, took) if took <= deadline_s else (False, "deadline", took)


class _Sticky:
    """The `cluster` target: members in order from the last one that answered."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names, self.index, self.lock = list(names), 0, threading.Lock()

    def order(self) -> list[str]:
        with self.lock:
            i = self.index
        return self.names[i:] + self.names[:i]

    def served_by(self, name: str) -> None:
        with self.lock:
            self.index = self.names.index(name)


class EtcdProber:
    scope = (
        "etcd: a lease grant then its revoke (two Raft proposals: a leader and a quorum "
        "needed; the Lease service, so the workload's KV counts stay its own), per member and "
        "through the endpoint list"
    )

    def __init__(self, http: httpx.Client, urls: Mapping[str, str], deadline_s: float = DEADLINE_S):
        self.deadline_s = deadline_s
        timeout = httpx.Timeout(deadline_s)
        self.clients = {s: EtcdClient(http, u, timeout=timeout) for s, u in urls.items()}
        self.sticky = _Sticky(list(urls))

    def targets(self) -> list[str]:
        return [*self.clients, CLUSTER]

    def _revoke(self, client: EtcdClient, lease: int) -> OpResult:
        return ("revoke", *_timed(functools.partial(client.lease_revoke, lease), self.deadline_s))

    def attempt(self, target: str, seq: int) -> list[OpResult]:
        start = time.perf_counter()
        names = [target] if target != CLUSTER else self.sticky.order()
        last: ClusterError | None = None
        for name in names:  # the endpoint list: failover within one deadline, as a client would
            left = self.deadline_s - (time.perf_counter() - start)
            if left <= 0:
                break
            client = EtcdClient(self.clients[name].http, self.clients[name].url, timeout=left)
            try:
                lease = client.lease_grant(LEASE_TTL_S)
            except ClusterUnreachable as exc:
                last = exc
                continue
            except ClusterError as exc:  # an answer is final
                return [("grant", False, exc.error_class, time.perf_counter() - start)]
            took = time.perf_counter() - start
            if target == CLUSTER:
                self.sticky.served_by(name)
            if took > self.deadline_s:
                return [("grant", False, "deadline", took), self._revoke(self.clients[name], lease)]
            return [("grant", True, None, took), self._revoke(self.clients[name], lease)]
        err = last.error_class if last is not None else "deadline"
        return [("grant", False, err, time.perf_counter() - start)]


class PDProber:
    scope = (
        "pd: GET /pd/api/v1/leader per PD member and through the PD list; TiKV's KV API is "
        "gRPC, so this tells whether PD named a leader, not whether TiKV served reads and writes"
    )

    def __init__(self, http: httpx.Client, urls: Mapping[str, str], deadline_s: float = DEADLINE_S):
        self.deadline_s = deadline_s
        timeout = httpx.Timeout(deadline_s)
        self.clients = {s: PDClient(http, u, timeout=timeout) for s, u in urls.items()}
        self.sticky = _Sticky(list(urls))

    def targets(self) -> list[str]:
        return [*self.clients, CLUSTER]

    def attempt(self, target: str, seq: int) -> list[OpResult]:
        if target != CLUSTER:
            return [("leader", *_timed(self.clients[target].leader, self.deadline_s))]
        start = time.perf_counter()
        err: str | None = "deadline"
        for name in self.sticky.order():
            ok, err, _ = _timed(self.clients[name].leader, self.deadline_s)
            if ok or err not in ("refused", "transport", "timeout"):
                if ok:
                    self.sticky.served_by(name)
                took = time.perf_counter() - start
                if ok and took > self.deadline_s:
                    return [("leader", False, "deadline", took)]
                return [("leader", ok, err, took)]
            if time.perf_counter() - start >= self.deadline_s:
                break
        return [("leader", False, err, time.perf_counter() - start)]


class AvailabilityProbe:
    """Ticks every `every_s` on `clock` (unix s) from `start()` until `stop()`; `samples()`
    returns every operation recorded so far, in order of start."""

    def __init__(
        self,
        prober: Prober,
        *,
        every_s: float = EVERY_S,
        deadline_s: float = DEADLINE_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.prober, self.every_s, self.deadline_s, self.clock = prober, every_s, deadline_s, clock
        self._samples: list[Sample] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ticks = 0
        self.skipped = 0  # ticks the loop was too late for (a starved host): never bursts
        # an attempt may take two deadlines (write, read): enough workers for every tick in flight
        in_flight = math.ceil(2 * deadline_s / every_s) + 2
        self._pool = ThreadPoolExecutor(
            len(prober.targets()) * in_flight, thread_name_prefix="probe"
        )

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="probe-ticks", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        origin = time.monotonic()
        for k in itertools.count():
            due = origin + k * self.every_s
            late = time.monotonic() - due
            if late >= self.every_s:  # a tick we missed is skipped, not made up in a burst
                self.skipped += 1
                continue
            if late < 0 and self._stop.wait(-late):
                return
            if self._stop.is_set():
                return
            self.ticks += 1
            for target in self.prober.targets():
                self._pool.submit(self._one, target, k)

    def _one(self, target: str, seq: int) -> None:
        t = self.clock()
        rows, at = [], t
        for op, ok, err, lat in self.prober.attempt(target, seq):
            rows.append(Sample(at, target, seq, op, ok, err, lat))
            at += lat
        with self._lock:
            self._samples.extend(rows)

    def stop(self) -> list[Sample]:
        """Stop ticking, wait for the attempts in flight (each bounded by its deadlines)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
        self._pool.shutdown(wait=True, cancel_futures=False)
        return self.samples()

    def samples(self) -> list[Sample]:
        with self._lock:
            return sorted(
                self._samples, key=lambda s: (s.t, s.target, s.op not in ("write", "grant"))
            )


PROBERS: dict[str, Callable[[httpx.Client, Mapping[str, str], float], Prober]] = {
    "etcd": EtcdProber,
    "pd": PDProber,
}


def prober_for(
    kind: str, http: httpx.Client, urls: Mapping[str, str], deadline_s: float = DEADLINE_S
) -> Prober:
    """The prober of a cluster kind (a manifest's `[faults.leader] kind`)."""
    try:
        make = PROBERS[kind]
    except KeyError:
        raise ValueError(f"no availability probe for {kind!r}; valid: {sorted(PROBERS)}") from None
    return make(http, urls, deadline_s)


def probe_http(
    prober_targets: int, every_s: float = EVERY_S, deadline_s: float = DEADLINE_S
) -> httpx.Client:
    """An httpx client with a connection for every attempt that may be in flight."""
    n = prober_targets * (math.ceil(2 * deadline_s / every_s) + 2)
    return httpx.Client(
        timeout=deadline_s, limits=httpx.Limits(max_connections=n, max_keepalive_connections=n)
    )

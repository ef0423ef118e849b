"""Several worker processes for one phase, when one Python process would be the limit.

One process runs its threads under one GIL: about one core. ``processes=N`` (or ``auto``) splits a
phase over N child processes, each a `ThreadWorkers` of its share of the threads; this process
prints and writes everything, so the output is one run's, as go-ycsb's:

- threads are split as evenly as they go, with their global numbers (the random streams and the
  etcd endpoint each thread starts on are the same as in one process);
- the operation count is split by thread as one process would; the target rate by thread share;
- a load phase gets disjoint key ranges (``insertstart``/``insertcount`` per child);
- every child starts its clock at the same instant (``perf_counter_ns`` is CLOCK_MONOTONIC, one
  clock for every process of the host): the children come up and open their bindings first
  (during the start gate's wait), then all get the one start time;
- at each status tick this process asks every child for its cumulative bucket counts (a pipe
  round trip, well under the 1 ms resolution of the interval log), merges them, and prints the
  status block and writes the interval of ``<phase>.hlog`` / the CSV from the merged counts, as
  one process does from its threads' recorders. The final block is the children's final counts
  merged; failed operations, retries and completions per 100 ms add up.

A run phase that inserts, or walks one shared key order (``sequential``, ``latest``), stays in
one process (``ycsbprops.single_process_reason``). ``auto``: as many processes as usable cores
(affinity and the cgroup's CPU quota), never more than threads, and one per
``MIN_OPS_PER_PROCESS`` operations (a short phase is not worth starting processes for).
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from workbench.errors import ParameterError, WorkloadError
from workbench.params.ycsbprops import single_process_reason
from workbench.ycsb.native import measure as m
from workbench.ycsb.native.bindings import create_binding
from workbench.ycsb.native.policy import request_policy
from workbench.ycsb.native.props import Props
from workbench.ycsb.native.worker import Outcome, ThreadWorkers
from workbench.ycsb.native.workload import CoreWorkload, build_workload

MIN_OPS_PER_PROCESS = 20_000
READY_TIMEOUT_S = 120.0


def usable_cores(cgroup: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """Cores this process may run on: its affinity, bounded by a cgroup v2 CPU quota."""
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        quota, period = cgroup.read_text().split()[:2]
        if quota != "max":
            n = min(n, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, n)


def choose_processes(
    value: str, wl: CoreWorkload, props: Mapping[str, str], cores: int | None = None
) -> int:
    """`value` is ``auto`` or a count (validated by the property rules)."""
    v = value.strip().lower()
    if wl.phase == "run" and single_process_reason(props):
        return 1
    if v != "auto":
        return max(1, min(int(float(v)), wl.threads))
    cores = usable_cores() if cores is None else cores
    return max(1, min(cores, wl.threads, wl.op_count // MIN_OPS_PER_PROCESS))


@dataclass(frozen=True)
class Share:
    properties: dict[str, str]
    tid_base: int
    threads: int


def split(props: Mapping[str, str], wl: CoreWorkload, n: int) -> list[Share]:
    """Each child's properties: its threads, operations, target share, and (load) key range."""
    counts = wl.per_thread_counts()
    base, extra = divmod(wl.threads, n)
    out, tid, offset = [], 0, 0
    for i in range(n):
        t = base + (1 if i < extra else 0)
        ops = sum(counts[tid : tid + t])
        p = dict(props)
        p.update(processes="1", threadcount=str(t), operationcount=str(ops))
        if wl.target > 0:
            p["target"] = repr(wl.target * t / wl.threads)
        if wl.phase == "load":
            p["insertstart"] = str(wl.insert_start + offset)
            p["insertcount"] = str(ops)
            if wl.insert_start + wl.op_count > wl.record_count:
                p["recordcount"] = str(wl.insert_start + wl.op_count)
        out.append(Share(p, tid, t))
        tid, offset = tid + t, offset + ops
    return out


@dataclass
class _Child:
    share: Share
    proc: Any
    conn: Connection
    final: dict[str, m.Merged] | None = None
    outcome: Outcome | None = None
    last: dict[str, m.Merged] = field(default_factory=dict)


class ProcessWorkers:
    """The `Workers` of several child processes, seen from the parent (see the module doc)."""

    def __init__(
        self,
        db: str,
        properties: Mapping[str, str],
        phase: str,
        n: int,
        seed: int,
        emit: Callable[[str], None],
    ) -> None:
        self.wl = build_workload(properties, phase)
        self.db, self.phase, self.seed, self.emit = db, phase, seed, emit
        self.shares = split(properties, self.wl, n)
        self.children: list[_Child] = []
        self.stopping = False
        self._io = threading.Lock()
        self._lost: list[str] = []

    # ------------------------------------------------------------------ life cycle

    def launch(self) -> None:
        """Start the children and wait until each has its binding open (before the clock)."""
        if self.children:
            return
        # fork: the children need not import anything again (this process has no threads yet)
        ctx: Any = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        for share in self.shares:
            parent, child = ctx.Pipe()
            proc = ctx.Process(
                target=child_main,
                args=(child, self.db, share.properties, self.phase, self.seed, share.tid_base),
                name=f"ycsb-worker-{share.tid_base}",
                daemon=True,
            )
            proc.start()
            child.close()
            self.children.append(_Child(share, proc, parent))
        problems = []
        for c in self.children:
            msg = self._recv_kind(c, ("ready", "failed"), READY_TIMEOUT_S)
            if msg is None or msg[0] != "ready":
                problems.append(msg[1] if msg else "a worker process did not come up")
        if problems:
            self._end_all()
            raise WorkloadError(["worker processes"], None, "; ".join(problems))

    def start(self, start_ns: int, warm_end: int) -> None:
        self.launch()
        with self._io:
            for c in self.children:
                c.conn.send(("start", start_ns, warm_end))

    def request_stop(self) -> None:
        self.stopping = True
        with self._io:
            for c in self.children:
                if c.outcome is None:
                    self._send(c, ("stop",))

    def alive(self) -> int:
        with self._io:
            self._drain()
            return sum(c.share.threads for c in self.children if c.outcome is None)

    def wait(self, timeout: float) -> None:
        live = [c for c in self.children if c.outcome is None]
        if live:
            wait([c.conn for c in live] + [c.proc.sentinel for c in live], timeout)

    def snapshot(self) -> dict[str, m.Merged]:
        with self._io:
            live = [c for c in self.children if c.outcome is None]
            for c in live:
                self._send(c, ("snap",))
            for c in live:
                msg = self._recv_kind(c, ("snap", "done"), 10.0)
                if msg is not None and msg[0] == "snap":
                    c.last = msg[1]
            return m.merge_snapshots(
                c.final if c.final is not None else c.last for c in self.children
            )

    def outcome(self, stuck: int = 0) -> Outcome:
        """Everything the children did; a child still running now is given 3 s, then ended."""
        end = time.monotonic() + 3.0
        with self._io:
            for c in self.children:
                while c.outcome is None and time.monotonic() < end:
                    self._recv_kind(c, ("done",), max(0.0, end - time.monotonic()))
                if c.outcome is None:  # its threads are stuck: counted so, its counts so far
                    c.final, c.outcome = c.last, Outcome(stuck=c.share.threads)
        out = Outcome(stuck=0)
        ends = []
        for c in self.children:
            o = c.outcome or Outcome()
            out.ops_done += o.ops_done
            out.max_lag_ns = max(out.max_lag_ns, o.max_lag_ns)
            out.last_error = o.last_error or out.last_error
            out.stuck += o.stuck
            ends.append(o.end_ns)
            for src, dst in ((o.errors, out.errors), (o.retries, out.retries)):
                for k, v in src.items():
                    dst[k] = dst.get(k, 0) + v
            out.completions.extend(o.completions)
            out.raw_samples.extend(o.raw_samples)
        out.end_ns = max(ends) if ends and all(ends) else 0  # 0: someone did not end
        if self._lost:
            out.last_error = "; ".join(self._lost)
        self._end_all()
        return out

    def _end_all(self) -> None:
        for c in self.children:
            c.proc.join(timeout=1.0)
            if c.proc.is_alive():
                c.proc.terminate()
                c.proc.join(timeout=1.0)
            c.conn.close()

    # ------------------------------------------------------------------ messages (under _io)

    def _send(self, c: _Child, msg: tuple[Any, ...]) -> None:
        try:
            c.conn.send(msg)
        except (OSError, ValueError):
            self._gone(c)

    def _handle(self, c: _Child, msg: tuple[Any, ...]) -> None:
        if msg[0] == "out":
            self.emit(msg[1])
        elif msg[0] == "done":
            c.final, c.outcome = msg[1], msg[2]

    def _gone(self, c: _Child) -> None:
        if c.outcome is None:
            code = c.proc.exitcode
            self._lost.append(f"worker process {c.share.tid_base} ended (exit {code}) early")
            c.final = c.final or c.last
            c.outcome = Outcome(stuck=0)

    def _recv_kind(
        self, c: _Child, kinds: tuple[str, ...], timeout: float
    ) -> tuple[Any, ...] | None:
        """The next message of one of `kinds` from `c`, handling the others on the way."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            try:
                if not c.conn.poll(max(0.0, min(left, 0.5))):
                    if not c.proc.is_alive() and not c.conn.poll(0):
                        self._gone(c)
                        return None
                    if left <= 0:
                        return None
                    continue
                msg = c.conn.recv()
            except (EOFError, OSError):
                self._gone(c)
                return None
            self._handle(c, msg)
            if msg[0] in kinds:
                return msg

    def _drain(self) -> None:
        for c in self.children:
            try:
                while c.outcome is None and c.conn.poll(0):
                    self._handle(c, c.conn.recv())
            except (EOFError, OSError):
                self._gone(c)
            if c.outcome is None and not c.proc.is_alive() and not c.conn.poll(0):
                self._gone(c)


def child_main(
    conn: Connection, db: str, props: dict[str, str], phase: str, seed: int, tid_base: int
) -> None:
    """One worker process: its share of the threads, answering the parent's pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us (a terminal's ^C too)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    lock = threading.Lock()

    def send(*msg: Any) -> None:
        with lock:
            conn.send(msg)

    try:
        wl = build_workload(props, phase)
        p = Props(props)
        binding = create_binding(db, p)
        attach = getattr(binding, "attach_output", None)
        if attach is not None:
            attach(lambda text: send("out", text))
        policy = request_policy(p, float(getattr(binding, "default_deadline_s", 0.0)))
        if p.problems:
            raise ParameterError(p.problems)
        workers = ThreadWorkers(
            wl,
            binding,
            seed,
            lambda text: send("out", text),
            policy=policy,
            silence=p.get_bool("silence", True),
            tid_base=tid_base,
        )
    except Exception as exc:
        send("failed", f"worker process {tid_base}: {type(exc).__name__}: {exc}")
        return
    send("ready")
    try:
        msg = conn.recv()
    except EOFError:
        msg = ("gone",)
    if msg[0] != "start":
        binding.close()
        return
    workers.start(msg[1], msg[2])
    stop_seen, stuck = 0.0, 0
    while alive := workers.alive():
        if conn.poll(0.05):
            try:
                msg = conn.recv()
            except EOFError:  # the parent went away
                msg = ("stop",)
            if msg[0] == "snap":
                send("snap", workers.snapshot())
            elif msg[0] == "stop":
                workers.request_stop()
        if workers.stopping:
            stop_seen = stop_seen or time.monotonic()
            if time.monotonic() - stop_seen > 10.0:
                stuck = alive
                break
    send("done", workers.snapshot(), workers.outcome(stuck))
    binding.close()

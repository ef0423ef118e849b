"""The worker threads of one process: their shared state, and one thread's operations.

`ThreadWorkers` runs a phase's threads in this process (``tid_base`` numbers them when several
processes share a phase) and keeps what they produce: the latency recorders, operations done,
the schedule's lag, failed operations by class and second, completions per 100 ms, retries, raw
samples. The client (`native.client`) prints and writes; this module only runs and counts. A
thread's operations are closures over its locals: that is the hot path.
"""

from __future__ import annotations

import contextlib
import random
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workbench.ycsb.native import measure as m
from workbench.ycsb.native.bindings import Binding, NotFound, Session, error_class
from workbench.ycsb.native.policy import RequestPolicy
from workbench.ycsb.native.workload import CoreWorkload, ValueSource

RMW = "READ_MODIFY_WRITE"
_OPS = ("READ", "UPDATE", "INSERT", "SCAN", "DELETE", RMW)
_ERR = {op: op + "_ERROR" for op in _OPS}
_INT = {op: op + "-INTENDED" for op in _OPS}
_NF = {op: op + "_NOTFOUND" for op in _OPS}
OK, FAILED, NOT_FOUND = 0, 1, 2  # an operation's outcome
Emit = Callable[[str], None]
IO_SWITCH_INTERVAL_S = 0.05  # sys.setswitchinterval for bindings that say `blocking_io`


@dataclass
class Outcome:
    """What a process's workers did, in plain data (it crosses a process boundary)."""

    ops_done: int = 0
    max_lag_ns: int = 0
    last_error: str | None = None
    stuck: int = 0
    end_ns: int = 0  # when the last thread ended (perf_counter_ns); 0 while one runs
    errors: dict[tuple[str, str, int], int] = field(default_factory=dict)  # op, class, second
    retries: dict[tuple[str, str, int], int] = field(default_factory=dict)  # op, class, second
    completions: list[dict[int, list[int]]] = field(default_factory=list)  # 100 ms -> [ok, err]
    raw_samples: list[list[tuple[str, int, int]]] = field(default_factory=list)


class ThreadWorkers:
    """A phase's worker threads in this process."""

    def __init__(
        self,
        wl: CoreWorkload,
        binding: Binding,
        seed: int,
        emit: Emit,
        *,
        policy: RequestPolicy | None = None,
        silence: bool = True,
        tid_base: int = 0,
    ) -> None:
        self.wl, self.binding, self.seed, self.emit = wl, binding, seed, emit
        self.policy = policy or RequestPolicy()
        self.silence, self.tid_base = silence, tid_base
        self.measurements = m.Measurements()
        self.stop_event = threading.Event()
        self.stopping = False
        self.ops_done = [0] * wl.threads
        self.max_lag_ns = [0] * wl.threads
        self.ended_ns = [0] * wl.threads
        self.last_error: str | None = None
        self.raw_samples: list[list[tuple[str, int, int]]] = []
        self.errors: dict[tuple[str, str, int], int] = {}
        self.retries: dict[tuple[str, str, int], int] = {}
        self.completions: list[dict[int, list[int]]] = []
        self.start_ns: int | None = None
        self.threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def start(self, start_ns: int, warm_end: int) -> None:
        if getattr(self.binding, "blocking_io", False):
            # threads that block on sockets give the GIL up on every call; the 5 ms default
            # interval only adds wake-ups: with 500 etcd writers it cost ~20% of the client's CPU
            # (12 context switches per operation at 5 ms, 4-7 at 50 ms)
            sys.setswitchinterval(max(sys.getswitchinterval(), IO_SWITCH_INTERVAL_S))
        self.start_ns = start_ns
        counts = self.wl.per_thread_counts()
        self.threads = [
            threading.Thread(
                target=self._worker,
                args=(i, counts[i], start_ns, warm_end),
                name=f"ycsb-{self.tid_base + i}",
                daemon=True,
            )
            for i in range(self.wl.threads)
        ]
        for t in self.threads:
            t.start()

    def request_stop(self) -> None:
        self.stopping = True
        self.stop_event.set()

    def alive(self) -> int:
        return sum(1 for t in self.threads if t.is_alive())

    def wait(self, timeout: float) -> None:
        """Block until a thread ends or `timeout` passes."""
        alive = [t for t in self.threads if t.is_alive()]
        if alive:
            alive[0].join(timeout=timeout)

    def snapshot(self) -> dict[str, m.Merged]:
        """Cumulative counts; TOTAL is added up here unless recorded (raw samples)."""
        return m.with_totals(self.measurements.snapshot())

    def outcome(self, stuck: int = 0) -> Outcome:
        return Outcome(
            ops_done=sum(self.ops_done),
            max_lag_ns=max(self.max_lag_ns, default=0),
            last_error=self.last_error,
            stuck=stuck,
            end_ns=max(self.ended_ns) if all(self.ended_ns) else 0,
            errors=dict(self.errors),
            retries=dict(self.retries),
            completions=[dict(c) for c in self.completions],
            raw_samples=self.raw_samples,
        )

    def _second(self) -> int:
        """The second of the run now, counted as the status lines do (the end of it)."""
        start = self.start_ns or time.perf_counter_ns()
        return int((time.perf_counter_ns() - start) // 1_000_000_000) + 1

    def note_error(self, op: str, exc: BaseException) -> None:
        self.last_error = f"{op}: {type(exc).__name__}: {exc}"
        key = (op, error_class(exc), self._second())
        with self._lock:
            self.errors[key] = self.errors.get(key, 0) + 1
        if not self.silence:
            self.emit(f"operation err: {exc}\n")

    def note_retry(self, op: str, cls: str) -> None:
        key = (op, cls, self._second())
        with self._lock:
            self.retries[key] = self.retries.get(key, 0) + 1

    def guarded(self, op: str, call: Callable[..., Any], sess: Session) -> Callable[..., Any]:
        """`call` under the request policy: itself when there is nothing to do (the hot path),
        else a wrapper that sets the deadline and retries the failures it may retry."""
        pol = self.policy
        set_deadline = getattr(sess, "set_deadline", None) if pol.deadline_s > 0 else None
        if pol.retries == 0 and set_deadline is None:
            return call
        perf, stop, retry_on = time.perf_counter_ns, self.stop_event, frozenset(pol.retry_on)
        span = int(pol.deadline_s * 1e9)
        rng = random.Random(self.seed ^ hash(op))

        def attempt(*args: Any) -> Any:
            deadline = perf() + span if span else 0
            tries = 0
            while True:
                if set_deadline is not None:
                    set_deadline(deadline)
                try:
                    return call(*args)
                except NotFound:
                    raise
                except Exception as exc:
                    cls = error_class(exc)
                    pause = pol.backoff_s * (0.8 + 0.4 * rng.random())
                    late = deadline and perf() + int(pause * 1e9) >= deadline
                    if tries >= pol.retries or cls not in retry_on or late or self.stopping:
                        raise
                    tries += 1
                    self.note_retry(op, cls)
                    stop.wait(pause)

        return attempt

    # ------------------------------------------------------------------ one worker thread

    def _worker(self, index: int, count: int, start_ns: int, warm_end: int) -> None:
        wl = self.wl
        tid = self.tid_base + index
        rng = random.Random(self.seed * 1_000_003 + tid)
        sess: Session = self.binding.session(tid)
        recorder = self.measurements.recorder()
        rec: Callable[[str, int, int], None] = recorder.record
        if wl.raw:
            samples: list[tuple[str, int, int]] = []
            self.raw_samples.append(samples)
            hist_rec = rec

            def raw_rec(op: str, lat: int, now: int) -> None:
                hist_rec(op, lat, now)
                samples.append((op, now - lat * 1000, lat))

            rec = raw_rec

        values = ValueSource(wl, rng)
        for_write = values.writer(rng)
        perf = time.perf_counter_ns
        table = wl.table
        key_name = wl.key_name
        next_keynum = wl.keynum_source()
        note = self.note_error
        integrity = wl.data_integrity
        err_name, int_name, nf_name = _ERR, _INT, _NF
        warm, raw = wl.warmup_s > 0, wl.raw
        counts, sums = recorder.counts, recorder.sums
        buckets: dict[int, list[int]] = {}  # 100 ms since the start -> [completed, failed]
        self.completions.append(buckets)
        read = self.guarded("READ", sess.read, sess)
        update = self.guarded("UPDATE", sess.update, sess)
        insert = self.guarded("INSERT", sess.insert, sess)
        scan = self.guarded("SCAN", sess.scan, sess)

        cur: list[int] = [0, 0]  # the 100 ms bucket of the last completion, until `cur_end`
        cur_end = 0

        def measure(op: str, t0: int, t1: int, ok: int, intended: int) -> None:
            nonlocal cur, cur_end
            if t1 >= cur_end:  # a thread's completions come in time order: one test per op
                b = (t1 - start_ns) // 100_000_000
                c = buckets.get(b)
                cur = buckets[b] = [0, 0] if c is None else c
                cur_end = start_ns + (b + 1) * 100_000_000
            cur[ok == FAILED] += 1  # a NOT_FOUND was answered: the service was available
            if warm and t1 < warm_end:
                return
            lat = (t1 - t0) // 1000
            if ok:  # FAILED or NOT_FOUND: only in <OP>_ERROR / <OP>_NOTFOUND
                rec((err_name if ok == FAILED else nf_name)[op], lat, t1)
                return
            if raw:  # TOTAL is the operations' sum (measure.with_totals), but for raw samples
                rec(op, lat, t1)
                if op != RMW:
                    rec("TOTAL", lat, t1)
            else:  # Recorder.record inlined: the hot path
                d = counts.get(op)
                if d is None:
                    recorder.record(op, lat, t1)
                else:
                    sums[op] += lat
                    if lat >= 2048:
                        shift = lat.bit_length() - 11
                        lat = (lat >> shift) << shift
                    d[lat] = d.get(lat, 0) + 1
            if intended:
                li = (t1 - intended) // 1000
                rec(int_name[op], li, t1)
                if raw and op != RMW:
                    rec("TOTAL-INTENDED", li, t1)

        def verify(key: str, got: Mapping[str, bytes]) -> None:
            for f, v in got.items():
                if v != wl.deterministic_value(key, f, wl.field_length):
                    raise ValueError(f"data integrity: unexpected value for {key}/{f}")

        names, nfields, all_fields = wl.field_names, wl.field_count, wl.read_all_fields

        def fields_for_read() -> list[str] | None:
            return None if all_fields else [names[int(rng.random() * nfields)]]

        def do_read(intended: int) -> bool:
            key = key_name(next_keynum(rng))
            ok = OK
            t0 = perf()
            try:
                got = read(table, key, None if all_fields else fields_for_read())
                if integrity:
                    verify(key, got)
            except NotFound:
                ok = NOT_FOUND
            except Exception as exc:
                ok = FAILED
                note("READ", exc)
            measure("READ", t0, perf(), ok, intended)
            return ok == OK

        def do_update(intended: int) -> bool:
            key = key_name(next_keynum(rng))
            vals = for_write(rng, key)
            ok = OK
            t0 = perf()
            try:
                update(table, key, vals)
            except NotFound:
                ok = NOT_FOUND
            except Exception as exc:
                ok = FAILED
                note("UPDATE", exc)
            measure("UPDATE", t0, perf(), ok, intended)
            return ok == OK

        def do_insert(intended: int) -> bool:
            seq = wl.insert_sequence
            keynum = seq.next()
            try:
                key = key_name(keynum)
                vals = values.all_fields(rng, key)
                ok = OK
                t0 = perf()
                try:
                    insert(table, key, vals)
                except NotFound:
                    ok = NOT_FOUND
                except Exception as exc:
                    ok = FAILED
                    note("INSERT", exc)
                measure("INSERT", t0, perf(), ok, intended)
            finally:
                seq.acknowledge(keynum)
            return ok == OK

        def do_load(intended: int) -> bool:
            key = key_name(wl.key_sequence.next())
            vals = values.all_fields(rng, key)
            retries = 0
            while True:
                ok = OK
                t0 = perf()
                try:
                    insert(table, key, vals)
                except NotFound:
                    ok = NOT_FOUND
                except Exception as exc:
                    ok = FAILED
                    note("INSERT", exc)
                measure("INSERT", t0, perf(), ok, intended)
                # core_workload_insertion_retry_limit: retry a failed load insert after
                # [0.8, 1.2) x the retry interval, as go-ycsb does
                if ok != FAILED or retries >= wl.insert_retry_limit or self.stopping:
                    return ok == OK
                retries += 1
                stop.wait(wl.insert_retry_interval_s * (0.8 + 0.4 * rng.random()))

        def do_scan(intended: int) -> bool:
            key = key_name(next_keynum(rng))
            n = wl.scan_length_gen.next(rng)
            ok = OK
            t0 = perf()
            try:
                scan(table, key, n, fields_for_read())
            except NotFound:
                ok = NOT_FOUND
            except Exception as exc:
                ok = FAILED
                note("SCAN", exc)
            measure("SCAN", t0, perf(), ok, intended)
            return ok == OK

        def do_rmw(intended: int) -> bool:
            key = key_name(next_keynum(rng))
            vals = for_write(rng, key)
            start = perf()
            ok = OK
            try:
                got = read(table, key, fields_for_read())
                if integrity:
                    verify(key, got)
            except NotFound:
                ok = NOT_FOUND
            except Exception as exc:
                ok = FAILED
                note("READ", exc)
            t1 = perf()
            measure("READ", start, t1, ok, intended)
            if ok == OK:
                try:
                    update(table, key, vals)
                except NotFound:
                    ok = NOT_FOUND
                except Exception as exc:
                    ok = FAILED
                    note("UPDATE", exc)
                measure("UPDATE", t1, perf(), ok, intended)
            measure(RMW, start, perf(), ok, intended)
            return ok == OK

        dispatch: dict[str, Callable[[int], bool]] = {
            "READ": do_read,
            "UPDATE": do_update,
            "INSERT": do_insert,
            "SCAN": do_scan,
            RMW: do_rmw,
        }
        choose = wl.operation_chooser.next_value
        load = wl.phase == "load"
        tick = wl.threads * 1e9 / wl.target if wl.target > 0 else 0.0
        sched0 = start_ns + (int(rng.random() * tick) if tick else 0)
        done = 0
        max_lag = 0
        stop = self.stop_event
        sleep = time.sleep
        ops_done = self.ops_done
        try:
            while done < count and not self.stopping:
                intended = 0
                if tick:
                    intended = sched0 + int(done * tick)
                    now = perf()
                    if intended > now:
                        delay = (intended - now) / 1e9
                        if delay < 0.05:
                            sleep(delay)
                        elif stop.wait(delay):
                            break
                    elif now - intended > max_lag:
                        max_lag = now - intended
                if load:
                    do_load(intended)
                else:
                    dispatch[choose(rng)](intended)
                done += 1
                ops_done[index] = done
        except Exception as exc:  # a bug in a binding's own bookkeeping: stop this thread
            self.note_error("worker", exc)
            self.emit(f"worker {tid} failed: {type(exc).__name__}: {exc}\n")
        finally:
            self.ended_ns[index] = perf()
            self.max_lag_ns[index] = max_lag
            with contextlib.suppress(Exception):
                sess.close()

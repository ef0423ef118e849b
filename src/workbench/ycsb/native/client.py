"""Run the core workload with N Python threads and print go-ycsb's output.

What it adds over go-ycsb: ``maxexecutiontime`` works, and with ``target`` every operation has an
intended start on a per-thread schedule; latency from that intended start is recorded as
``<OP>-INTENDED`` (and ``TOTAL-INTENDED``) beside the usual service time, and a ``TARGET`` line
says how far the achieved rate fell behind. Failed operations land only in ``<OP>_ERROR``, and
operations whose record did not exist (the binding raised ``NotFound``) only in ``<OP>_NOTFOUND``.
With ``measurement.interval_log`` / ``measurement.interval_csv`` set, every status tick also
writes that interval's own histograms (see ``native.intervals``); the status lines stay cumulative.
Failed operations are also counted by class (``bindings.error_class``: timeout, connection
refused, server error, other) per operation and per second of the run, in a JSON side file beside
the interval CSV (``<phase>.errors.json``, or ``measurement.error_classes``), so go-ycsb's output
stays as it is; the same file holds completions per 100 ms (successes, errors), from which a
fault's unavailability is measured at that resolution. The worker's operations stay closures over one thread's locals (the hot path),
which is why this module is nearly 500 lines.
"""

from __future__ import annotations

import contextlib
import json
import random
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import ParameterError
from workbench.ycsb.native import measure as m
from workbench.ycsb.native.bindings import (
    Binding,
    NotFound,
    Session,
    create_binding,
    error_class,
)
from workbench.ycsb.native.intervals import IntervalLog
from workbench.ycsb.native.props import Props
from workbench.ycsb.native.signals import sigint_stops
from workbench.ycsb.native.workload import CoreWorkload, ValueSource, build_workload
from workbench.ycsb.parser import format_go_duration
from workbench.ycsb.results import OpStats, TargetReport

__all__ = ["NativeClient", "RunReport", "sigint_stops"]

STAR_LINE = "*" * 46
RMW = "READ_MODIFY_WRITE"
_ERR = {op: op + "_ERROR" for op in ("READ", "UPDATE", "INSERT", "SCAN", "DELETE", RMW)}
_INT = {op: op + "-INTENDED" for op in ("READ", "UPDATE", "INSERT", "SCAN", "DELETE", RMW)}
_NF = {op: op + "_NOTFOUND" for op in ("READ", "UPDATE", "INSERT", "SCAN", "DELETE", RMW)}
OK, FAILED, NOT_FOUND = 0, 1, 2  # an operation's outcome


@dataclass
class RunReport:
    """What a native run produced (the same numbers it printed)."""

    final: list[OpStats]
    run_seconds: float
    ops_done: int
    stopped_early: bool
    target: TargetReport | None = None
    last_error: str | None = None
    stuck_threads: int = 0
    status_blocks: list[list[OpStats]] = field(default_factory=list)
    intervals: list[dict[str, Any]] = field(default_factory=list)
    error_classes: dict[str, dict[str, int]] = field(default_factory=dict)  # op -> class -> n


def _stdout_write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


class NativeClient:
    """One load or run phase. All validation happens in ``__init__``, before any operation."""

    def __init__(
        self,
        db: str,
        properties: Mapping[str, str],
        phase: str,
        *,
        write: Callable[[str], None] = _stdout_write,
        seed: int | None = None,
        start_gate: Callable[[], None] | None = None,
    ) -> None:
        """`start_gate`: called after the properties banner, before the clock starts and the
        first operation; it blocks until the run may begin (or raises to cancel it)."""
        self.properties = dict(properties)
        self.wl: CoreWorkload = build_workload(self.properties, phase)
        props = Props(self.properties)
        self.binding: Binding = create_binding(db, props)
        attach = getattr(self.binding, "attach_output", None)
        if attach is not None:
            attach(self._emit)
        if props.problems:
            raise ParameterError(props.problems)
        self.silence = props.get_bool("silence", True)
        self.write = write
        self.seed = seed if seed is not None else time.time_ns()
        self.measurements = m.Measurements()
        self._stop = threading.Event()
        self._stopping = False
        self._done = threading.Event()
        self._out_lock = threading.Lock()
        self._ops_done = [0] * self.wl.threads
        self._max_lag_ns = [0] * self.wl.threads
        self.last_error: str | None = None
        self._raw_samples: list[list[tuple[str, int, int]]] = []
        self._wall_offset_ns = time.time_ns() - time.perf_counter_ns()
        self.stop_reason: str | None = None
        self.start_gate = start_gate
        self._start_ns: int | None = None
        self._errors: dict[tuple[str, str, int], int] = {}  # (op, class, second) -> count
        self._completions: list[dict[int, list[int]]] = []  # per thread: 100 ms -> [ok, errors]
        self._err_lock = threading.Lock()

    # ------------------------------------------------------------------ control

    def request_stop(self, reason: str = "stop requested") -> None:
        """Finish the current operations and print the final block (SIGINT, time limit)."""
        if self.stop_reason is None:
            self.stop_reason = reason
        self._stopping = True
        self._stop.set()

    def _emit(self, text: str) -> None:
        if text:
            with self._out_lock:
                self.write(text)

    # ------------------------------------------------------------------ the run

    def run(self) -> RunReport:
        wl = self.wl
        banner = ["***************** properties *****************\n"]
        banner += [f'"{k}"="{v}"\n' for k, v in sorted(self.properties.items())]
        banner.append(STAR_LINE + "\n")
        self._emit("".join(banner))
        if self.start_gate is not None:
            self._emit("Waiting for the start line on stdin\n")
            self.start_gate()
        counts = wl.per_thread_counts()
        start_ns = self._start_ns = time.perf_counter_ns()
        ilog = self._interval_log(start_ns)
        warm_end = start_ns + int(wl.warmup_s * 1e9)
        threads = [
            threading.Thread(
                target=self._worker,
                args=(i, counts[i], start_ns, warm_end),
                name=f"ycsb-{i}",
                daemon=True,
            )
            for i in range(wl.threads)
        ]
        blocks: list[list[OpStats]] = []
        reporter = threading.Thread(
            target=self._reporter, args=(blocks, start_ns, ilog), daemon=True
        )
        reporter.start()
        for t in threads:
            t.start()
        stuck = self._wait(threads, start_ns)
        end_ns = time.perf_counter_ns()
        self._done.set()
        reporter.join(timeout=5)
        elapsed = (end_ns - start_ns) / 1e9
        if ilog is not None:  # the last, partial interval
            ilog.tick(self._cumulative(), elapsed)
            ilog.close()
        self._emit(f"{STAR_LINE}\nRun finished, takes {format_go_duration(elapsed)}\n")
        final = self.measurements.summary(end_ns)
        text = (
            m.raw_csv(self._raw_samples, self._wall_offset_ns)
            if wl.raw
            else m.render(final, wl.output_style)
        )
        if wl.output_file:
            with open(wl.output_file, "w", encoding="utf-8") as f:
                f.write(text)
        else:
            self._emit(text)
        ops_done = sum(self._ops_done)
        target = None
        if wl.target > 0:
            achieved = ops_done / elapsed if elapsed > 0 else 0.0
            lag_ms = max(self._max_lag_ns) / 1e6
            self._emit(m.render_target(wl.target, achieved, lag_ms))
            behind = max(0.0, (1 - achieved / wl.target) * 100)
            target = TargetReport(wl.target, achieved, behind, lag_ms)
        self.binding.close()
        classes = self._write_error_classes(elapsed)
        return RunReport(
            final=final,
            run_seconds=elapsed,
            ops_done=ops_done,
            stopped_early=self.stop_reason is not None,
            target=target,
            last_error=self.last_error,
            stuck_threads=stuck,
            status_blocks=blocks,
            intervals=ilog.rows if ilog is not None else [],
            error_classes=classes,
        )

    def _write_error_classes(self, elapsed: float) -> dict[str, dict[str, int]]:
        """Totals per operation and class; per second to the side file when there is one."""
        totals: dict[str, dict[str, int]] = {}
        for (op, cls, _), n in self._errors.items():
            totals.setdefault(op, {}).setdefault(cls, 0)
            totals[op][cls] += n
        csv = self.properties.get("measurement.interval_csv")
        path = self.properties.get("measurement.error_classes") or (
            str(Path(csv).with_name(Path(csv).name.split(".")[0] + ".errors.json")) if csv else ""
        )
        if path:
            rows = [
                {"t_s": float(sec), "operation": op, "class": cls, "count": n}
                for (op, cls, sec), n in sorted(self._errors.items(), key=lambda kv: kv[0][2])
            ]
            merged: dict[int, list[int]] = {}
            for per_thread in self._completions:
                for b, (ok, err) in per_thread.items():
                    c = merged.setdefault(b, [0, 0])
                    c[0], c[1] = c[0] + ok, c[1] + err
            done = [
                {"t_s": round((b + 1) / 10, 1), "ok": c[0], "errors": c[1]}
                for b, c in sorted(merged.items())
            ]
            doc = {"run_seconds": elapsed, "totals": totals, "per_second": rows,
                   "completions_100ms": done}  # fmt: skip
            Path(path).write_text(json.dumps(doc, indent=1), encoding="utf-8")
        return totals

    def _interval_log(self, start_ns: int) -> IntervalLog | None:
        wl = self.wl
        if not (wl.interval_log or wl.interval_csv):
            return None
        wall = (start_ns + self._wall_offset_ns) / 1e9
        ilog = IntervalLog(wl.interval_log, wl.interval_csv, wall)
        ilog.start_at(wl.warmup_s)
        return ilog

    def _cumulative(self) -> dict[str, dict[int, int]]:
        return {op: mg.counts for op, mg in self.measurements.snapshot().items()}

    def _wait(self, threads: list[threading.Thread], start_ns: int) -> int:
        """Join workers; enforce maxexecutiontime; give up on threads stuck 10 s after a stop."""
        limit = self.wl.max_execution_s
        deadline = start_ns + int(limit * 1e9) if limit > 0 else None
        stop_seen: int | None = None
        while True:
            alive = [t for t in threads if t.is_alive()]
            if not alive:
                return 0
            now = time.perf_counter_ns()
            if deadline is not None and now >= deadline and not self._stopping:
                self.request_stop(f"maxexecutiontime {limit:g}s reached")
            if self._stopping:
                stop_seen = stop_seen or now
                if now - stop_seen > 10_000_000_000:
                    self._emit("\nWait 10s for closed, force exit\n")
                    return len(alive)
            wait = 0.2
            if deadline is not None and not self._stopping:
                wait = min(wait, max(0.0, (deadline - now) / 1e9))
            alive[0].join(timeout=wait)

    def _reporter(
        self, blocks: list[list[OpStats]], start_ns: int, ilog: IntervalLog | None
    ) -> None:
        interval_ns = int(self.wl.interval_s * 1e9)
        # like go-ycsb, the status ticker starts when the warm-up ends
        if self.wl.warmup_s > 0 and self._done.wait(self.wl.warmup_s):
            return
        if self.wl.raw and ilog is None:  # go-ycsb prints no status blocks for raw measurements
            return
        origin = start_ns + int(self.wl.warmup_s * 1e9)
        k = 1
        while not self._done.wait(
            max(0.0, (origin + k * interval_ns - time.perf_counter_ns()) / 1e9)
        ):
            now = time.perf_counter_ns()
            k = max(k + 1, (now - origin) // interval_ns + 1)  # on the grid, skipping missed ticks
            merged = self.measurements.snapshot()
            if ilog is not None:
                ilog.tick({op: mg.counts for op, mg in merged.items()}, (now - start_ns) / 1e9)
            if self.wl.raw:
                continue
            rows = self.measurements.summary(now, merged)
            if rows:
                blocks.append(rows)
                self._emit(m.render(rows, self.wl.output_style))

    def _note_error(self, op: str, exc: BaseException) -> None:
        self.last_error = f"{op}: {type(exc).__name__}: {exc}"
        start = self._start_ns or time.perf_counter_ns()
        key = (op, error_class(exc), int((time.perf_counter_ns() - start) // 1_000_000_000) + 1)
        with self._err_lock:  # t_s as the status lines: the end of the second it fell in
            self._errors[key] = self._errors.get(key, 0) + 1
        if not self.silence:
            self._emit(f"operation err: {exc}\n")

    # ------------------------------------------------------------------ one worker thread

    def _worker(self, tid: int, count: int, start_ns: int, warm_end: int) -> None:
        wl = self.wl
        rng = random.Random(self.seed * 1_000_003 + tid)
        sess: Session = self.binding.session(tid)
        rec: Callable[[str, int, int], None] = self.measurements.recorder().record
        if wl.raw:
            samples: list[tuple[str, int, int]] = []
            self._raw_samples.append(samples)
            hist_rec = rec

            def raw_rec(op: str, lat: int, now: int) -> None:
                hist_rec(op, lat, now)
                samples.append((op, now - lat * 1000, lat))

            rec = raw_rec

        values = ValueSource(wl, rng)
        perf = time.perf_counter_ns
        table = wl.table
        key_name = wl.key_name
        next_keynum = wl.next_keynum
        note = self._note_error
        integrity = wl.data_integrity
        err_name, int_name, nf_name = _ERR, _INT, _NF
        warm = wl.warmup_s > 0
        buckets: dict[int, list[int]] = {}  # 100 ms since the start -> [completed, failed]
        self._completions.append(buckets)

        def measure(op: str, t0: int, t1: int, ok: int, intended: int) -> None:
            b = (t1 - start_ns) // 100_000_000
            c = buckets.get(b)
            if c is None:
                c = buckets[b] = [0, 0]
            c[ok == FAILED] += 1  # a NOT_FOUND was answered: the service was available
            if warm and t1 < warm_end:
                return
            lat = (t1 - t0) // 1000
            if ok:  # FAILED or NOT_FOUND: only in <OP>_ERROR / <OP>_NOTFOUND
                rec((err_name if ok == FAILED else nf_name)[op], lat, t1)
                return
            rec(op, lat, t1)
            if op != RMW:
                rec("TOTAL", lat, t1)
            if intended:
                li = (t1 - intended) // 1000
                rec(int_name[op], li, t1)
                if op != RMW:
                    rec("TOTAL-INTENDED", li, t1)

        def verify(key: str, got: Mapping[str, bytes]) -> None:
            for f, v in got.items():
                if v != wl.deterministic_value(key, f, wl.field_length):
                    raise ValueError(f"data integrity: unexpected value for {key}/{f}")

        def fields_for_read() -> list[str] | None:
            if wl.read_all_fields:
                return None
            return [wl.field_names[int(rng.random() * wl.field_count)]]

        def do_read(intended: int) -> bool:
            key = key_name(next_keynum(rng))
            ok = OK
            t0 = perf()
            try:
                got = sess.read(table, key, fields_for_read())
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
            vals = values.for_write(rng, key)
            ok = OK
            t0 = perf()
            try:
                sess.update(table, key, vals)
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
                    sess.insert(table, key, vals)
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
                    sess.insert(table, key, vals)
                except NotFound:
                    ok = NOT_FOUND
                except Exception as exc:
                    ok = FAILED
                    note("INSERT", exc)
                measure("INSERT", t0, perf(), ok, intended)
                # core_workload_insertion_retry_limit: retry a failed load insert after
                # [0.8, 1.2) x the retry interval, as go-ycsb does
                if ok != FAILED or retries >= wl.insert_retry_limit or self._stopping:
                    return ok == OK
                retries += 1
                stop.wait(wl.insert_retry_interval_s * (0.8 + 0.4 * rng.random()))

        def do_scan(intended: int) -> bool:
            key = key_name(next_keynum(rng))
            n = wl.scan_length_gen.next(rng)
            ok = OK
            t0 = perf()
            try:
                sess.scan(table, key, n, fields_for_read())
            except NotFound:
                ok = NOT_FOUND
            except Exception as exc:
                ok = FAILED
                note("SCAN", exc)
            measure("SCAN", t0, perf(), ok, intended)
            return ok == OK

        def do_rmw(intended: int) -> bool:
            key = key_name(next_keynum(rng))
            vals = values.for_write(rng, key)
            start = perf()
            ok = OK
            try:
                got = sess.read(table, key, fields_for_read())
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
                    sess.update(table, key, vals)
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
        stop = self._stop
        sleep = time.sleep
        try:
            while done < count and not self._stopping:
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
                self._ops_done[tid] = done
        except Exception as exc:  # a bug in a binding's own bookkeeping: stop this thread
            self._note_error("worker", exc)
            self._emit(f"worker {tid} failed: {type(exc).__name__}: {exc}\n")
        finally:
            self._max_lag_ns[tid] = max_lag
            with contextlib.suppress(Exception):
                sess.close()

"""The YCSB core workload: properties, key choice and the five operations.

Follows go-ycsb's ``pkg/workload/core.go``; where it deliberately differs it says so:
the operation count is split across threads with the remainder distributed (go-ycsb drops it),
a failed read-modify-write is recorded as ``READ_MODIFY_WRITE_ERROR``, and key choice never
returns a never-inserted key (go-ycsb's scrambled zipfian can, through a signed modulo). Key
strings are go-ycsb's (signed ``Hash64``, sign before the zero padding); ``keyhash=java`` gives
Java YCSB's instead.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial

from workbench.errors import ParameterError
from workbench.params.ycsbprops import (
    CHOICES,
    FIELD_LENGTH_DISTRIBUTIONS,
    INT32_MAX,
    REQUEST_DISTRIBUTIONS,
    SCAN_LENGTH_DISTRIBUTIONS,
    operation_mix,
    property_problems,
)
from workbench.ycsb.native import generators as g
from workbench.ycsb.native.props import Props

__all__ = [
    "FIELD_LENGTH_DISTRIBUTIONS",
    "INT32_MAX",
    "OPERATIONS",
    "REQUEST_DISTRIBUTIONS",
    "SCAN_LENGTH_DISTRIBUTIONS",
    "CoreWorkload",
    "ValueSource",
    "build_workload",
    "read_fields",
]
OPERATIONS = ("READ", "UPDATE", "INSERT", "SCAN", "READ_MODIFY_WRITE")
_LETTERS = (string.ascii_letters + string.digits).encode()
_TO_LETTERS = bytes(_LETTERS[i % len(_LETTERS)] for i in range(256))  # a random byte -> a letter


@dataclass
class CoreWorkload:
    """Validated core-workload settings plus the shared generators built from them."""

    phase: str
    table: str
    threads: int
    target: float
    op_count: int
    record_count: int
    insert_start: int
    insert_count: int
    field_count: int
    field_length: int
    field_names: list[str]
    read_all_fields: bool
    write_all_fields: bool
    data_integrity: bool
    hashed: bool
    key_prefix: str
    zero_padding: int
    key_hash: str
    request_distribution: str
    max_execution_s: float
    interval_s: float
    output_style: str
    warmup_s: float
    raw: bool
    output_file: str
    interval_log: str
    interval_csv: str
    insert_retry_limit: int
    insert_retry_interval_s: float
    operation_chooser: g.Discrete
    key_chooser: g.Generator
    key_sequence: g.Counter
    insert_sequence: g.AcknowledgedCounter
    field_length_gen: g.Generator
    scan_length_gen: g.Generator
    constant_length: bool

    def __post_init__(self) -> None:
        # one argument, one C-level cache lookup per operation (the hot path)
        self.key_name: Callable[[int], str] = lru_cache(maxsize=1 << 20)(
            partial(
                g.build_key_name,
                hashed=self.hashed,
                prefix=self.key_prefix,
                pad=self.zero_padding,
                rule=self.key_hash,
            )
        )

    def keynum_source(self) -> Callable[[random.Random], int]:
        """`next_keynum`, or the key chooser itself when it can never pass the acknowledged
        limit (a run that inserts nothing, a chooser bounded by the loaded range): one call less
        per operation."""
        ch = self.key_chooser
        bounded = isinstance(ch, g.Uniform | g.Hotspot | g.Sequential)
        inserts = any(op == "INSERT" for _, op in self.operation_chooser.thresholds)
        top = self.insert_start + self.insert_count - 1
        if bounded and not inserts and top <= self.insert_sequence.last():
            return ch.next
        return self.next_keynum

    def next_keynum(self, rng: random.Random) -> int:
        """A key number never above the acknowledged insert limit (go-ycsb's nextKeyNum)."""
        last = self.insert_sequence.last()
        if isinstance(self.key_chooser, g.Exponential):
            while True:
                k = last - self.key_chooser.next(rng)
                if k >= 0:
                    return k
        nxt = self.key_chooser.next
        k = nxt(rng)
        while k > last:
            k = nxt(rng)
        return k

    def per_thread_counts(self) -> list[int]:
        base, extra = divmod(self.op_count, self.threads)
        return [base + (1 if i < extra else 0) for i in range(self.threads)]

    def deterministic_value(self, key: str, field: str, size: int) -> bytes:
        """go-ycsb's dataintegrity value: ``key:field`` extended by FNV hashes, cut to size."""
        buf = bytearray(f"{key}:{field}".encode())
        while len(buf) < size:
            buf += b":"
            buf += str(g.bytes_hash64(bytes(buf)) & 0xFFFFFFFFFFFFFFFF).encode()
        return bytes(buf[:size])


def _choice(p: Props, name: str) -> str:
    """A choice property, lower-cased (its value was checked by property_problems)."""
    return p.get_str(name, CHOICES[name].default).strip().lower()


def build_workload(values: Mapping[str, str], phase: str) -> CoreWorkload:
    """Validate the properties for ``phase`` (load|run); every problem in one ``ParameterError``.

    The value rules are `workbench.params.ycsbprops` (the workbench checks runs with the same ones)."""
    p = Props(values)
    problems = property_problems(values, run_phase=phase == "run")
    if phase not in ("load", "run"):
        problems.append(f"phase must be load or run, not {phase!r}")
    threads = p.get_int("threadcount", 1)
    target = p.get_float("target", 0.0)
    record_count = p.get_int("recordcount", 0) or INT32_MAX
    insert_start = p.get_int("insertstart", 0)
    insert_count = p.get_int("insertcount", record_count - insert_start)
    if phase == "run":
        op_count = p.get_int("operationcount", 0)
    else:
        op_count = insert_count if p.has("insertcount") else p.get_int("recordcount", 0)
    field_count = p.get_int("fieldcount", 10)
    field_length = p.get_int("fieldlength", 100)
    fld, req, scl, insert_order, key_hash, style, mtype = (
        _choice(p, name)
        for name in (
            "fieldlengthdistribution",
            "requestdistribution",
            "scanlengthdistribution",
            "insertorder",
            "keyhash",
            "outputstyle",
            "measurementtype",
        )
    )
    data_integrity = p.get_bool("dataintegrity", False)
    min_scan = p.get_int("minscanlength", 1)
    max_scan = p.get_int("maxscanlength", 1000)
    interval = p.get_float("measurement.interval", 10.0)
    if op_count < max(threads, 1):
        what = "operationcount" if phase == "run" else "insertcount/recordcount"
        problems.append(f"{what} ({op_count}) must be at least threadcount ({threads})")
    hot_data = p.get_float("hotspotdatafraction", 0.2)
    hot_opn = p.get_float("hotspotopnfraction", 0.8)
    exp_pct = p.get_float("exponential.percentile", 95.0)
    exp_frac = p.get_float("exponential.frac", 0.8571428571)
    if problems:
        raise ParameterError(problems)
    positive = operation_mix(values)

    insert_sequence = g.AcknowledgedCounter(record_count)
    last = insert_start + insert_count - 1
    key_chooser: g.Generator
    if req == "uniform":
        key_chooser = g.Uniform(insert_start, last)
    elif req == "sequential":
        key_chooser = g.Sequential(insert_start, last)
    elif req == "zipfian":
        ins = p.get_float("insertproportion", 0.0)
        expected_new = int(p.get_int("operationcount", 0) * ins * 2.0)
        key_chooser = g.ScrambledZipfian(insert_start, insert_start + insert_count + expected_new)
    elif req == "latest":
        key_chooser = g.SkewedLatest(insert_sequence)
    elif req == "hotspot":
        key_chooser = g.Hotspot(insert_start, last, hot_data, hot_opn)
    else:
        key_chooser = g.Exponential(exp_pct, record_count * exp_frac)

    length_gen: g.Generator
    if fld == "constant":
        length_gen = g.Constant(field_length)
    elif fld == "uniform":
        length_gen = g.Uniform(1, field_length)
    else:
        length_gen = g.Zipfian(1, field_length)
    scan_gen: g.Generator = (
        g.Uniform(min_scan, max_scan) if scl == "uniform" else g.Zipfian(min_scan, max_scan)
    )
    return CoreWorkload(
        phase=phase,
        table=p.get_str("table", "usertable"),
        threads=threads,
        target=target,
        op_count=op_count,
        record_count=record_count,
        insert_start=insert_start,
        insert_count=insert_count,
        field_count=field_count,
        field_length=field_length,
        field_names=[f"field{i}" for i in range(field_count)],
        read_all_fields=p.get_bool("readallfields", True),
        write_all_fields=p.get_bool("writeallfields", False),
        data_integrity=data_integrity,
        hashed=insert_order == "hashed",
        key_prefix=p.get_str("keyprefix", "user"),
        zero_padding=p.get_int("zeropadding", 1),
        key_hash=key_hash,
        request_distribution=req,
        max_execution_s=p.get_float("maxexecutiontime", 0.0),
        interval_s=interval,
        output_style=style,
        warmup_s=p.get_float("warmuptime", 0.0) if phase == "run" else 0.0,
        raw=mtype in ("raw", "csv"),
        output_file=p.get_str("measurement.output_file", ""),
        interval_log=p.get_str("measurement.interval_log", ""),
        interval_csv=p.get_str("measurement.interval_csv", ""),
        insert_retry_limit=max(0, p.get_int("core_workload_insertion_retry_limit", 0)),
        insert_retry_interval_s=p.get_float("core_workload_insertion_retry_interval", 3.0),
        operation_chooser=g.Discrete(positive or [(1.0, "READ")]),
        key_chooser=key_chooser,
        key_sequence=g.Counter(insert_start),
        insert_sequence=insert_sequence,
        field_length_gen=length_gen,
        scan_length_gen=scan_gen,
        constant_length=fld == "constant",
    )


class ValueSource:
    """Field values for writes: precomputed random bytes, or deterministic ones (dataintegrity)."""

    POOL = 256

    def __init__(self, wl: CoreWorkload, rng: random.Random) -> None:
        self.wl = wl
        size, n = wl.field_length, self.POOL
        # one draw of random bytes made letters (a 500-thread run used to spend 2 s of CPU on
        # per-value choices at start-up); the letters are near uniform (256 = 4 x 62 + 8)
        block = rng.randbytes(size * n).translate(_TO_LETTERS)
        self.pool = [block[i * size : (i + 1) * size] for i in range(n)]
        self.records: list[dict[str, bytes]] = []
        if wl.constant_length and not wl.data_integrity:
            r, pool = rng.random, self.pool
            for _ in range(64):
                self.records.append({f: pool[int(r() * n)] for f in wl.field_names})

    def value(self, rng: random.Random, key: str, field: str) -> bytes:
        wl = self.wl
        if wl.data_integrity:
            return wl.deterministic_value(key, field, wl.field_length)
        v = self.pool[int(rng.random() * self.POOL)]
        if wl.constant_length:
            return v
        return v[: wl.field_length_gen.next(rng)]

    def all_fields(self, rng: random.Random, key: str) -> dict[str, bytes]:
        if self.records:
            return self.records[int(rng.random() * len(self.records))]
        return {f: self.value(rng, key, f) for f in self.wl.field_names}

    def one_field(self, rng: random.Random, key: str) -> dict[str, bytes]:
        names = self.wl.field_names
        f = names[int(rng.random() * len(names))]
        return {f: self.value(rng, key, f)}

    def for_write(self, rng: random.Random, key: str) -> dict[str, bytes]:
        if self.wl.write_all_fields:
            return self.all_fields(rng, key)
        return self.one_field(rng, key)

    def writer(self, rng: random.Random) -> Callable[[random.Random, str], dict[str, bytes]]:
        """`for_write`, as one closure in the common case (one field, constant length, random
        bytes): the same draws in the same order, one call per update instead of three."""
        wl = self.wl
        if wl.write_all_fields or wl.data_integrity or not wl.constant_length:
            return self.for_write
        names, pool, n, size = wl.field_names, self.pool, len(wl.field_names), self.POOL

        def one(rng: random.Random, key: str) -> dict[str, bytes]:
            r = rng.random
            f = names[int(r() * n)]
            return {f: pool[int(r() * size)]}

        return one


def read_fields(wl: CoreWorkload, rng: random.Random) -> Sequence[str] | None:
    """``None`` means all fields (readallfields=true)."""
    if wl.read_all_fields:
        return None
    names = wl.field_names
    return [names[int(rng.random() * len(names))]]

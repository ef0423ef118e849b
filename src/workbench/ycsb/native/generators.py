"""Number generators of the YCSB core workload, matching go-ycsb's ``pkg/generator``.

Each generator is shared by all worker threads and takes the calling thread's ``random.Random``;
mutable state (counters, the incremental zeta of a growing zipfian) is guarded by a lock or by
operations that are atomic under the GIL (``next()`` on ``itertools.count``).
"""

from __future__ import annotations

import itertools
import math
import random
import threading
from bisect import bisect_right
from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol

ZIPFIAN_CONSTANT = 0.99
# go-ycsb/YCSB: zeta(10^10, 0.99), precomputed because summing 10^10 terms takes minutes.
ZETAN_10E10_099 = 26.46902820178302
SCRAMBLED_ITEM_COUNT = 10_000_000_000

_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_MASK64 = (1 << 64) - 1


@lru_cache(maxsize=1 << 20)
def hash64(n: int) -> int:
    """go-ycsb ``util.Hash64``: FNV-1a 64 over the big-endian 8 bytes of n, as a signed int64
    made non-negative (`if result < 0 { return -result }`, in v1.0.1 and v1.0.3 alike; -2^63
    stays itself, as Go's negation overflows). Checked live: keys loaded by go-ycsb v1.0.3 are
    read back by this generator and the other way round (bench/bench_ycsb_peer.py).
    """
    # unrolled: the scrambled zipfian hashes every draw, on the generator's hot path
    u, p, m = n & _MASK64, _FNV_PRIME, _MASK64
    h = ((_FNV_OFFSET ^ (u >> 56)) * p) & m
    h = ((h ^ ((u >> 48) & 0xFF)) * p) & m
    h = ((h ^ ((u >> 40) & 0xFF)) * p) & m
    h = ((h ^ ((u >> 32) & 0xFF)) * p) & m
    h = ((h ^ ((u >> 24) & 0xFF)) * p) & m
    h = ((h ^ ((u >> 16) & 0xFF)) * p) & m
    h = ((h ^ ((u >> 8) & 0xFF)) * p) & m
    h = ((h ^ (u & 0xFF)) * p) & m
    signed = h - (1 << 64) if h >= 1 << 63 else h
    return signed if signed == -(1 << 63) else abs(signed)


@lru_cache(maxsize=1 << 16)
def java_hash64(n: int) -> int:
    """Java YCSB ``Utils.FNVhash64``: FNV-1a 64 over the 8 bytes of n low byte first, Math.abs."""
    h = _FNV_OFFSET
    u = n & _MASK64
    for shift in (0, 8, 16, 24, 32, 40, 48, 56):
        h = ((h ^ ((u >> shift) & 0xFF)) * _FNV_PRIME) & _MASK64
    signed = h - (1 << 64) if h >= 1 << 63 else h
    # Math.abs(Long.MIN_VALUE) is Long.MIN_VALUE in Java
    return signed if signed == -(1 << 63) else abs(signed)


def bytes_hash64(data: bytes) -> int:
    """go-ycsb ``util.BytesHash64``: FNV-1a 64 of bytes, as a signed int64."""
    h = _FNV_OFFSET
    for b in data:
        h = ((h ^ b) * _FNV_PRIME) & _MASK64
    return h - (1 << 64) if h >= 1 << 63 else h


KEY_HASHES = ("go", "java")


def build_key_name(
    keynum: int, *, hashed: bool = True, prefix: str = "user", pad: int = 1, rule: str = "go"
) -> str:
    """Key number → key string, as go-ycsb's ``buildKeyName`` (0 → ``user6284781860667377211``).

    go-ycsb: ``fmt.Sprintf("%s%0*d", prefix, pad, Hash64(n))``, the sign before the zero padding.
    ``rule="java"``: Java YCSB's ``buildKeyName``: ``Math.abs`` of its own hash, and the zeros
    (``pad`` minus the length of ``Long.toString``) placed before the digits and any sign.
    """
    if rule == "java":
        value = str(java_hash64(keynum) if hashed else keynum)
        return prefix + "0" * (pad - len(value)) + value
    if hashed:
        keynum = hash64(keynum)
    return f"{prefix}{keynum:0{max(pad, 1)}d}"


def zeta(start: int, n: int, theta: float, initial: float = 0.0) -> float:
    """sum_{i=start+1}^{n} 1/i^theta + initial (vectorised; asymptotic beyond 5e7 terms)."""
    if n <= start:
        return initial
    limit = 50_000_000
    if n - start <= limit:
        try:
            import numpy as np
        except ImportError:  # slim image: plain Python (about 0.2 s per million terms)
            return initial + math.fsum(i**-theta for i in range(start + 1, n + 1))
        total = initial
        for lo in range(start + 1, n + 1, 5_000_000):
            hi = min(n, lo + 5_000_000 - 1)
            total += float(np.sum(np.arange(lo, hi + 1, dtype=np.float64) ** -theta))
        return total
    # Euler–Maclaurin tail: exact up to m, integral + corrections beyond.
    m = start + 1_000_000
    head = zeta(start, m, theta, initial)

    def f(x: float) -> float:
        return float(x**-theta)

    def df(x: float) -> float:
        return float(-theta * x ** (-theta - 1))

    if theta == 1.0:
        integral = math.log(n) - math.log(m)
    else:
        integral = (n ** (1 - theta) - m ** (1 - theta)) / (1 - theta)
    return head + integral + (f(n) - f(m)) / 2 + (df(n) - df(m)) / 12


class Generator(Protocol):
    def next(self, rng: random.Random) -> int: ...


class Constant:
    def __init__(self, value: int) -> None:
        self.value = value

    def next(self, rng: random.Random) -> int:
        return self.value


class Uniform:
    """Integers uniform on [lo, hi]."""

    def __init__(self, lo: int, hi: int) -> None:
        self.lo, self.n = lo, hi - lo + 1

    def next(self, rng: random.Random) -> int:
        return self.lo + int(rng.random() * self.n)


class Counter:
    """A shared counter starting at ``start`` (load-phase key sequence)."""

    def __init__(self, start: int) -> None:
        self._it = itertools.count(start)

    def next(self, rng: random.Random | None = None) -> int:
        return next(self._it)


class AcknowledgedCounter:
    """Insert counter whose ``last()`` is the highest contiguous acknowledged number."""

    def __init__(self, start: int) -> None:
        self._it = itertools.count(start)
        self._limit = start - 1
        self._pending: set[int] = set()
        self._lock = threading.Lock()

    def next(self, rng: random.Random | None = None) -> int:
        return next(self._it)

    def last(self) -> int:
        return self._limit

    def acknowledge(self, value: int) -> None:
        with self._lock:
            self._pending.add(value)
            limit = self._limit
            while limit + 1 in self._pending:
                limit += 1
                self._pending.discard(limit)
            self._limit = limit


class Sequential:
    """A counter over [lo, hi] that wraps around."""

    def __init__(self, lo: int, hi: int) -> None:
        self.lo, self.n = lo, hi - lo + 1
        self._it = itertools.count(0)

    def next(self, rng: random.Random) -> int:
        return self.lo + next(self._it) % self.n


class Zipfian:
    """Gray et al.'s zipfian over [lo, hi]; item ``lo`` is the most popular."""

    def __init__(
        self, lo: int, hi: int, theta: float = ZIPFIAN_CONSTANT, zetan: float | None = None
    ) -> None:
        self.base = lo
        self.items = hi - lo + 1
        self.theta = theta
        self.alpha = 1.0 / (1.0 - theta)
        self.zeta2 = zeta(0, 2, theta)
        self.zetan = zeta(0, self.items, theta) if zetan is None else zetan
        self.count_for_zeta = self.items
        self.eta = self._eta()
        self.half = 1.0 + 0.5**theta
        self._lock = threading.Lock()

    def _eta(self) -> float:
        # Uses the construction-time item count even when zeta grows (as go-ycsb and YCSB do).
        return (1 - (2.0 / self.items) ** (1 - self.theta)) / (1 - self.zeta2 / self.zetan)

    def next(self, rng: random.Random) -> int:
        u = rng.random()
        uz = u * self.zetan
        if uz < 1.0:
            return self.base
        if uz < self.half:
            return self.base + 1
        eta = self.eta
        return self.base + int(self.items * (eta * u - eta + 1) ** self.alpha)

    def next_n(self, rng: random.Random, itemcount: int) -> int:
        """Draw over a (grown) item count, extending zeta incrementally."""
        if itemcount > self.count_for_zeta:
            with self._lock:
                if itemcount > self.count_for_zeta:
                    self.zetan = zeta(self.count_for_zeta, itemcount, self.theta, self.zetan)
                    self.count_for_zeta = itemcount
                    self.eta = self._eta()
        u = rng.random()
        uz = u * self.zetan
        if uz < 1.0:
            return self.base
        if uz < self.half:
            return self.base + 1
        eta = self.eta
        return self.base + int(itemcount * (eta * u - eta + 1) ** self.alpha)


class ScrambledZipfian:
    """Zipfian popularity scattered over [lo, hi] by hashing a draw from [0, 10^10].

    go-ycsb computes ``lo + Hash64(draw) % itemcount`` with Go's truncating ``%`` of a signed hash,
    so about half its draws fall below ``lo`` (never-inserted keys). This one takes the modulo
    non-negative (Python's ``%``), so every draw lands in [lo, hi]: that bug is not copied.
    """

    def __init__(self, lo: int, hi: int, theta: float = ZIPFIAN_CONSTANT) -> None:
        self.lo = lo
        self.itemcount = hi - lo + 1
        zetan = ZETAN_10E10_099 if theta == ZIPFIAN_CONSTANT else None
        self.gen = Zipfian(0, SCRAMBLED_ITEM_COUNT, theta, zetan)

    def next(self, rng: random.Random) -> int:
        return self.lo + hash64(self.gen.next(rng)) % self.itemcount


class SkewedLatest:
    """Recent inserts are hottest: ``last - zipfian(last)`` over the acknowledged counter."""

    def __init__(self, basis: AcknowledgedCounter) -> None:
        self.basis = basis
        self.zipf = Zipfian(0, max(basis.last(), 1) - 1)

    def next(self, rng: random.Random) -> int:
        top = self.basis.last()
        return top - self.zipf.next_n(rng, max(top, 1))


class Hotspot:
    """``opn_fraction`` of draws land uniformly in the first ``data_fraction`` of [lo, hi]."""

    def __init__(self, lo: int, hi: int, data_fraction: float, opn_fraction: float) -> None:
        interval = hi - lo + 1
        self.lo = lo
        self.hot = int(interval * data_fraction)
        self.cold = interval - self.hot
        self.opn = opn_fraction

    def next(self, rng: random.Random) -> int:
        if rng.random() < self.opn and self.hot > 0:
            return self.lo + int(rng.random() * self.hot)
        if self.cold <= 0:
            return self.lo + int(rng.random() * self.hot)
        return self.lo + self.hot + int(rng.random() * self.cold)


class Exponential:
    """YCSB's ExponentialGenerator: ``percentile`` % of draws fall below ``span``."""

    def __init__(self, percentile: float, span: float) -> None:
        self.gamma = -math.log(1.0 - percentile / 100.0) / span

    def next(self, rng: random.Random) -> int:
        return int(-math.log(1.0 - rng.random()) / self.gamma)


class Discrete:
    """Weighted choice among values (the operation chooser)."""

    def __init__(self, pairs: Sequence[tuple[float, str]]) -> None:
        self.total = sum(w for w, _ in pairs)
        acc = 0.0
        self.thresholds: list[tuple[float, str]] = []
        for w, v in pairs:
            acc += w / self.total
            self.thresholds.append((acc, v))

        self._bounds = [t for t, _ in self.thresholds[:-1]]
        self._values = [v for _, v in self.thresholds]

    def next_value(self, rng: random.Random) -> str:
        # the first threshold above u (bisect_right: u equal to one is above it, as `u < t`)
        return self._values[bisect_right(self._bounds, rng.random())]

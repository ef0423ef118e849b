"""The YCSB core-workload property rules, as data and pure functions: one copy for the workbench's
parameter validation (before a stack starts) and the native generator's own (before it runs).

Here: which names take which values (distributions, insert order, key hash rule, measurement type,
output style), integer and number ranges, booleans, the operation mix, the rules that tie several
properties together, properties-file syntax, and `-p` names that set the same thing twice. Values
follow go-ycsb (`pkg/workload/core.go`, `pkg/prop`) and /work/shared/specs/ycsb-core-workload.md.
The operation mix does not have to sum to 1: like go-ycsb's discrete generator, the weights are
normalised by their sum, which must be positive for a run phase. Not here: binding (dotted)
properties, which each binding checks, and the typed run parameters (`workbench.params.models`).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

INT32_MAX = 2**31 - 1
REQUEST_DISTRIBUTIONS = ("uniform", "sequential", "zipfian", "latest", "hotspot", "exponential")
FIELD_LENGTH_DISTRIBUTIONS = ("constant", "uniform", "zipfian")
SCAN_LENGTH_DISTRIBUTIONS = ("uniform", "zipfian")
KEY_HASHES = ("go", "java")
ERROR_CLASSES = ("timeout", "connection_refused", "server_error", "other")  # a failure's class
TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")


@dataclass(frozen=True)
class Choice:
    allowed: tuple[str, ...]
    default: str
    what: str


@dataclass(frozen=True)
class Range:
    """A number in [lo, hi]; `open_lo`/`open_hi` exclude the bound; `integer` for counts."""

    lo: float = -math.inf
    hi: float = math.inf
    open_lo: bool = False
    open_hi: bool = False
    integer: bool = False

    def holds(self, v: float) -> bool:
        above = v > self.lo if self.open_lo else v >= self.lo
        below = v < self.hi if self.open_hi else v <= self.hi
        return above and below

    def text(self) -> str:
        lo = "(" if self.open_lo else "["
        hi = ")" if self.open_hi else "]"
        if self.hi == math.inf:
            return f"> {self.lo:g}" if self.open_lo else f">= {self.lo:g}"
        return f"within {lo}{self.lo:g}, {self.hi:g}{hi}"


CHOICES: dict[str, Choice] = {
    "workload": Choice(("core",), "core", "workload"),
    "requestdistribution": Choice(REQUEST_DISTRIBUTIONS, "uniform", "request distribution"),
    "fieldlengthdistribution": Choice(
        FIELD_LENGTH_DISTRIBUTIONS, "constant", "field length distribution"
    ),
    "scanlengthdistribution": Choice(
        SCAN_LENGTH_DISTRIBUTIONS, "uniform", "scan length distribution"
    ),
    "insertorder": Choice(("hashed", "ordered"), "hashed", "insert order"),
    "keyhash": Choice(KEY_HASHES, "go", "key hash rule"),
    "measurementtype": Choice(("histogram", "raw", "csv"), "histogram", "measurement type"),
    "outputstyle": Choice(("plain", "json", "table"), "plain", "output style"),
}
_COUNT, _NONNEG = Range(1, integer=True), Range(0, integer=True)
_FRACTION, _SECONDS = Range(0, 1), Range(0)
#: operation mix: property, default weight, operation name
PROPORTIONS = (
    ("readproportion", 0.95, "READ"),
    ("updateproportion", 0.05, "UPDATE"),
    ("insertproportion", 0.0, "INSERT"),
    ("scanproportion", 0.0, "SCAN"),
    ("readmodifywriteproportion", 0.0, "READ_MODIFY_WRITE"),
)
RANGES: dict[str, Range] = {
    "recordcount": _COUNT,
    "operationcount": _NONNEG,
    "insertstart": _NONNEG,
    "insertcount": _NONNEG,
    "fieldcount": _COUNT,
    "fieldlength": _COUNT,
    "threadcount": _COUNT,
    "minscanlength": _COUNT,
    "maxscanlength": _COUNT,
    "zeropadding": _COUNT,
    "batchsize": _COUNT,
    "core_workload_insertion_retry_limit": _NONNEG,
    "core_workload_insertion_retry_interval": _SECONDS,
    "target": _SECONDS,
    "maxexecutiontime": _SECONDS,
    "warmuptime": _SECONDS,
    "measurement.interval": Range(0, open_lo=True),
    "request.deadline": _SECONDS,
    "request.retries": _NONNEG,
    "request.retry_backoff": _SECONDS,
    "hotspotdatafraction": _FRACTION,
    "hotspotopnfraction": _FRACTION,
    "exponential.percentile": Range(0, 100, open_lo=True, open_hi=True),
    "exponential.frac": Range(0, open_lo=True),
    **{name: _FRACTION for name, _, _ in PROPORTIONS},
}
BOOLEANS: dict[str, bool] = {
    "readallfields": True,
    "writeallfields": False,
    "dataintegrity": False,
    "verbose": False,
    "silence": True,
    "dropdata": False,
}
#: the undotted property names these rules (and the native generator) know
KNOWN_NAMES = frozenset(
    [
        *CHOICES,
        *RANGES,
        *BOOLEANS,
        "table",
        "keyprefix",
        "fieldnameprefix",
        "debug.pprof",
        "deleteproportion",  # go-ycsb reads it; the core workload has no DELETE operation
        "processes",  # the native generator's worker processes (go-ycsb ignores it)
    ]
)
#: names that set the same thing (a run parameter and its YCSB property)
SAME_SETTING = (
    ("threads", "threadcount"),
    ("duration", "maxexecutiontime"),
    ("warmup", "warmuptime"),
)


def parse_int(raw: str) -> int | None:
    """An integer, also written as an integral float ("1e3"); None when it is not one."""
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        value = float(raw)
    except ValueError:
        return None
    return int(value) if value.is_integer() else None


def parse_float(raw: str) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        return None
    return None if math.isnan(value) else value


def parse_bool(raw: str) -> bool | None:
    low = raw.strip().lower()
    return True if low in TRUE_WORDS else False if low in FALSE_WORDS else None


def parse_properties_text(text: str) -> dict[str, str]:
    """The text of a Java properties file (`key=value` or `key: value`, `#`/`!` comments, a
    trailing backslash continues a line), which go-ycsb's loader reads too."""
    out: dict[str, str] = {}
    pending = ""
    for raw in text.splitlines():
        line = pending + raw.strip()
        pending = ""
        if not line or line[0] in "#!":
            continue
        if line.endswith("\\") and not line.endswith("\\\\"):
            pending = line[:-1]
            continue
        key, value = _split(line)
        out[key] = value
    if pending:
        key, value = _split(pending)
        out[key] = value
    return out


def _split(line: str) -> tuple[str, str]:
    for i, ch in enumerate(line):
        if ch in "=:":
            return line[:i].strip(), line[i + 1 :].strip()
        if ch.isspace():
            rest = line[i:].lstrip()
            if rest and rest[0] in "=:":
                rest = rest[1:]
            return line[:i].strip(), rest.strip()
    return line.strip(), ""


def property_problems(
    props: Mapping[str, str], *, run_phase: bool = True, skip: Collection[str] = ()
) -> list[str]:
    """Every problem of a core-workload property map, as `name: what is wrong` lines.

    `run_phase`: the map drives a run phase, so the operation mix must have a positive sum.
    `skip`: names whose own value is checked elsewhere (the typed run parameters); they still
    take part in the rules across properties when their value reads.
    """
    out: list[str] = []
    for name, raw in props.items():
        if name not in skip:
            out.extend(_value_problems(name, raw))
    out.extend(_cross_problems(props, run_phase))
    return out


def _value_problems(name: str, raw: str) -> list[str]:
    if name in CHOICES:
        c = CHOICES[name]
        if raw.strip().lower() not in c.allowed:
            return [f"{name}: unknown {c.what} {raw!r}; valid: {', '.join(sorted(c.allowed))}"]
    elif name in RANGES:
        r = RANGES[name]
        value = parse_int(raw) if r.integer else parse_float(raw)
        if value is None:
            return [f"{name}: {raw!r} is not {'an integer' if r.integer else 'a number'}"]
        if not r.holds(value):
            negative = r.lo == 0 and not r.open_lo and value < 0
            return [
                f"{name}: must {'not be negative' if negative else 'be ' + r.text()}, got {raw}"
            ]
    elif name in BOOLEANS and parse_bool(raw) is None:
        return [f"{name}: {raw!r} is not a boolean (true/false)"]
    elif name == "processes":
        n = parse_int(raw)
        if raw.strip().lower() != "auto" and (n is None or n < 1):
            return [f"processes: {raw!r} is not auto or an integer >= 1"]
    elif name == "request.retry_on":
        bad = [c.strip() for c in raw.split(",") if c.strip() and c.strip() not in ERROR_CLASSES]
        if bad:
            return [f"request.retry_on: unknown error class {', '.join(bad)}; valid: "
                    + ", ".join(ERROR_CLASSES)]  # fmt: skip
    return []


def _read(props: Mapping[str, str], name: str) -> float | None:
    """The value of a numeric property when it is given and valid, else None."""
    raw = props.get(name)
    if raw is None or raw == "" or _value_problems(name, raw):
        return None
    r = RANGES[name]
    return parse_int(raw) if r.integer else parse_float(raw)


def _cross_problems(props: Mapping[str, str], run_phase: bool) -> list[str]:
    out = []
    start = _read(props, "insertstart") or 0
    records = _read(props, "recordcount") or INT32_MAX
    count = _read(props, "insertcount")
    if count is not None and start + count > records:
        out.append(
            f"insertcount: insertstart {start:g} + insertcount {count:g} is beyond "
            f"recordcount {records:g}"
        )
    elif count is None and start >= records:
        out.append(f"insertstart: {start:g} leaves no records below recordcount {records:g}")
    lo, hi = _read(props, "minscanlength") or 1, _read(props, "maxscanlength") or 1000
    if lo > hi:
        out.append(f"minscanlength: {lo:g} is above maxscanlength {hi:g}")
    integrity = parse_bool(props.get("dataintegrity", "false"))
    length = props.get("fieldlengthdistribution", "constant").strip().lower()
    if integrity and length != "constant":
        out.append("dataintegrity: true needs fieldlengthdistribution=constant")
    weights = [_weight(props, name, default) for name, default, _ in PROPORTIONS]
    if run_phase and all(w is not None for w in weights) and not sum(w or 0 for w in weights) > 0:
        out.append(
            "readproportion..readmodifywriteproportion: operation proportions must sum to a "
            "positive number"
        )
    out.extend(_process_problems(props, run_phase))
    return out


def _process_problems(props: Mapping[str, str], run_phase: bool) -> list[str]:
    """Several worker processes split threads, operations, target and (load) keys; a run phase
    that inserts, or walks one shared key order (sequential, latest), needs one process."""
    raw = props.get("processes", "").strip()
    n = parse_int(raw) if raw else None
    if n is None or n <= 1:
        return []
    out = []
    threads = _read(props, "threadcount") if "threadcount" in props else None
    if threads is not None and n > threads:
        out.append(f"processes: {n} is more than threadcount {threads:g}")
    if run_phase and (reason := single_process_reason(props)):
        out.append(f"processes: {n} > 1, but {reason}")
    return out


def single_process_reason(props: Mapping[str, str]) -> str:
    """Why a run phase must stay in one process ("" when it may be split)."""
    if (_weight(props, "insertproportion", 0.0) or 0.0) > 0:
        return "the run inserts (insertproportion > 0): one shared insert sequence"
    dist = props.get("requestdistribution", "uniform").strip().lower()
    if dist in ("sequential", "latest"):
        return f"requestdistribution={dist} walks one shared key order"
    return ""


def _weight(props: Mapping[str, str], name: str, default: float) -> float | None:
    if name not in props or props[name] == "":
        return default
    return _read(props, name)


def operation_mix(props: Mapping[str, str]) -> list[tuple[float, str]]:
    """The positive (weight, operation) pairs of a valid map; weights are relative (normalised
    by their sum when chosen)."""
    pairs = [(_weight(props, name, default) or 0.0, op) for name, default, op in PROPORTIONS]
    return [(w, op) for w, op in pairs if w > 0]


def alias_conflicts(assignments: Iterable[tuple[str, str]]) -> list[str]:
    """`-p` items that set one setting under two names with different values
    (`threads=4` and `threadcount=8`); a name repeated is the usual last-one-wins."""
    given: dict[str, str] = {}
    for key, value in assignments:
        given[key.strip()] = value.strip()
    out = []
    for a, b in SAME_SETTING:
        if a in given and b in given and given[a] != given[b]:
            out.append(
                f"{a} and {b}: the same setting given twice ({given[a]} and {given[b]}); give one"
            )
    return out

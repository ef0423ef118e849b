"""YCSB properties: ``-P`` files and ``-p key=value`` overrides, with typed, validated reads.

Files use Java properties syntax (``key=value`` or ``key: value``, ``#``/``!`` comments, trailing
backslash continues a line), which is what go-ycsb's loader accepts too. Later sources win.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from workbench.errors import ConfigError

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def parse_properties_text(text: str) -> dict[str, str]:
    """Parse the text of a properties file."""
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


def load_properties(files: Iterable[str | Path], overrides: Iterable[str] = ()) -> dict[str, str]:
    """Merge property files then ``key=value`` overrides; unreadable files → ``ConfigError``."""
    props: dict[str, str] = {}
    for f in files:
        path = Path(f)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read workload file {path}: {exc}") from exc
        props.update(parse_properties_text(text))
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"bad property {item!r}: expected name=value")
        key, value = item.split("=", 1)
        props[key.strip()] = value.strip()
    return props


class Props:
    """Typed reads over a property map; problems are collected, not raised one by one."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = dict(values)
        self.problems: list[str] = []

    def has(self, key: str) -> bool:
        return key in self.values

    def get_str(self, key: str, default: str) -> str:
        return self.values.get(key, default)

    def get_int(self, key: str, default: int) -> int:
        raw = self.values.get(key)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            try:
                as_float = float(raw)
            except ValueError:
                as_float = float("nan")
            if as_float.is_integer():
                return int(as_float)
            self.problems.append(f"{key}={raw!r} is not an integer")
            return default

    def get_float(self, key: str, default: float) -> float:
        raw = self.values.get(key)
        if raw is None or raw == "":
            return default
        try:
            return float(raw)
        except ValueError:
            self.problems.append(f"{key}={raw!r} is not a number")
            return default

    def get_bool(self, key: str, default: bool) -> bool:
        raw = self.values.get(key)
        if raw is None or raw == "":
            return default
        low = raw.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        self.problems.append(f"{key}={raw!r} is not a boolean (true/false)")
        return default

    def choice(self, key: str, default: str, allowed: Iterable[str], what: str) -> str:
        value = self.values.get(key, default).strip().lower()
        names = sorted(allowed)
        if value not in names:
            self.problems.append(f"unknown {what} {value!r} ({key}); valid: {', '.join(names)}")
            return default
        return value

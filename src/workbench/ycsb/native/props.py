"""YCSB properties: ``-P`` files and ``-p key=value`` overrides, with typed, validated reads.

Files use Java properties syntax (``key=value`` or ``key: value``, ``#``/``!`` comments, trailing
backslash continues a line), which is what go-ycsb's loader accepts too. Later sources win. The
syntax and the value rules are `workbench.params.ycsbprops` (shared with parameter validation).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from workbench.errors import ConfigError
from workbench.params.ycsbprops import parse_bool, parse_float, parse_int, parse_properties_text

__all__ = ["Props", "load_properties", "parse_properties_text"]


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
        value = parse_int(raw)
        if value is None:
            self.problems.append(f"{key}={raw!r} is not an integer")
            return default
        return value

    def get_float(self, key: str, default: float) -> float:
        raw = self.values.get(key)
        if raw is None or raw == "":
            return default
        value = parse_float(raw)
        if value is None:
            self.problems.append(f"{key}={raw!r} is not a number")
            return default
        return value

    def get_bool(self, key: str, default: bool) -> bool:
        raw = self.values.get(key)
        if raw is None or raw == "":
            return default
        value = parse_bool(raw)
        if value is None:
            self.problems.append(f"{key}={raw!r} is not a boolean (true/false)")
            return default
        return value

    def choice(self, key: str, default: str, allowed: Iterable[str], what: str) -> str:
        value = self.values.get(key, default).strip().lower()
        names = sorted(allowed)
        if value not in names:
            self.problems.append(f"unknown {what} {value!r} ({key}); valid: {', '.join(names)}")
            return default
        return value

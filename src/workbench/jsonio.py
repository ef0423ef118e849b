"""JSON artifacts: atomic writes, missing values kept missing, one timestamp format.

Every JSON file the workbench writes goes through `write_json` (temporary file in the same folder,
fsync, then `os.replace`), so a reader never sees half a file, even when the writer is killed.
NaN is not JSON: it becomes null (missing stays missing, never 0); ±Inf become "+Inf"/"-Inf".
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def utc_iso(ts: float | None = None) -> str:
    """Unix seconds → ISO-8601 UTC with milliseconds (the format of every timestamp we write)."""
    t = time.time() if ts is None else ts
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def jsonable(obj: Any, strict: bool = False) -> Any:
    """Strict-JSON form of a value: NaN → None, ±Inf → "+Inf"/"-Inf", tuples and sets → lists,
    numpy scalars → python, pydantic models and `to_dict` objects → dicts, paths → str, and
    anything else → str (`strict`: TypeError). The one place that decides how a value is
    written."""
    if isinstance(obj, bool) or obj is None or isinstance(obj, str | int):
        return obj
    if isinstance(obj, float):
        if math.isnan(obj):
            return None
        if math.isinf(obj):
            return "+Inf" if obj > 0 else "-Inf"
        return obj
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v, strict) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [jsonable(v, strict) for v in obj]
    if isinstance(obj, datetime):
        return obj.isoformat()
    dump = getattr(obj, "model_dump", None)  # pydantic models
    if callable(dump):
        return jsonable(dump(mode="json", by_alias=True), strict)
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        return jsonable(to_dict(), strict)
    item = getattr(obj, "item", None)  # numpy scalars
    if callable(item):
        return jsonable(item(), strict)
    if strict and not isinstance(obj, Path):
        raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
    return str(obj)


def dumps(obj: Any) -> str:
    return json.dumps(jsonable(obj, strict=True), indent=2, allow_nan=False) + "\n"


def write_json(path: Path, obj: Any, mode: int = 0o644) -> Path:
    """Write JSON atomically: temporary file next to the target, fsync, then rename. The file
    gets `mode` (mkstemp makes 0600; every artifact is world-readable like the rest)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = dumps(obj)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def replace_atomically(path: Path, write: Callable[[Path], object]) -> Path:
    """`write(tmp)` to `.<name>.tmp` beside `path`, then rename it over `path`; a write that
    fails (a full disk, an interrupt) leaves neither a half file nor the temporary one."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return path


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())

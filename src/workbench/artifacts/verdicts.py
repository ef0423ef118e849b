"""checks.json: the verdicts of a run (or of `workbench verify`'s folder), written atomically.

    [{"name", "phase", "status", "summary", "evidence", "started_at", "duration_s"}, ...]

The checks produce `workbench.model.Verdict` objects; this module alone writes and reads them.
Evidence is made JSON-safe on the way out (NaN -> null, inf -> "+Inf", unknown objects -> their
repr). Older writers' shapes still read: a plain list, or an object with `verdicts`. A damaged
file is a ConfigError naming it (readers say so instead of passing the run).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from workbench.errors import ConfigError
from workbench.jsonio import jsonable, read_json, write_json
from workbench.model import Verdict

CHECKS_FILE = "checks.json"


def write_verdicts(directory: Path, verdicts: Sequence[Verdict]) -> Path:
    """`directory`/checks.json as a JSON list of the verdicts, atomically."""
    return write_json(Path(directory) / CHECKS_FILE, [jsonable(v.to_dict()) for v in verdicts])


def read_verdicts(directory: Path) -> list[Verdict]:
    """`directory`/checks.json ([] when there is none); a damaged file raises ConfigError."""
    path = Path(directory) / CHECKS_FILE
    if not path.is_file():
        return []
    try:
        data = read_json(path)
        items = data.get("verdicts", []) if isinstance(data, dict) else data
        return [Verdict.from_dict(d) for d in items]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{path} is unreadable: {str(exc).splitlines()[0][:200]}") from exc

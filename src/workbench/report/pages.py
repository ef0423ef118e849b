"""The package's one jinja2 Environment: every HTML page (a run's report.html, the results
index.html, a campaign's report.html) comes from `templates/` through this one loader, with
autoescape on, one page shell (base.html) and one stylesheet (style.css, inlined by base.html).

Filters the templates share: `num` (thousands, fixed digits, `—` for missing), `href` (a relative
link, percent-quoted), `plural` (`1 run`, `2 runs`), `status_color` (a status badge's colour).
`None` prints nothing. The
pages' context is built by html.py (runs, index) and campaign/report.py (a campaign).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2

from workbench.jsonio import replace_atomically

from .summary import num

STATUS_COLORS = {
    "passed": "#1a7f37",
    "pass": "#1a7f37",
    "ok": "#1a7f37",
    "failed": "#cf222e",
    "fail": "#cf222e",
    "error": "#9a6700",
    "unknown": "#9a6700",
    "unverified": "#9a6700",
    "unreadable": "#9a6700",
    "aborted": "#6e7781",
    "abandoned": "#6e7781",
    "skipped": "#6e7781",
    "running": "#0969da",
}


def href(rel: str | Path) -> str:
    return quote(str(rel).replace("\\", "/"))


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 run`, `3 runs`, `0 runs` (`many`: an irregular plural)."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"


def _finalize(value: Any) -> Any:
    """None prints nothing (escaping itself is the environment's autoescape)."""
    return "" if value is None else value


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("workbench.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    env.filters["num"] = num
    env.filters["href"] = href
    env.filters["plural"] = plural
    env.filters["status_color"] = lambda s: STATUS_COLORS.get(str(s), "#6e7781")
    return env


ENV = _environment()


def write_page(out: Path, template: str, **context: Any) -> Path:
    """Render `template` with `context` and write it to `out` atomically (temporary, rename)."""
    page = ENV.get_template(template).render(**context)
    return replace_atomically(out, lambda tmp: tmp.write_text(page, encoding="utf-8"))

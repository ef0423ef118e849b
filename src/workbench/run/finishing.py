"""The end of a run: its final status and reason from the verdicts, the environment fingerprint,
the headline summary kept in run.json, the figures saved, and the report and index rendered from
the directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from matplotlib.figure import Figure

from workbench import report
from workbench.artifacts import Fingerprint, RunDir, run_status
from workbench.artifacts import fingerprint as env_fingerprint
from workbench.artifacts.record import Summary
from workbench.manifest import Manifest
from workbench.model import Verdict
from workbench.report import plots
from workbench.run.stackctl import StackControl
from workbench.telemetry import engine_versions


def describe(exc: BaseException) -> str:
    """An exception as the run record states it (a signal is named as such)."""
    if isinstance(exc, KeyboardInterrupt):
        return f"interrupted: {exc}" if str(exc) else "interrupted (SIGINT)"
    return f"{type(exc).__name__}: {exc}"


def status(verdicts: list[Verdict]) -> tuple[str, str | None]:
    """The final status and, when not passed, which verdicts made it so."""
    bad = [
        f"{v.name}: {v.status}: {v.summary}" for v in verdicts if v.status in ("fail", "unknown")
    ]
    return run_status(verdicts), "; ".join(bad) if bad else None


def fingerprint(manifest: Manifest, ctl: StackControl) -> Fingerprint:
    """~0.2 s of docker and git calls, run beside the stages."""
    return env_fingerprint(
        compose_file=manifest.compose_file, engine=engine_versions(), images=ctl.image_ids()
    )


def save_figures(rd: RunDir, figures: dict[str, Figure]) -> dict[str, Path]:
    """figures/<name>.png of each figure the timeline stage drew (the report reuses them)."""
    return {name: rd.save_png(name, plots.to_png(fig)) for name, fig in figures.items()}


def render(rd: RunDir, progress: Callable[[str], None]) -> None:
    """Keep the summary in run.json (`workbench run` prints it from there), then the report and
    the index. Never raises: the run's outcome matters more than its rendering."""
    try:
        s = report.summarize(rd)
        rd.update(summary=Summary.of(s.numbers, s.verdicts))
        report.render(rd.path)
        report.render_index(rd.path.parent)
    except Exception as exc:
        progress(f"report rendering failed: {type(exc).__name__}: {exc}")
    finally:
        rd.release_reserve()  # the room kept for the end of the run is no longer needed

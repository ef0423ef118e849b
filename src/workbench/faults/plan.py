"""A run's fault schedule from its parameters, and the parameters rule that checks it.

    schedule_for(params, manifest)   # the checked Schedule, or one ParameterError listing all
    schedule_problems(params)        # the params rule: [] or every problem, as text

`schedule_problems` is named in workbench.params.rules.RUN_RULES, the one place params' rules from
above are listed, so validating parameters checks `--fault` wherever they come in (the CLI, a
plain papermill run's validation cell, a campaign file) without anyone importing the run layer
first. It probes this host's actions only when there are faults (`host_actions`, once per
process).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from workbench.errors import ConfigError, ParameterError
from workbench.faults.actions import supported_actions
from workbench.faults.schedule import Schedule, build_schedule
from workbench.faults.targets import FaultsConfig
from workbench.manifest import Manifest, load_manifest
from workbench.params import DEFAULT_DURATION_S, RunParams


@functools.cache
def host_actions() -> dict[str, str | None]:
    """What this host supports, probed once per process (doctor probes again)."""
    return supported_actions()


def schedule_for(
    params: RunParams,
    manifest: Manifest,
    supported: Mapping[str, str | None] | None = None,
) -> Schedule:
    """The run's schedule, checked; ParameterError lists every problem (the manifest's table too)."""
    try:
        config = FaultsConfig.from_table(manifest.faults, source=f"{manifest.name} manifest")
    except ConfigError as exc:
        raise ParameterError([f"faults: {exc}"]) from None
    if not params.faults:
        return Schedule(repeat=params.fault_repeat, every_s=params.fault_every)
    duration = params.duration
    if duration is None and params.operationcount is None:
        duration = DEFAULT_DURATION_S
    return build_schedule(
        params.faults,
        config=config,
        supported=host_actions() if supported is None else supported,
        run_duration_s=duration,
        repeat_n=params.fault_repeat,
        every_s=params.fault_every,
    )


def schedule_problems(params: RunParams) -> list[str]:
    """The params rule: the schedule against the manifest and the host (no probe without faults)."""
    try:
        schedule_for(params, load_manifest(params.subject))
    except ParameterError as exc:
        return list(exc.problems)
    return []

"""Where a subject's stack runs: `compose` (one host, Docker Compose: what `workbench run` drives)
or `kubernetes` (TiDB Operator: rendered by `workbench render`, applied by `workbench render
--apply`; never run against a real cluster here).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable

from workbench import proc
from workbench.errors import ConfigError
from workbench.stack import kubectl

PLATFORMS = ("compose", "kubernetes")
DEFAULT_PLATFORM = "compose"


def check_name(platform: str) -> str:
    if platform not in PLATFORMS:
        raise ConfigError(f"unknown platform {platform!r}; valid: {', '.join(PLATFORMS)}")
    return platform


def require_run(
    platform: str,
    run: kubectl.Runner = proc.run,
    which: Callable[[str], str | None] = shutil.which,
) -> None:
    """Before anything of `workbench run` starts: the platform can carry a full benchmark run.

    Kubernetes: no kubectl or no cluster is one PrerequisiteError; with both, `run` still refuses
    (its stages drive Compose) and names the command that renders and applies the manifests.
    """
    if check_name(platform) == "compose":
        return
    kubectl.preflight(run, which)
    raise ConfigError(
        "platform kubernetes: `workbench run` drives Compose stacks only; render the TiKV "
        "subject's manifests with `workbench render --platform kubernetes --subject tikv "
        "--out DIR` and apply them with `--apply`"
    )

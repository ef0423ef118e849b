"""`workbench operator reference`: the reference operator (workbench.operator.reference), the
baseline an operator under test is compared with. It runs inside the stack's network (the run's
operator service, image workbench/workbench:local) and takes its settings from the environment:

  WB_EVENTS           the events file it appends JSON lines to (its folder must exist)
  WB_PROJECT          the compose project (containers labelled com.docker.compose.project)
  WB_CLUSTER_URLS     the members' client URLs, comma-separated (http://etcd0:2379,...);
                      the member's service is the URL's host
  PD_ENDPOINT         PD's URL(s) (the TiKV subject): watch PD's stores instead
  PROMETHEUS_URL      recorded, not needed
  WB_OPERATOR_POLL_S  seconds between looks (default 1.0)

With the Docker socket at /var/run/docker.sock it starts exited and unpauses paused members;
without it, it only detects and diagnoses. It stops on SIGTERM/SIGINT with exit code 0.
"""

from __future__ import annotations

import argparse
import os
from typing import Any


def register(sub: Any) -> None:
    op = sub.add_parser("operator", help="operators run beside a stack (the reference operator)")
    osub = op.add_subparsers(dest="operator_command", metavar="SUBCOMMAND", required=True)
    p = osub.add_parser(
        "reference",
        help="run the reference operator (settings from the environment: WB_EVENTS, ...)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(func=cmd_reference)


def cmd_reference(args: argparse.Namespace) -> int:
    # imported here: a command loads only what it uses (`workbench --help` and the slim image start fast)
    from workbench.operator.reference import ReferenceConfig, run_reference

    return run_reference(ReferenceConfig.from_env(os.environ))

"""A subject's Compose project: brought up, health-gated, inspected, torn down.

    compose.py  compose argv and the project's state files (ports, lock); running projects
    stack.py    the `Stack` lifecycle: up (health + readiness gate), logs, down, one-off runs

Nothing here runs a workload or judges one; faults act on containers from `workbench.faults`.
"""

from workbench.stack.compose import PROJECT_LABEL, STACKS_DIR, running_projects
from workbench.stack.stack import Stack, Timings, stack

__all__ = ["PROJECT_LABEL", "STACKS_DIR", "Stack", "Timings", "running_projects", "stack"]

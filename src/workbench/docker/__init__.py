"""The one adapter to the Docker engine (base layer, beside `workbench.proc`).

Three ways in, one room:

- `workbench.docker.cli`: typed argv builders for every plain `docker ...` command the workbench
  runs (kill, rm, ps by label, inspect, image inspect/build/import/pull, version, info, compose
  version, pause/unpause/start/stop/restart, nsenter into a container's network namespace), and
  the few helpers that run them through `workbench.proc`. Nothing else in the package spells a
  `docker` argv.
- `workbench.docker.engine`: the Engine API over the Unix socket (httpx with a UDS transport,
  one client type, timeouts): version, containers, inspect, stats, events, and start/unpause/
  restart for the reference operator. A socket file with no
  engine listening behind it is no engine (`engine_answers`).
- `workbench.docker.events`: the engine's event stream as typed `Event`s: a pure parser (tested
  against a recorded real stream) and `EventRecorder`, a background thread that never raises
  into the run.

Why python-on-whales stays inside `workbench.stack`: it is the Compose client there (`compose ps`
with typed containers and health); Compose is the stack room's technology, not plain docker.
Anything that is plain docker (a container by name or label, an image, the engine) goes through
this package.

This `__init__` imports only the CLI part (no httpx: the stack room keeps `workbench run`'s
prestart path free of it); import `workbench.docker.engine` / `.events` where they are used.
"""

from __future__ import annotations

from workbench.docker import cli

__all__ = ["cli"]

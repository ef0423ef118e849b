"""Helpers shared by tests (tests/ is on pytest's pythonpath)."""

from __future__ import annotations

import os
import shutil
import time

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_binary(name: str) -> str:
    """Path of a host binary a test needs: skip locally when absent, fail in CI."""
    path = shutil.which(name)
    if path is None:
        msg = f"{name} is not installed (scripts/test installs it)"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return path


class InstantClock:
    """A clock whose waits pass at once (a fault injector's `clock` and `wait`): a whole schedule
    runs in microseconds, its times still spaced as scheduled."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.now += max(seconds, 0.0)
        return False  # never asked to stop

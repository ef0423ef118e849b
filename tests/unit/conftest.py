"""The unit folder's pure tests see a host that supports every fault action: probing the real host
starts processes (`docker version`, `unshare ... tc`), which the pure tier refuses (tests/conftest.py).
Tests of the probe itself pass their own capabilities; `local` tests probe the real host.
`fixed_png` spares the report tests the rasterising of their figures."""

from __future__ import annotations

import io
from typing import Any

import pytest
from matplotlib.figure import Figure
from PIL import Image

from workbench.faults import plan
from workbench.faults.actions import ACTIONS
from workbench.report import plots


@pytest.fixture(autouse=True)
def _every_fault_action_supported(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if request.node.get_closest_marker("local") is None:
        monkeypatch.setattr(plan, "host_actions", lambda: dict.fromkeys(ACTIONS))


def _one_pixel_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (1, 1), "white").save(buf, format="PNG")
    return buf.getvalue()


ONE_PIXEL_PNG = _one_pixel_png()


@pytest.fixture
def fixed_png(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> list[Figure]:
    """For tests of a report's text: each figure is still built from the test's data (the plotting
    code runs), but not rasterised (0.25 s a figure); the report embeds a real 1-pixel PNG. The
    figures built are returned for a look. A test marked `rasterised` gets real PNGs (as do
    test_plots and the browser tests)."""
    built: list[Figure] = []
    if request.node.get_closest_marker("rasterised") is not None:
        return built

    def fixed(fig: Figure, *args: Any, **kwargs: Any) -> bytes:
        assert isinstance(fig, Figure) and fig.axes, "a figure with nothing drawn"
        built.append(fig)
        return ONE_PIXEL_PNG

    monkeypatch.setattr(plots, "to_png", fixed)
    return built

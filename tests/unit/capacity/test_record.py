"""capacity.json: written and read back whole, a newer schema or a damaged file refused by name,
the headline and the report of a search that found nothing (the limit named, escaped)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.capacity import CapacityDoc, Interval, Objective, Probe, read_capacity
from workbench.capacity.record import write_capacity
from workbench.errors import ConfigError
from workbench.report import render_capacity

OBJ = Objective(percentile=99, threshold_ms=50)


def test_written_and_read_back_whole(tmp_path: Path) -> None:
    doc = CapacityDoc(id="c", objective=OBJ, status="found", wall_s=250.0,
                      capacity=Interval(low=2210, high=2460),
                      probes=[Probe(index=i, step="bisect", offered=1000.0 + i, achieved=999.0,
                                    verdict="pass") for i in range(14)])  # fmt: skip
    write_capacity(tmp_path / "capacity.json", doc)
    back = read_capacity(tmp_path / "capacity.json")
    assert back == doc and json.loads((tmp_path / "capacity.json").read_text())["schema"] == 1
    assert back.headline() == (
        "capacity 2,335 ops/s [2,210, 2,460] at p99 ≤ 50 ms (14 probes, 4m10s)"
    )


def test_a_newer_schema_or_a_damaged_file_is_refused_by_name(tmp_path: Path) -> None:
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({"schema": 9, "id": "c", "objective": OBJ.model_dump()}))
    with pytest.raises(ConfigError, match=r"newer\.json.*schema 9"):
        read_capacity(newer)
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(ConfigError, match=r"broken\.json"):
        read_capacity(broken)


def test_a_limited_search_reports_its_limit_escaped(tmp_path: Path) -> None:
    doc = CapacityDoc(id="c", objective=OBJ, status="limited", limit="client",
                      limit_text="client-bound at ~<b>1,480</b> ops/s")  # fmt: skip
    assert doc.exit_code() == 2 and doc.headline().startswith("capacity unknown: client-bound")
    page = render_capacity(tmp_path, doc).read_text()
    assert "&lt;b&gt;1,480&lt;/b&gt;" in page and "<b>1,480" not in page
    assert "No figure" in page  # no probe: nothing to draw

"""Opening a campaign for the CLI and the notebook: new, resumed, reopened; the notebook's tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_runner import numbers, quiet

from workbench.campaign import session
from workbench.campaign.runner import run_campaign
from workbench.errors import ConfigError

FILE = """
name = "nb"
repeat = 4
[base]
duration = 5
[[configs]]
name = "t2"
threads = 2
[[configs]]
name = "t8"
threads = 8
[compare]
resamples = 999
"""


def test_open_resume_and_reopen(tmp_path: Path, fake_executor: Any) -> None:
    file = tmp_path / "nb.toml"
    file.write_text(FILE)
    with pytest.raises(ConfigError, match="nothing to resume"):
        session.open_campaign(file, tmp_path, resume=True)
    store = session.open_campaign(file, tmp_path)
    assert store.record.source == FILE and len(store.pending()) == 8
    assert session.open_campaign(file, tmp_path, resume=True).path == store.path
    saved = run_campaign(store, fake_executor(numbers), progress=quiet, draw=False)
    with pytest.raises(ConfigError, match="nothing to resume"):  # complete now
        session.open_campaign(file, tmp_path, resume=True)

    again, table = session.reopen(store.path)
    assert again.path == store.path and table.to_json() == saved.to_json()
    stats = json.loads((store.path / "stats.json").read_text())
    assert {k: v for k, v in stats.items() if k != "campaign_id"} == table.to_json()
    frame = session.comparison_frame(table)
    assert list(frame["configuration"]) == ["t2", "t8", "t2", "t8"]
    assert list(frame["verdict"]) == ["baseline", "better", "baseline", "worse"]
    assert frame["vs t2"].iloc[1].startswith("+") and "css" not in frame
    runs = session.runs_frame(store)
    assert list(runs["order"]) == list(range(8)) and runs["counted"].all()
    with pytest.raises(ConfigError, match="not a campaign directory"):
        session.reopen(tmp_path)

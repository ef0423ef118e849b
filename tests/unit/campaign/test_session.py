"""Opening a campaign for the CLI and the notebook: new, resumed, reopened; the notebook's tables."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest
from test_runner import numbers, quiet

from workbench.campaign import session
from workbench.campaign.runner import run_campaign
from workbench.cli import campaign_cmds
from workbench.errors import ConfigError
from workbench.run import supervisor

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


def test_the_campaign_command_exits_2_when_a_comparison_is_unknown(
    tmp_path: Path, fake_executor: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    file = tmp_path / "nb.toml"
    file.write_text(FILE.replace("repeat = 4", "repeat = 3"))
    monkeypatch.setattr(supervisor, "execute_run", fake_executor(numbers))
    args = argparse.Namespace(file=file, results=tmp_path, resume=False, no_setup=True)
    assert campaign_cmds.cmd_campaign(args) == 2  # 3+3: no verdict can be reached
    assert "unknown: throughput t8: ? (n=3+3, needs 4+4)" in capsys.readouterr().out
    file.write_text(FILE)
    assert campaign_cmds.cmd_campaign(args) == 0

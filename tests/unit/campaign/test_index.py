"""results/index.html lists campaigns beside runs (written when a campaign finishes)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from test_runner import campaign, numbers, quiet

from workbench.campaign.runner import run_campaign
from workbench.campaign.store import CampaignStore
from workbench.report import render_index

pytestmark = pytest.mark.usefixtures("fixed_png")  # figures built, not rasterised


class Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.extend(v or "" for k, v in attrs if k == "href")

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.text.append(data.strip())


def test_index_lists_campaigns_beside_runs(tmp_path: Path, fake_executor: Any) -> None:
    store = CampaignStore.create(tmp_path, campaign(repeat=2))
    run_campaign(store, fake_executor(numbers), progress=quiet, draw=False)
    damaged = tmp_path / "campaigns" / "20200101T000000Z-broken"
    damaged.mkdir()
    (damaged / "campaign.json").write_text('{"runs": [')
    page = Cells()
    page.feed(render_index(tmp_path).read_text())
    assert f"campaigns/{store.campaign_id}/report.html" in page.hrefs
    for r in store.runs:  # the campaign's runs are rows of the runs table as before
        assert f"{r.run_id}/run.json" in page.hrefs
    assert "Campaigns" in page.text and "t2, t8" in page.text and "4 of 4" in page.text
    assert "complete" in page.text and "2 campaigns" in page.text
    assert any(
        t.startswith("unreadable: campaign.json is unreadable: JSONDecodeError") for t in page.text
    )
    assert not any("broken/report.html" in h for h in page.hrefs)  # no report: no link


def test_finishing_a_campaign_writes_the_index(tmp_path: Path, fake_executor: Any) -> None:
    store = CampaignStore.create(tmp_path, campaign(repeat=1))
    run_campaign(store, fake_executor(numbers), progress=quiet, draw=False)
    assert store.campaign_id in (tmp_path / "index.html").read_text()

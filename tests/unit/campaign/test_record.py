"""campaign.json as the typed CampaignRecord: the file main wrote before it (schema 1) is read,
resumed, reported and indexed; a new record round-trips; damage is an error naming the file."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

import workbench.campaign as campaign_pkg
from workbench.artifacts import CampaignDir, Headline
from workbench.artifacts.campaign import CAMPAIGN_SCHEMA, read_campaign, runs_frame
from workbench.campaign import report, session, spec
from workbench.campaign.runner import run_campaign
from workbench.campaign.store import CampaignStore
from workbench.errors import ConfigError
from workbench.report import pages, render_index

pytestmark = pytest.mark.usefixtures("fixed_png")

# written by the code of main before CampaignRecord (CampaignStore + run_campaign with the fake
# executor of conftest.py: run 0 passed, run 1 raised, run 2 failed its check, run 3 Ctrl-C)
SCHEMA1 = Path(__file__).with_name("data") / "campaign_schema1.json"
OLD_ID = "20231114T221320Z-threads"
RAW = {
    "name": "threads",
    "repeat": 2,
    "base": {"duration": 5},
    "configs": [{"name": "t2", "threads": 2}, {"name": "t8", "threads": 8}],
    "compare": {"resamples": 999},
}


def old_campaign(results: Path) -> Path:
    path = results / "campaigns" / OLD_ID
    path.mkdir(parents=True)
    shutil.copy(SCHEMA1, path / "campaign.json")
    return path


def test_a_schema1_campaign_json_reads_as_the_typed_record(tmp_path: Path) -> None:
    raw = json.loads(SCHEMA1.read_text())
    assert raw["schema"] == 1 and raw["runs"][0]["metrics"]["errors"] == 0.0  # the old shape
    rec = CampaignDir(old_campaign(tmp_path)).record
    assert rec.schema_version == CAMPAIGN_SCHEMA and rec.campaign_id == OLD_ID
    assert (rec.status, rec.baseline, rec.subject, rec.workload) == (
        "interrupted", "t2", "etcd", "a",
    )  # fmt: skip
    assert [r.state for r in rec.runs] == ["done", "error", "done", "interrupted"]
    first = rec.runs[0]
    assert first.metrics == Headline(
        throughput=700.0, p50_ms=1.0, p99_ms=4.0, p999_ms=12.0, errors=0
    )
    assert first.verdicts == {"pass": 1} and first.counted and first.run_status == "passed"
    assert (
        rec.runs[1].metrics is None and rec.runs[1].error == "RuntimeError: stack did not come up"
    )
    assert [r.index for r in rec.pending()] == [3] and rec.n_done() == 3 and rec.n_counted() == 1
    frame = runs_frame(rec)
    assert list(frame["throughput"].isna()) == [False, True, False, True]
    assert frame["verdicts"].tolist()[:3] == ["pass=1", "", "fail=1"]


def test_an_old_campaign_resumes_reports_and_is_listed(tmp_path: Path, fake_executor: Any) -> None:
    path = old_campaign(tmp_path)
    c = spec.validate(RAW, validate_params=dict)
    store = CampaignStore.find_resumable(tmp_path, c)
    assert store is not None and store.path == path  # the same validated file

    def numbers(params: dict[str, Any], call: int) -> tuple[float, float, str]:
        return 1400.0, 9.0, "passed"

    run_campaign(store, fake_executor(numbers), progress=lambda _: None, draw=False)
    again = json.loads((path / "campaign.json").read_text())
    assert again["schema"] == CAMPAIGN_SCHEMA  # rewritten in the new shape
    rec = read_campaign(path)
    assert rec.status == "complete" and rec.runs[3].attempts == 2 and rec.runs[3].counted
    assert rec.runs[0].metrics is not None and rec.runs[0].metrics.throughput == 700.0
    _, table = session.reopen(path)
    assert table.summaries["throughput"]["t8"].n == 1 and table.excluded == {"t2": 1, "t8": 1}
    page = report.render(store, table, draw=False).read_text()
    assert OLD_ID in page and "RuntimeError: stack did not come up" in page
    assert f"campaigns/{OLD_ID}/report.html" in render_index(tmp_path).read_text()


def test_a_new_record_round_trips_and_damage_names_the_file(tmp_path: Path) -> None:
    c = spec.validate(RAW, validate_params=dict)
    store = CampaignStore.create(tmp_path, c, source="x", now=1.7e9)
    assert read_campaign(store.path) == store.record
    assert store.record.configs["t8"]["threads"] == 8 and len(store.pending()) == 4
    (store.path / "campaign.json").write_text('{"schema": 2, "runs": []}')
    with pytest.raises(ConfigError, match=r"campaign\.json is unreadable: ValidationError"):
        CampaignDir(store.path)
    with pytest.raises(ConfigError, match="not a campaign directory"):
        CampaignDir(tmp_path)


def test_one_environment_and_one_stylesheet_for_every_page(tmp_path: Path) -> None:
    """The campaign's page and a run's page come through the same loader and share the one
    stylesheet (the campaign template no longer carries its own copy)."""
    path = old_campaign(tmp_path)
    store, table = session.reopen(path)
    campaign_page = report.render(store, table, draw=False).read_text()
    run_page = render_index(tmp_path).read_text()

    def styles(page: str) -> list[str]:
        return re.findall(r"<style>(.*?)</style>", page, re.S)

    assert len(styles(campaign_page)) == 1 and styles(campaign_page) == styles(run_page)
    assert ".better{" in styles(campaign_page)[0]
    assert report.write_page is pages.write_page  # the campaign renders through the one ENV
    assert not list(Path(campaign_pkg.__file__).parent.glob("templates"))


def test_two_campaigns_of_one_name_in_one_second_get_their_own_directories(tmp_path: Path) -> None:
    c = spec.validate(RAW, validate_params=dict)
    first = CampaignStore.create(tmp_path, c, now=1.7e9)
    second = CampaignStore.create(tmp_path, c, now=1.7e9)
    third = CampaignStore.create(tmp_path, c, now=1.7e9)
    ids = [s.campaign_id for s in (first, second, third)]
    assert len(set(ids)) == 3 and ids == sorted(ids)  # later ones sort after, as the time does
    assert all(i.endswith(f"-{c.name}") for i in ids)
    assert read_campaign(second.path).campaign_id == second.campaign_id == second.path.name
    assert read_campaign(first.path).campaign_id == first.path.name  # the first untouched


# stats.json as the bootstrap-era code wrote it (seed and resamples; no ci_level, no ratio_level)
OLD_STATS = {
    "campaign_id": "20261201T100000Z-threads",
    "baseline": "t2",
    "groups": ["t2", "t8"],
    "alpha": 0.05,
    "min_effect": 0.05,
    "seed": 1,
    "resamples": 2000,
    "excluded": {},
    "metrics": {
        "throughput": {
            "unit": "ops/s",
            "higher_is_better": True,
            "summaries": {
                "t2": {
                    "n": 4,
                    "median": 100.0,
                    "mean": 101.0,
                    "ci_low": 95.0,
                    "ci_high": 108.0,
                    "cv": 0.05,
                },
                "t8": {
                    "n": 4,
                    "median": 200.0,
                    "mean": 199.0,
                    "ci_low": 190.0,
                    "ci_high": 210.0,
                    "cv": 0.04,
                },
            },
            "comparisons": {
                "t8": {
                    "metric": "throughput",
                    "n_base": 4,
                    "n_other": 4,
                    "ratio": 2.0,
                    "ratio_low": 1.8,
                    "ratio_high": 2.2,
                    "p_value": 0.03,
                    "verdict": "better",
                    "needed_n": None,
                    "text": "+100.00% (p=0.03 n=4+4)",
                },
            },
        }
    },
}


def test_stats_json_is_typed_and_an_old_one_reads(tmp_path: Path, fake_executor: Any) -> None:
    c = spec.validate(RAW, validate_params=dict)
    store = CampaignStore.create(tmp_path, c, now=1.7e9)
    (store.path / "stats.json").write_text(json.dumps(OLD_STATS))
    old = store.read_stats()
    t8 = old.metrics["throughput"].comparisons["t8"]
    assert t8.verdict == "better" and t8.ratio == 2.0 and t8.ratio_level is None
    assert old.metrics["throughput"].summaries["t2"].ci_level is None
    assert old.model_extra == {"seed": 1, "resamples": 2000}  # kept, never guessed at
    ex = fake_executor(lambda params, call: (100.0 * call, 9.0, "passed"))
    run_campaign(store, ex, progress=lambda _: None, draw=False)
    new = store.read_stats()
    assert new.campaign_id == store.campaign_id and set(new.groups) == set(c.configs)
    assert new.to_json() == json.loads((store.path / "stats.json").read_text())
    (store.path / "stats.json").write_text('{"metrics": []}')
    with pytest.raises(ConfigError, match=r"stats\.json is unreadable"):
        store.read_stats()

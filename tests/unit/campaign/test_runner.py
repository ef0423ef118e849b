"""Running a campaign with a fake executor: order, resume, failures, statistics, report, compare."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from workbench import stats
from workbench.campaign import compare as cmp
from workbench.campaign import report, spec
from workbench.campaign.runner import run_campaign
from workbench.campaign.store import CampaignStore

pytestmark = pytest.mark.usefixtures("fixed_png")  # figures built, not rasterised

THROUGHPUT = {2: [701.0, 709.0, 698.0, 712.0, 705.0], 8: [1392.0, 1401.0, 1380.0, 1410.0, 1399.0]}


def campaign(repeat: int = 4, configs: tuple[int, ...] = (2, 8), **extra: Any) -> spec.Campaign:
    raw = {
        "name": "threads",
        "repeat": repeat,
        "base": {"duration": 5},
        "configs": [{"name": f"t{t}", "threads": t} for t in configs],
        **extra,
        "compare": extra.get("compare", {}),
    }
    return spec.validate(raw, validate_params=dict)


def numbers(params: dict[str, Any], call: int) -> tuple[float, float, str]:
    t = params["threads"]
    ops = THROUGHPUT[t][call % 5]
    return ops, 4.0 if t == 2 else 9.0, "passed"


def quiet(_: str) -> None:
    pass


def test_interleaved_campaign_end_to_end(tmp_path: Path, fake_executor: Any) -> None:
    store = CampaignStore.create(tmp_path, campaign(), source="name = 'threads'")
    ex = fake_executor(numbers)
    lines: list[str] = []
    table = run_campaign(store, ex, progress=lines.append, draw=False)
    assert [c.split("-")[-2] for c in ex.calls] == ["t2", "t8"] * 4  # ABAB
    assert lines[0].startswith("run 1 of 8: t2 #1 ") and "left)" in lines[2]
    assert store.record.status == "complete" and not store.pending()
    c = table.comparisons["throughput"]["t8"]
    assert c.verdict == "better" and c.n_base == c.n_other == 4
    assert table.comparisons["p99_ms"]["t8"].verdict == "worse"
    saved = json.loads((store.path / "stats.json").read_text())
    assert set(saved["metrics"]["throughput"]["summaries"]) == {"t2", "t8"}
    assert saved["metrics"]["throughput"]["comparisons"]["t8"]["text"].startswith("+")
    t8 = saved["metrics"]["throughput"]
    assert t8["summaries"]["t8"]["ci_low"] is None and t8["summaries"]["t8"]["ci_needed_n"] == 6
    assert t8["comparisons"]["t8"]["ratio_level"] == pytest.approx(1 - 2 / 70)  # 4+4: exact
    page = (store.path / "report.html").read_text()
    assert "Figures not drawn" in page and "<img" not in page and "better" in page
    assert "none¹" in page and stats.median_footnote() in page  # 4 runs: no median CI
    assert "] 97.1%" in page and "none²" not in page  # 4+4: the ratio's CI with its coverage
    runs = pd.read_parquet(store.path / "runs.parquet")
    assert list(runs["order"]) == list(range(8)) and runs["counted"].all()
    assert runs.loc[0, "p999_ms"] == pytest.approx(12.0) and runs.loc[0, "verdicts"] == "pass=2"
    for r in store.runs:  # every run a normal run directory beside the others
        path = store.run_path(r)
        assert path is not None and (path / "run.json").is_file() and path.parent == tmp_path


def test_resume_after_interrupt_repeats_nothing_and_skips_nothing(
    tmp_path: Path, fake_executor: Any
) -> None:
    c = campaign(repeat=3)
    store = CampaignStore.create(tmp_path, c)

    def interrupt_third(params: dict[str, Any], call: int) -> tuple[float, float, str]:
        if call == 3:
            raise KeyboardInterrupt
        return numbers(params, call)

    first = fake_executor(interrupt_third)
    with pytest.raises(KeyboardInterrupt):
        run_campaign(store, first, progress=quiet, draw=False)
    reopened = CampaignStore(store.path)
    assert reopened.record.status == "interrupted"
    assert [r.state for r in reopened.runs] == ["done", "done", "interrupted"] + ["planned"] * 3
    found = CampaignStore.find_resumable(tmp_path, c)
    assert found is not None and found.path == store.path
    second = fake_executor(numbers)
    run_campaign(found, second, progress=quiet, draw=False)
    done = [r.run_id for r in found.runs]
    assert len(set(done)) == 6 and all(r.state == "done" for r in found.runs)
    assert second.calls == done[2:]  # the interrupted one again (a new attempt), then the rest
    assert done[2].endswith("-a2") and first.calls[:2] == done[:2]
    assert [(r.config, r.repetition) for r in found.runs] == [
        (f"t{t}", rep) for rep in range(3) for t in (2, 8)
    ]
    assert CampaignStore.find_resumable(tmp_path, c) is None  # nothing left to resume


def test_a_failed_run_is_recorded_excluded_and_the_campaign_goes_on(
    tmp_path: Path, fake_executor: Any
) -> None:
    # no re-runs: what is recorded of each kind of end is the point here (re-runs: below)
    store = CampaignStore.create(tmp_path, campaign(repeat=5, rerun_spoiled=0))

    def flaky(params: dict[str, Any], call: int) -> tuple[float, float, str]:
        if call == 2:
            raise RuntimeError("stack did not come up <b>")
        if call == 4:
            return 1.0, 100.0, "failed"  # checks failed: recorded, not counted
        if call == 6:
            return 1.0, 100.0, "aborted"  # Ctrl-C'd inside the run: not counted either
        if call == 3:
            ops, p99, _ = numbers(params, call)
            return ops, p99, "unknown"  # nothing failed, something unverifiable: counted
        return numbers(params, call)

    ex = fake_executor(flaky)
    table = run_campaign(store, ex, progress=quiet, draw=False)
    assert len(ex.calls) == 10
    states = [(r.state, r.run_status, r.counted) for r in store.runs]
    assert states[1] == ("error", None, False) and states[3] == ("done", "failed", False)
    assert states[5] == ("done", "aborted", False) and states[2] == ("done", "unknown", True)
    assert table.excluded == {"t2": 0, "t8": 3}
    assert table.summaries["throughput"]["t8"].n == 2
    assert table.summaries["throughput"]["t2"].n == 5
    assert "RuntimeError: stack did not come up" in store.runs[1].error


def test_a_a_campaign_reports_no_difference(tmp_path: Path, fake_executor: Any) -> None:
    raw = {
        "name": "aa",
        "repeat": 5,
        "configs": [{"name": "A", "threads": 2}, {"name": "A2", "threads": 2}],
    }
    store = CampaignStore.create(tmp_path, spec.validate(raw, validate_params=dict))
    table = run_campaign(store, fake_executor(numbers), progress=quiet, draw=False)
    for m in table.metrics:
        assert table.comparisons[m]["A2"].verdict == "~", m
    assert cmp.format_table(table).count("~ (p=") == 2


def test_too_few_runs_say_how_many_are_needed(tmp_path: Path, fake_executor: Any) -> None:
    store = CampaignStore.create(tmp_path, campaign(repeat=2))
    table = run_campaign(store, fake_executor(numbers), progress=quiet, draw=False)
    c = table.comparisons["throughput"]["t8"]
    assert c.verdict == "unknown" and c.needed_n == 4
    text = cmp.format_table(table)
    assert "? (n=2+2, needs 4+4)" in text and "none¹" in text and "none²" in text
    assert stats.median_footnote() in text and stats.ratio_footnote(0.95) in text
    assert c.ratio_low is None and c.ratio_needed_n == 4


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_report_is_self_contained_links_runs_and_escapes(
    tmp_path: Path, fake_executor: Any
) -> None:
    evil = "<script>alert('x')</script>"
    c = campaign(repeat=4, rerun_spoiled=0, compare={"metrics": ["throughput", "p99_ms", "p50_ms"]})
    store = CampaignStore.create(tmp_path, c, source=f"# {evil}")

    def once_evil(params: dict[str, Any], call: int) -> tuple[float, float, str]:
        if call == 1:
            raise RuntimeError(evil)
        return numbers(params, call)

    run_campaign(store, fake_executor(once_evil), progress=quiet)
    text = (store.path / "report.html").read_text()
    assert "<script>" not in text and "&lt;script&gt;" in text
    page = Page()
    page.feed(text)
    tags = [t for t, _ in page.tags]
    assert "script" not in tags and "link" not in tags
    imgs = [a for t, a in page.tags if t == "img"]
    assert {a["alt"] for a in imgs} == {
        "runs by configuration",
        "runs in execution order",
        "latency-throughput",  # threads vary
    }
    assert all((a["src"] or "").startswith("data:image/png;base64,") for a in imgs)
    hrefs = [a["href"] or "" for t, a in page.tags if t == "a"]
    assert len(hrefs) == 7  # the run whose executor raised has no directory to link
    for h in hrefs:
        assert (
            not re.match(r"^[a-z]+:", h) and h.startswith("../../") and h.endswith("/report.html")
        )
        assert (store.path / h).parent.joinpath("run.json").is_file()
    assert "better" in text and "t8" in text


def test_no_curve_when_threads_and_target_do_not_vary(tmp_path: Path, fake_executor: Any) -> None:
    raw = {
        "name": "aa",
        "repeat": 1,
        "configs": [{"name": "A", "threads": 2}, {"name": "B", "threads": 2, "x": 1}],
    }
    store = CampaignStore.create(tmp_path, spec.validate(raw, validate_params=dict))
    table = run_campaign(store, fake_executor(numbers), progress=quiet, draw=False)
    # the report embeds exactly these (its test above sees the curve when threads vary)
    assert [f.name for f in report.figures(store, table)] == [
        "runs by configuration",
        "runs in execution order",
    ]


def test_compare_campaign_dirs_run_dirs_and_folders(tmp_path: Path, fake_executor: Any) -> None:
    store = CampaignStore.create(tmp_path / "res", campaign(repeat=4))
    run_campaign(store, fake_executor(numbers), progress=quiet, draw=False)
    one = cmp.compare([store.path])
    assert one.groups == ["t2", "t8"] and one.metrics == ["throughput", "p99_ms"]
    assert one.comparisons["throughput"]["t8"].verdict == "better"
    # plain run directories: each one a group of one run; a folder of runs: one group
    dirs = [p for p in map(store.run_path, store.runs) if p is not None]
    assert len(dirs) == 8
    solo = cmp.compare([dirs[0], dirs[1]])
    assert [s.n for s in solo.summaries["throughput"].values()] == [1, 1]
    assert solo.comparisons["throughput"][dirs[1].name].verdict == "unknown"
    folder = tmp_path / "t2runs"
    folder.mkdir()
    for d in dirs[0::2]:
        (folder / d.name).symlink_to(d)
    grouped = cmp.compare([folder, store.path])
    assert grouped.groups[0] == "t2runs" and "res-campaign/t8" not in grouped.groups
    assert grouped.summaries["throughput"]["t2runs"].n == 4
    name = f"{store.path.name}/t2"
    assert grouped.comparisons["throughput"][name].verdict == "~"
    js = json.loads(json.dumps(grouped.to_json()))
    assert js["baseline"] == "t2runs" and js["metrics"]["throughput"]["higher_is_better"]
    with pytest.raises(Exception, match="neither a run directory"):
        cmp.compare([tmp_path / "res" / "campaigns"])


def test_runs_the_host_spoiled_are_queued_again_interleaved(
    tmp_path: Path, fake_executor: Any
) -> None:
    # the busy-host 4+4 campaign: one t8 run's host_contention failed (it ended `? (n=4+3)`)
    store = CampaignStore.create(tmp_path, campaign(repeat=4))

    def busy(params: dict[str, Any], call: int) -> tuple[float, float, str]:
        ops, p99, _ = numbers(params, call)
        return ops, p99, {2: "host-fail", 3: "host-unknown"}.get(call, "passed")

    ex = fake_executor(busy)
    lines: list[str] = []
    table = run_campaign(store, ex, progress=lines.append, draw=False)
    # each re-run a round later, among the runs still to come (not all at the end)
    assert [c.split("-")[-2] for c in ex.calls] == ["t2", "t8"] * 5
    runs = store.runs
    assert [r.index for r in runs] == list(range(10)) and len(set(ex.calls)) == 10
    assert [(r.config, r.repetition, r.rerun_of) for r in runs[:6]] == [
        ("t2", 0, None), ("t8", 0, None), ("t2", 1, None),
        ("t8", 0, 1), ("t2", 1, 2), ("t8", 1, None),
    ]  # fmt: skip
    assert runs[1].spoiled == "host_contention fail" and not runs[1].counted
    assert runs[2].spoiled == "host_contention unknown" and runs[2].run_status == "unknown"
    assert not runs[2].counted  # an unknown run is counted, unless it was replaced
    c = table.comparisons["throughput"]["t8"]
    assert (c.n_base, c.n_other, c.verdict) == (4, 4, "better") and not cmp.unknown(table)
    summary = store.record.rerun_summary()
    assert summary == "2 runs re-run: host_contention fail (t8 x1); host_contention unknown (t2 x1)"
    assert any("queued again as run 4" in line for line in lines)
    report.render(store, table, draw=False)
    page = store.report_path.read_text()
    assert summary in page and "(re-run of #2)" in page and "spoiled, host_contention fail" in page
    again = CampaignStore(store.path)  # what campaign.json keeps
    assert again.record.reruns()[0][1].rerun_of == 1 and again.reruns_left("t8") == 1


def test_re_runs_stop_at_the_bound_and_an_unknown_comparison_is_said(
    tmp_path: Path, fake_executor: Any
) -> None:
    store = CampaignStore.create(tmp_path, campaign(repeat=4, rerun_spoiled=1))

    def t8_breaks(params: dict[str, Any], call: int) -> tuple[float, float, str]:
        if params["threads"] == 8 and call > 4:
            raise RuntimeError("compose up: daemon busy")  # the workbench broke, not etcd
        return numbers(params, call)

    ex = fake_executor(t8_breaks)
    lines: list[str] = []
    table = run_campaign(store, ex, progress=lines.append, draw=False)
    assert len(ex.calls) == 9 and store.reruns_left("t8") == 0  # 8 planned + 1 re-run
    assert sum(r.spoiled == "workbench error" for r in store.runs) == 3
    assert any("no re-run left for t8" in line for line in lines)
    assert cmp.unknown(table) == [
        "throughput t8: ? (n=4+2, needs 4+4)",
        "p99_ms t8: ? (n=4+2, needs 4+4)",
    ]


def test_old_records_resume_with_the_new_key(tmp_path: Path) -> None:
    c = campaign(repeat=2)
    store = CampaignStore.create(tmp_path, c)
    del store.record.spec["rerun_spoiled"]  # written before the key existed
    store.save()
    found = CampaignStore.find_resumable(tmp_path, c)
    assert found is not None and found.path == store.path and found.file.rerun_spoiled == 2


def test_a_completed_campaign_is_shown_complete(tmp_path: Path, fake_executor: Any) -> None:
    raw = {"name": "c", "repeat": 1, "configs": [{"name": "t2", "threads": 2}]}
    store = CampaignStore.create(tmp_path, spec.validate(raw, validate_params=dict), source="")
    run_campaign(store, fake_executor(lambda p, n: (700.0, 4.0, "passed")), progress=quiet)
    assert store.record.status == "complete"
    page = (store.path / "report.html").read_text()
    assert "status complete" in page and "status running" not in page
    index = (tmp_path / "index.html").read_text()
    campaign_row = index[index.index("<h2>Campaigns</h2>") :]
    assert ">complete<" in campaign_row and ">running<" not in campaign_row

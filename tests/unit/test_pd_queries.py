"""The PD subject holds the TiKV subject's PD half: its PD queries, healthcheck, scrape job.

The TiKV subject cannot start here (no registry); the PD subject can wherever workbench/pd:v8.5.5
builds (tests/integration/test_pd_subject.py runs it). Whatever the TiKV subject claims about PD
must therefore be among what the PD subject has, word for word.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from workbench.manifest import Manifest, load_manifest

PD_NODES = ("pd0", "pd1", "pd2")


def _pd_queries(m: Manifest) -> dict[str, str]:
    return {q.name: q.query for q in m.queries if 'job="pd"' in q.query}


def _compose(m: Manifest) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(Path(m.compose_file).read_text())
    return data


def _scrape_jobs(path: Path) -> dict[str, list[str]]:
    cfg = yaml.safe_load(path.read_text())
    return {
        job["job_name"]: [t for sc in job["static_configs"] for t in sc["targets"]]
        for job in cfg["scrape_configs"]
    }


def test_tikv_pd_queries_are_pd_subject_queries() -> None:
    tikv, pd = load_manifest("tikv"), load_manifest("pd")
    theirs = _pd_queries(tikv)
    assert theirs, "the TiKV subject names no PD query: the selector changed?"
    assert {"cpu_pd", "stores_up"} <= set(theirs)
    ours = {q.name: q.query for q in pd.queries}
    missing = {n: q for n, q in theirs.items() if ours.get(n) != q}
    assert not missing, f"TiKV PD queries absent from subjects/pd/manifest.toml: {missing}"


def test_pd_subject_queries_all_read_pd() -> None:
    pd = load_manifest("pd")
    assert pd.queries and all('job="pd"' in q.query for q in pd.queries)


def test_pd_healthcheck_and_flags_are_the_tikv_subjects() -> None:
    tikv, pd = _compose(load_manifest("tikv")), _compose(load_manifest("pd"))
    for node in PD_NODES:
        ours, theirs = pd["services"][node], tikv["services"][node]
        assert ours["healthcheck"]["test"] == theirs["healthcheck"]["test"]
        assert ours["command"] == theirs["command"]
        assert ours["image"] == "workbench/pd:v8.5.5" and ours["pull_policy"] == "never"
        assert ours["ports"][0].startswith("127.0.0.1:")
    assert not any(s.startswith("tikv") for s in pd["services"])


def test_pd_scrape_job_and_readiness_match_the_tikv_subject() -> None:
    tikv, pd = load_manifest("tikv"), load_manifest("pd")
    ours = _scrape_jobs(pd.directory / "prometheus.yml")
    theirs = _scrape_jobs(tikv.directory / "config" / "prometheus.yml")
    assert ours == {"pd": theirs["pd"]}
    assert pd.readiness_targets is not None and tikv.readiness_targets is not None
    assert pd.readiness_targets.jobs == {"pd": tikv.readiness_targets.jobs["pd"]}
    assert pd.check_options["expected_stores"] == 0
    assert "pd_healthy" in pd.checks["pre"]

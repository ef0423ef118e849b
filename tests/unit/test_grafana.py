from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from workbench import grafana
from workbench.errors import ManifestError
from workbench.manifest import SUBJECTS_DIR, Manifest, Query, load_manifest


def _with(m: Manifest, queries: list[Query] | None = None, **options: object) -> Manifest:
    return dataclasses.replace(
        m,
        queries=tuple(queries) if queries is not None else m.queries,
        check_options={**m.check_options, **options},
    )


QUERIES = [
    Query("mem", 'process_resident_memory_bytes{job="tikv"}', "bytes", "resource"),
    Query(
        "p99", "histogram_quantile(0.99, sum(rate(x_bucket[20s])) by (le, type))", "s", "latency"
    ),
    Query("qps", "sum(rate(x_count[20s])) by (type)", "ops/s", "throughput"),
    Query("odd", "max(y)", "widgets", "other"),
    Query("qps2", "sum(rate(x_count[20s])) by (instance, type)", "ops/s", "throughput"),
    Query("qps3", "sum(rate(z_total[20s]))", "ops/s", "throughput"),
]


@pytest.fixture
def manifest() -> Manifest:
    return _with(load_manifest("tikv"), QUERIES)


def test_units_map_to_grafana_ids() -> None:
    assert grafana.grafana_unit("ops/s") == "ops"
    assert grafana.grafana_unit("s") == "s"
    assert grafana.grafana_unit("bytes") == "bytes"
    assert grafana.grafana_unit("cores") == "short"
    assert grafana.grafana_unit("widgets") == "short"


@pytest.mark.parametrize(
    ("query", "legend"),
    [
        ("sum(rate(a[20s])) by (type)", "{{type}}"),
        ("histogram_quantile(0.99, sum(rate(a_bucket[20s])) by (le, type))", "{{type}}"),
        ("histogram_quantile(0.99, sum(rate(a_bucket[20s])) by (le))", "q"),
        ("sum(rate(a_sum[1m])) by (type) / sum(rate(a_count[1m])) by (type)", "{{type}}"),
        ("sum by (instance, type) (rate(a[1m]))", "{{instance}} {{type}}"),
        ('max(pd_cluster_status{type="store_up_count"})', "q"),
        ('process_resident_memory_bytes{job="tikv"}', "{{instance}}"),
    ],
)
def test_legend_names_the_grouping_labels(query: str, legend: str) -> None:
    assert grafana.legend_format(Query("q", query, "s")) == legend


def test_panels_grouped_throughput_latency_resource_other(manifest: Manifest) -> None:
    d = grafana.dashboard_from_manifest(manifest)
    rows = [p["title"] for p in d["panels"] if p["type"] == "row"]
    assert rows == ["Throughput", "Latency", "Resources", "Other"]
    series = [p["title"] for p in d["panels"] if p["type"] == "timeseries"]
    assert series == ["qps", "qps2", "qps3", "p99", "mem", "odd"]
    by_title = {p["title"]: p for p in d["panels"]}
    assert by_title["qps"]["fieldConfig"]["defaults"]["unit"] == "ops"
    assert by_title["p99"]["fieldConfig"]["defaults"]["unit"] == "s"
    assert by_title["mem"]["fieldConfig"]["defaults"]["unit"] == "bytes"
    assert by_title["odd"]["fieldConfig"]["defaults"]["custom"]["axisLabel"] == "widgets"
    assert by_title["qps2"]["targets"][0]["legendFormat"] == "{{instance}} {{type}}"
    assert by_title["qps"]["targets"][0]["expr"] == QUERIES[2].query


def test_every_panel_uses_the_fixed_datasource_uid(manifest: Manifest) -> None:
    uid = manifest.check_options["grafana_datasource_uid"]
    d = grafana.dashboard_from_manifest(_with(manifest, grafana_datasource_uid="my-prom"))
    assert uid != "my-prom"
    for p in d["panels"]:
        if p["type"] == "timeseries":
            assert p["datasource"] == {"type": "prometheus", "uid": "my-prom"}
            assert p["targets"][0]["datasource"] == {"type": "prometheus", "uid": "my-prom"}


def test_layout_has_unique_ids_and_no_overlap(manifest: Manifest) -> None:
    d = grafana.dashboard_from_manifest(manifest)
    ids = [p["id"] for p in d["panels"]]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for p in d["panels"]:
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24
        mine = {
            (x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])
        }
        assert not cells & mine, f"panel {p['title']} overlaps another"
        cells |= mine
    ys = [p["gridPos"]["y"] for p in d["panels"]]
    assert ys == sorted(ys), "panels are laid out top to bottom in group order"


def test_pure_and_deterministic(manifest: Manifest) -> None:
    before = dataclasses.asdict(manifest)
    a = grafana.dashboard_from_manifest(manifest)
    b = grafana.dashboard_from_manifest(manifest)
    assert a == b and a is not b
    assert dataclasses.asdict(manifest) == before
    assert a["uid"] == manifest.check_options["grafana_dashboard_uid"]
    assert json.loads(json.dumps(a)) == a


def test_manifest_without_datasource_uid_is_refused() -> None:
    etcd = load_manifest("etcd")
    with pytest.raises(ManifestError, match="grafana_datasource_uid") as exc:
        grafana.dashboard_from_manifest(etcd)
    assert str(etcd.path) in str(exc.value)


def test_bad_dashboard_uid_is_refused(manifest: Manifest) -> None:
    with pytest.raises(ManifestError, match="grafana_dashboard_uid"):
        grafana.dashboard_from_manifest(
            _with(manifest, grafana_dashboard_uid="has spaces/and slash")
        )


def test_write_then_check_and_staleness(manifest: Manifest, tmp_path: Path) -> None:
    path = tmp_path / "d" / "dash.json"
    assert not grafana.check(manifest, path)  # missing
    assert grafana.write(manifest, path) == path
    assert grafana.check(manifest, path)
    changed = _with(
        manifest, [*QUERIES[:-1], dataclasses.replace(QUERIES[-1], query="sum(rate(w[20s]))")]
    )
    assert not grafana.check(changed, path)
    path.write_text("{not json")
    assert not grafana.check(manifest, path)


def test_committed_tikv_dashboard_is_current() -> None:
    m = load_manifest("tikv")
    assert grafana.check(m), "run `python -m workbench.grafana tikv` and commit the result"


def test_cli_checks_and_regenerates_a_subject_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subject = tmp_path / "tikv"
    shutil.copytree(SUBJECTS_DIR / "tikv", subject)
    shutil.copytree(SUBJECTS_DIR / "common", tmp_path / "common")
    assert grafana.main(["--check", str(subject)]) == 0
    manifest = subject / "manifest.toml"
    text = manifest.read_text()
    assert 'name = "memory"' in text
    manifest.write_text(text.replace('name = "memory"', 'name = "rss"', 1))
    assert grafana.main(["--check", str(subject)]) == 1
    assert "OUT OF DATE" in capsys.readouterr().out
    assert grafana.main([str(subject)]) == 0
    assert grafana.main(["--check", str(subject)]) == 0
    titles = [
        p["title"]
        for p in json.loads(grafana.dashboard_path(load_manifest(subject)).read_text())["panels"]
    ]
    assert "rss" in titles and "memory" not in titles

"""Reports: self-contained, escaped, rendered from the run directory alone."""

from __future__ import annotations

import base64
import re
import shutil
import time
from html.parser import HTMLParser
from pathlib import Path

from test_artifacts import synthetic_run

from workbench import report
from workbench.artifacts import RunDir


class Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(path: Path) -> Collector:
    c = Collector()
    c.feed(path.read_text())
    return c


def test_report_is_self_contained_with_verdicts_first(tmp_path: Path) -> None:
    rd = synthetic_run(tmp_path, seconds=10)
    out = report.render(rd.path)
    page = parse(out)
    tags = [t for t, _ in page.tags]
    assert "script" not in tags and "link" not in tags  # no code, no external stylesheet
    imgs = [a for t, a in page.tags if t == "img"]
    assert {a["alt"] for a in imgs} == {"throughput", "latency", "resources"}
    for a in imgs:
        src = a["src"] or ""
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    text = " ".join(page.text)
    assert text.index("Verdicts") < text.index("Throughput") < text.index("Parameters")
    assert "cluster_healthy" in text and "subject has no Grafana" in text
    assert "3 members healthy" in text and "workbench_version" in text
    assert (rd.figures_dir / "throughput.png").is_file()
    # every link is relative and points at a file of the run
    hrefs = [a["href"] for t, a in page.tags if t == "a"]
    assert "ycsb/run.final.csv" in hrefs and "checks.json" in hrefs
    for h in hrefs:
        assert not re.match(r"^[a-z]+:", h or "") and (rd.path / h).is_file(), h


def test_numbers_come_from_the_final_block(tmp_path: Path) -> None:
    rd = synthetic_run(tmp_path, seconds=10)
    s = report.summarize(rd)
    assert s.throughput == 1000.0 and s.p99_ms == 3.9 and s.operations == 10_000
    assert s.errors == 0 and s.verdicts == {"pass": 2, "skipped": 1} and s.workload == "a"


def test_untrusted_text_is_escaped(tmp_path: Path) -> None:
    rd = synthetic_run(tmp_path, seconds=5, evil=True, status="error")
    html = report.render(rd.path).read_text()
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "Txn" not in html  # the evil label replaced it, escaped, in the figure only
    assert 'class="failure"' in html


def test_failed_and_unfinished_runs_show_why(tmp_path: Path) -> None:
    failed = synthetic_run(tmp_path, seconds=5, run_id="f", status="failed")
    html = report.render(failed.path).read_text()
    assert "One or more checks failed" in html and ">fail<" in html
    # a run that died in the load stage, before any measurement
    rd = RunDir.create(tmp_path, "dead", "etcd", {"workload": "a"})
    try:
        with rd.stage("stack_up"):
            raise RuntimeError("stack not healthy after 90s; unhealthy: etcd1")
    except RuntimeError:
        pass
    html = report.render(rd.path).read_text()
    assert "did not finish" in html and "unhealthy: etcd1" in html
    assert "No timeline was recorded" in html and "No verdicts were recorded" in html
    rd.finish("error", error="UnhealthyStackError: etcd1 <never> healthy")
    html = report.render(rd.path).read_text()
    assert "etcd1 &lt;never&gt; healthy" in html and "stack_up" in html


def test_rerender_from_a_copied_directory(tmp_path: Path) -> None:
    rd = synthetic_run(tmp_path / "a", seconds=5)
    copy = tmp_path / "elsewhere" / rd.path.name
    shutil.copytree(rd.path, copy)
    shutil.rmtree(copy / "figures")
    out = report.render(copy)
    assert out.parent == copy and (copy / "figures" / "latency.png").is_file()


def test_index_and_ls_list_every_run(tmp_path: Path) -> None:
    a = synthetic_run(tmp_path, seconds=5, run_id="20260101T000001.000Z-etcd-a-aaaaaa")
    b = synthetic_run(
        tmp_path,
        seconds=5,
        run_id="20260101T000002.000Z-etcd-b-bbbbbb",
        workload="b",
        status="failed",
    )
    report.render(a.path)
    (tmp_path / "not-a-run").mkdir()
    out = report.render_index(tmp_path)
    page = parse(out)
    hrefs = [attrs["href"] for t, attrs in page.tags if t == "a"]
    assert f"{a.run_id}/report.html" in hrefs and f"{b.run_id}/run.json" in hrefs
    assert f"{b.run_id}/report.html" not in hrefs  # b has no report (yet): no dead link
    text = " ".join(page.text)
    assert text.index(b.run_id) < text.index(a.run_id)  # newest first
    assert "1,000.0" in text and "3.90" in text
    table = report.format_runs(report.list_runs(tmp_path)).splitlines()
    assert table[0].split() == [
        "run",
        "subject",
        "workload",
        "status",
        "verdicts",
        "ops/s",
        "p99",
        "ms",
    ]
    assert table[1].startswith(b.run_id) and "failed" in table[1] and "1 fail" in table[1]
    assert table[2].startswith(a.run_id) and "passed" in table[2] and "1,000.0" in table[2]


def test_render_is_fast_for_a_60_second_run(tmp_path: Path) -> None:
    rd = synthetic_run(tmp_path, seconds=60)
    t = time.perf_counter()
    report.render(rd.path)
    assert time.perf_counter() - t < 5.0

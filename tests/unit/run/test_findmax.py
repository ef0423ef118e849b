"""findmax's driver without processes: bad input refused before anything starts, the search on a
fake prober writing capacity.json and an escaped report, Ctrl-C recorded and --resume replaying
the probes kept, a probe observed from its interval log, the CLI's --json and exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from workbench.artifacts import RunDir
from workbench.capacity import Probe, read_capacity
from workbench.capacity.record import Step
from workbench.cli import main
from workbench.errors import ParameterError
from workbench.model import ClientSummary, Verdict
from workbench.run import findmax, probes
from workbench.ycsb import intervals as iv


def _params(tmp_path: Path, **kw: Any) -> findmax.FindmaxParams:
    base: dict[str, Any] = {"slo": "p99=50ms", "binding": "basic", "start": 100,
                            "props": ["basicdb.simulatedelay=10"], "results_dir": tmp_path}  # fmt: skip
    return findmax.build_params(**{**base, **kw})


def test_a_probe_at_a_low_rate_is_lengthened_for_the_bound_s_samples(tmp_path: Path) -> None:
    p = _params(tmp_path, probe_duration=5)
    assert p.probe_seconds(1000) == 5  # 5,000 samples: enough for a p99 bound
    assert p.probe_seconds(57) == 6  # 299 needed at p99 (95%), 10% more: 329 / 57 -> 6 s
    assert p.probe_seconds(1) == findmax.MAX_PROBE_S
    run = p.run_params(57, "x", tmp_path)
    assert run.duration == 6 + findmax.PROBE_WARMUP_S and run.warmup == findmax.PROBE_WARMUP_S


def test_bad_input_is_refused_in_one_error(tmp_path: Path) -> None:
    with pytest.raises(ParameterError) as exc:
        _params(tmp_path, slo="p100=5ms", props=["nonsense"], precision=2.0)
    text = str(exc.value)
    assert "(0, 100)" in text and "KEY=VALUE" in text and "precision" in text
    with pytest.raises(ParameterError) as exc:
        _params(tmp_path, probe_duration=1, max_errors=-1)
    assert "probe-duration" in str(exc.value) and "max-errors" in str(exc.value)
    with pytest.raises(ParameterError, match="subject"):
        findmax.check_params(_params(tmp_path, subject="nosuch"))
    with pytest.raises(ParameterError, match="recordcount"):  # -p goes through the run's rules
        findmax.check_params(_params(tmp_path, props=["recordcount=5"]))
    assert not (tmp_path / "capacity").exists()  # nothing was started or written


class FakeProber:
    """A system sustaining 800 ops/s; a probe's run directory is made, as the real ones do."""

    calls: list[tuple[float, str]] = []  # noqa: RUF012 - a test registry
    interrupt_at: int | None = None

    def __init__(self, p: Any, manifest: Any, probes_dir: Path, say: Any) -> None:
        self.dir = probes_dir

    def __call__(self, offered: float, step: Step, run_id: str) -> Probe:
        if FakeProber.interrupt_at is not None and len(FakeProber.calls) == FakeProber.interrupt_at:
            raise KeyboardInterrupt
        FakeProber.calls.append((offered, step))
        rd = RunDir.create(self.dir, run_id, "basic binding", {}, "probe")
        ok = 0 < offered <= 800
        return Probe(index=0, step=step, offered=offered, achieved=min(offered or 900, 800),
                     verdict="measured" if offered == 0 else ("pass" if ok else "fail"),
                     why=["<script>alert(1)</script>"], percentile_bound_ms=10.0 if ok else 90.0,
                     intended_p99_ms=9.0, service_p99_ms=5.0, run_id=run_id,
                     run_dir=str(rd.path))  # fmt: skip


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> type[FakeProber]:
    FakeProber.calls, FakeProber.interrupt_at = [], None
    monkeypatch.setattr(findmax, "NativeProber", FakeProber)
    return FakeProber


def test_a_search_writes_capacity_json_and_an_escaped_report(
    tmp_path: Path, fake: type[FakeProber]
) -> None:
    path, doc = findmax.findmax(_params(tmp_path), progress=lambda m: None)
    assert doc.status == "found" and doc.capacity is not None
    assert doc.capacity.low <= 800 < doc.capacity.high and doc.exit_code() == 0
    kept = read_capacity(path / "capacity.json")
    assert len(kept.probes) == len(fake.calls) and kept.capacity == doc.capacity
    assert all((Path(p.run_dir) / "run.json").is_file() for p in kept.probes)
    page = (path / "report.html").read_text()
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "data:image/png;base64," in page and doc.headline() in page
    assert path.parent == (tmp_path / "capacity").resolve()


def test_ctrl_c_is_recorded_and_resume_replays_the_probes_kept(
    tmp_path: Path, fake: type[FakeProber]
) -> None:
    fake.interrupt_at = 4
    with pytest.raises(KeyboardInterrupt):
        findmax.findmax(_params(tmp_path), progress=lambda m: None)
    (path,) = (tmp_path / "capacity").iterdir()
    assert read_capacity(path / "capacity.json").status == "interrupted"
    first = list(fake.calls)
    fake.interrupt_at = None
    again, doc = findmax.findmax(_params(tmp_path, resume=True), progress=lambda m: None)
    assert again == path and doc.status == "found"
    assert fake.calls[: len(first)] == first and len(doc.probes) == len(fake.calls)
    # nothing to resume now: a clear error
    with pytest.raises(Exception, match="nothing to resume"):
        findmax.findmax(_params(tmp_path, resume=True), progress=lambda m: None)


def test_cli_json_shape_and_exit_code(
    tmp_path: Path, fake: type[FakeProber], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["findmax", "--binding", "basic", "--slo", "p99=50ms", "--start", "100",
            "--results", str(tmp_path), "--json"]  # fmt: skip
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"capacity", "objective", "limit", "probes"}
    assert out["capacity"]["unit"] == "ops/s" and out["limit"] is None
    assert set(out["probes"][0]) == {
        "offered", "achieved", "percentile_ms", "percentile_bound_ms", "verdict", "why"
    }  # fmt: skip
    assert main(["findmax", "--slo", "p0=5ms", "--results", str(tmp_path)]) == 3
    assert "(0, 100)" in capsys.readouterr().err


def _hlog(path: Path, per_second: list[tuple[int, float]]) -> None:
    """An interval log: per second, n operations at a service time and an intended time."""
    text = iv.hlog_header(1_000_000.0)
    for i, (n, intended_ms) in enumerate(per_second):
        for tag, ms in (("TOTAL", 5.0), ("TOTAL-INTENDED", intended_ms)):
            h = iv.new_histogram()
            h.record_value(int(ms * 1000), n)
            text += iv.hlog_line(tag, float(i), 1.0, h)
    path.write_text(text)


def test_a_probe_is_observed_from_its_interval_log(tmp_path: Path) -> None:
    rd = RunDir.create(tmp_path, "p00", "basic binding", {}, "probe")
    _hlog(rd.hlog("run"), [(100, 6.0 + 40 * i) for i in range(8)])  # a queue building
    client = ClientSummary(operations={"READ": 800}, errors={}, run_seconds=9.0, total=800)
    sat = Verdict("client_saturation", "post", "pass", "fine")
    host = Verdict("host_contention", "post", "unknown", "1.2 cores busy outside")
    p = _params(tmp_path)
    obs = probes.observe(rd, p.objective, 100.0, client, [sat, host], tolerate_host=False)
    assert obs.achieved == pytest.approx(100.0)  # from the measured intervals, not run_seconds
    assert sum(n for _, n in obs.distribution) == 800
    assert obs.interval_latency_ms[-1] > obs.interval_latency_ms[0]
    assert obs.host_contended == "1.2 cores busy outside" and obs.client_bound is None
    assert obs.service_p99_ms == pytest.approx(5.0, rel=0.01)
    probe = probes.to_probe(obs, p, "bisect", rd, 1.0)
    assert probe.verdict == "unknown" and probe.limit == "host"
    tolerated = probes.observe(rd, p.objective, 100.0, client, [sat, host], tolerate_host=True)
    judged = probes.to_probe(tolerated, p, "bisect", rd, 1.0)
    assert judged.verdict == "fail" and any("growing" in w for w in judged.why)

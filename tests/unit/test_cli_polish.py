"""What a new user met at the command line (issue 24): each defect, seen from the outside."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from workbench import cli, report
from workbench.artifacts import RunDir
from workbench.errors import ConfigError, ParameterError
from workbench.manifest import load_manifest
from workbench.params import run_params_from_cli
from workbench.provision import Prereq, prereqs
from workbench.report.pages import ENV, plural
from workbench.run import supervisor
from workbench.stack import Stack, compose

FIXTURE_RUN = Path(__file__).parent / "data" / "20261201T100000.000Z-etcd-a-faults1"


def _problems(*assignments: str, **flags: Any) -> list[str]:
    with pytest.raises(ParameterError) as exc:
        run_params_from_cli(list(assignments), subject="etcd", workload="a", **flags)
    return exc.value.problems


def test_a_property_given_twice_is_refused_naming_both_values() -> None:
    found = _problems("recordcount=10", "recordcount=20")
    assert any("recordcount: given 2 times (10, 20)" in p for p in found)
    found = _problems("threads=8", threads=4)
    assert any("threads: given 2 times (4, 8)" in p for p in found)
    # the same value twice is no conflict; subject/workload flags always hold their default
    got = run_params_from_cli(["recordcount=10", "recordcount=10", "workload=b"], workload="a")
    assert got.recordcount == 10 and got.workload == "b"


def test_fault_repeat_without_a_fault_is_refused() -> None:
    found = _problems(fault_repeat=3)
    assert found == ["--fault-repeat: repeats a --fault, but no --fault is given"]
    assert _problems(fault_every=2.0) == [
        "--fault-every: repeats a --fault, but no --fault is given"
    ]
    ok = run_params_from_cli([], faults=["kill:leader@2+1"], fault_repeat=3, fault_every=5.0)
    assert ok.fault_repeat == 3


def test_a_results_path_that_is_a_file_says_so(tmp_path: Path) -> None:
    taken = tmp_path / "results"
    taken.write_text("")
    for path in (taken, taken / "deeper"):
        with pytest.raises(ConfigError) as exc:
            supervisor.check_results_dir(path)
        assert f"{taken} is a file, not a folder" in str(exc.value)
        assert "File exists" not in str(exc.value)


def test_a_signal_is_named_in_its_own_words() -> None:
    assert supervisor.interruption("SIGTERM", "interrupted (SIGINT)") == "terminated (SIGTERM)"
    said = supervisor.interruption("SIGINT", "interrupted (SIGINT)\nstage run was running")
    assert said == "interrupted by SIGINT (Ctrl-C)\nstage run was running"
    assert "Ctrl-C" not in supervisor.interruption("SIGTERM", None)


def test_help_lists_the_workloads_threads_default_and_lab_port(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "c read only" in text and "f 50% read 50% read-modify-write" in text
    assert "client threads per generator (default 4)" in text
    with pytest.raises(SystemExit):
        cli.main(["lab", "--help"])
    assert "port on 127.0.0.1 to serve on (default: 8888)" in capsys.readouterr().out


def test_plural_words() -> None:
    assert plural(1, "run") == "1 run" and plural(0, "run") == "0 runs"
    assert plural(2, "campaign") == "2 campaigns" and plural(1200, "run") == "1,200 runs"
    page = ENV.get_template("index.html").render(root="/r", rows=[], campaigns=[], history=False)
    assert "0 runs" in page


def test_index_of_one_run_says_1_run(tmp_path: Path) -> None:
    rd = RunDir.create(tmp_path, "r1", "etcd", {"workload": "a"})
    rd.finish("passed")
    page = report.render_index(tmp_path).read_text()
    assert "1 run<" in page and "1 runs" not in page


def test_an_optional_tool_image_missing_is_a_note_not_a_failure(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def entries(program: Any, engine: bool | None = None) -> list[Prereq]:
        return [Prereq(f"image {program.key}", False, "missing", "workbench setup --tool go-ycsb")]

    monkeypatch.setattr(prereqs.gobuild, "doctor_entries", entries)
    m = load_manifest("etcd")
    assert m.ycsb is not None and m.ycsb.tool == "native" and "go-ycsb" in m.ycsb.tools
    (note,) = prereqs.tool_entries(m.ycsb.tools, default=m.ycsb.tool)
    assert note.optional and not note.ok
    (needed,) = prereqs.tool_entries(["go-ycsb"], default="go-ycsb")
    assert not needed.optional

    ok = Prereq("docker engine", True, "docker info answers")
    monkeypatch.setattr("workbench.provision.doctor", lambda m: [ok, note])
    monkeypatch.setattr("workbench.faults.actions.supported_actions", lambda: {})
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "note" in out and "optional" in out and "MISSING" not in out
    monkeypatch.setattr("workbench.provision.doctor", lambda m: [ok, needed])
    assert cli.main(["doctor"]) == 1
    assert "MISSING" in capsys.readouterr().out


def test_compose_argv_leaves_out_an_env_file_that_is_gone(tmp_path: Path) -> None:
    m = load_manifest("etcd")
    gone = tmp_path / "wb-etcd-x.env"
    argv = compose.compose_argv(m, "wb-etcd-x", gone)
    assert "--env-file" not in argv and argv[argv.index("--project-name") + 1] == "wb-etcd-x"
    gone.write_text("WB_ETCD0_PORT=1\n")
    argv = compose.compose_argv(m, "wb-etcd-x", gone)
    assert argv[argv.index("--env-file") + 1] == str(gone)


def test_published_ports_are_read_back_per_manifest_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = (
        "etcd0\t127.0.0.1:41001->2379/tcp, 2380/tcp\n"
        "etcd1\t127.0.0.1:41002->2379/tcp\n"
        "prometheus\t127.0.0.1:41004->9090/tcp\n"
        "etcd2\t\n"
    )
    seen: list[list[str]] = []

    def fake_run(argv: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        seen.append(argv)
        return subprocess.CompletedProcess(argv, 0, out, "")

    monkeypatch.setattr(compose.proc, "run", fake_run)
    got = compose.published_ports(load_manifest("etcd"), "wb-etcd-x")
    assert got == {"WB_ETCD0_PORT": 41001, "WB_ETCD1_PORT": 41002, "WB_PROMETHEUS_PORT": 41004}
    assert "label=com.docker.compose.project=wb-etcd-x" in seen[0]


def test_attach_finds_the_state_files_compose_recorded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    other = tmp_path / "other" / "stacks"
    other.mkdir(parents=True)
    (other / "wb-etcd-y.env").write_text("WB_ETCD0_PORT=5001\nWB_SUBJECT=etcd\n")
    monkeypatch.setattr(compose, "recorded_env_file", lambda p: other / f"{p}.env")
    st = Stack.attach(load_manifest("etcd"), "wb-etcd-y")
    assert st.state_dir == other and st.ports["WB_ETCD0_PORT"] == 5001
    assert st.compose_argv()[st.compose_argv().index("--env-file") + 1] == str(st.env_file)


def test_a_closed_pipe_ends_quietly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    read, write = os.pipe()
    os.close(read)
    old = signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    stream = os.fdopen(write, "w")
    monkeypatch.setattr(sys, "stdout", stream)
    try:
        code = cli.main(["compare", "--json", str(FIXTURE_RUN), str(FIXTURE_RUN)])
    finally:
        signal.signal(signal.SIGPIPE, old)
        stream.close()  # its descriptor now writes to /dev/null
    assert code == cli.EXIT_BROKEN_PIPE

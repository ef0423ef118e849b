"""argv builders and the subprocess runner (live lines, raw log, SIGINT bound, evidence)."""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import pytest

from workbench.errors import ConfigError, WorkloadError
from workbench.ycsb.runner import build_go_ycsb_argv, build_native_argv, run_ycsb

REPO = Path(__file__).resolve().parents[3]
WORKLOAD_A = REPO / "subjects" / "etcd" / "workloads" / "workloada"

FINAL = (
    "READ   - Takes(s): 1.0, Count: 10, OPS: 10.0, Avg(us): 5, Min(us): 1, Max(us): 9,"
    " 50th(us): 5, 90th(us): 8, 95th(us): 9, 99th(us): 9, 99.9th(us): 9, 99.99th(us): 9"
)


def script(tmp_path: Path, body: str) -> list[str]:
    path = tmp_path / "fake_ycsb.py"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return [sys.executable, str(path)]


def test_go_ycsb_argv() -> None:
    argv = build_go_ycsb_argv(
        "run",
        "tikv",
        workload_files=["/workloads/workloada"],
        properties={"tikv.pd": "pd1:2379", "tikv.type": "raw", "dataintegrity": True},
        threads=16,
        target=5000,
        interval=1,
    )
    assert argv == [
        "go-ycsb", "run", "tikv", "-P", "/workloads/workloada",
        "-p", "tikv.pd=pd1:2379", "-p", "tikv.type=raw", "-p", "dataintegrity=true",
        "--threads", "16", "--target", "5000", "--interval", "1",
    ]  # fmt: skip


def test_argv_prefix_for_a_compose_service() -> None:
    prefix = ["docker", "compose", "-p", "wb1", "-f", "compose.yaml", "run", "--rm", "-T", "ycsb"]
    argv = prefix + build_go_ycsb_argv("load", "tikv", executable=("/go-ycsb",), threads=4)
    assert argv[len(prefix) :] == ["/go-ycsb", "load", "tikv", "--threads", "4"]
    native = build_native_argv("run", "etcd", executable=("python", "-m", "workbench.ycsb.native"))
    assert native == ["python", "-m", "workbench.ycsb.native", "run", "etcd"]
    assert build_native_argv("load", "basic")[:3] == [sys.executable, "-m", "workbench.ycsb.native"]


@pytest.mark.parametrize(
    "kwargs",
    [{"phase": "shell", "db": "tikv"}, {"phase": "run", "db": ""}],
)
def test_argv_bad_input(kwargs: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        build_go_ycsb_argv(kwargs["phase"], kwargs["db"])
    with pytest.raises(ConfigError, match="property name"):
        build_go_ycsb_argv("run", "tikv", properties={"a=b": "c"})


@pytest.mark.local
def test_lines_stream_live_and_land_in_the_log(tmp_path: Path) -> None:
    argv = script(
        tmp_path,
        f"""
        import sys, time
        print("status line", flush=True)
        time.sleep(1.0)
        print("Run finished, takes 1.0s")
        print({FINAL!r})
        """,
    )
    seen: list[tuple[float, str]] = []
    log = tmp_path / "logs" / "run.log"
    out = run_ycsb(argv, log_path=log, on_line=lambda line: seen.append((time.monotonic(), line)))
    end = time.monotonic()
    assert [line for _, line in seen] == ["status line", "Run finished, takes 1.0s", FINAL]
    assert end - seen[0][0] > 0.7  # the first line arrived while the process still ran
    assert log.read_text().splitlines() == [line for _, line in seen]
    assert out.returncode == 0 and out.result.complete and out.result.get("READ") is not None
    assert out.log_path == log


@pytest.mark.local
def test_nonzero_exit_raises_with_evidence(tmp_path: Path) -> None:
    argv = script(
        tmp_path,
        """
        import sys
        for i in range(100):
            print(f"line {i}")
        print("totalOpCount(operationcount/insertcount/recordcount): 1 should be bigger")
        sys.exit(3)
        """,
    )
    with pytest.raises(WorkloadError) as info:
        run_ycsb(argv, tail_lines=5)
    err = info.value
    assert err.argv == argv and err.returncode == 3
    assert "should be bigger" in err.output_tail and "line 95" not in err.output_tail
    assert "exit 3" in str(err)


@pytest.mark.local
def test_missing_executable_raises_workload_error(tmp_path: Path) -> None:
    with pytest.raises(WorkloadError, match="cannot start"):
        run_ycsb([str(tmp_path / "no-such-go-ycsb"), "run", "basic"])


@pytest.mark.local
def test_duration_sends_sigint_and_keeps_the_final_block(tmp_path: Path) -> None:
    argv = script(
        tmp_path,
        f"""
        import signal, sys, time
        stop = []
        signal.signal(signal.SIGINT, lambda *a: stop.append(1))
        print("running", flush=True)
        while not stop:
            time.sleep(0.01)
        print("Got signal [interrupt] to exit.")
        print("Run finished, takes 1.2s")
        print({FINAL!r})
        """,
    )
    t0 = time.monotonic()
    out = run_ycsb(argv, duration_s=1.0, grace_s=10)
    assert 0.9 < time.monotonic() - t0 < 5
    assert out.interrupted and out.result.complete and out.result.run_seconds == 1.2


@pytest.mark.local
def test_the_duration_counts_from_the_tools_own_start_line(tmp_path: Path) -> None:
    """A container takes a second or two to start: the bound counts from the tool's t=0 (here its
    start line, 1 s after the launch), so the tool runs the whole duration (it ran 4.9 of 6 s)."""
    argv = script(
        tmp_path,
        f"""
        import signal, sys, time
        stop = []
        signal.signal(signal.SIGINT, lambda *a: stop.append(time.monotonic()))
        print("Creating container", flush=True)
        time.sleep(1.0)
        print("****", flush=True)
        start = time.monotonic()
        while not stop:
            time.sleep(0.01)
        print(f"Run finished, takes {{stop[0] - start:.3f}}s")
        print({FINAL!r})
        """,
    )
    first: list[float] = []

    def on_line(text: str) -> None:
        if text == "****" and not first:
            first.append(time.time())

    out = run_ycsb(
        argv, duration_s=1.0, grace_s=10, on_line=on_line,
        duration_from=lambda: first[0] if first else None,
    )  # fmt: skip
    assert out.interrupted and out.result.run_seconds is not None
    assert 1.0 <= out.result.run_seconds < 1.5, out.result.run_seconds
    assert out.wall_seconds >= 2.0  # start-up and the whole duration


@pytest.mark.local
def test_process_ignoring_sigint_is_killed_after_grace(tmp_path: Path) -> None:
    argv = script(
        tmp_path,
        """
        import signal, time
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("stubborn", flush=True)
        time.sleep(60)
        """,
    )
    with pytest.raises(WorkloadError, match="did not stop"):
        run_ycsb(argv, duration_s=0.5, grace_s=0.5)


@pytest.mark.local
def test_timeout(tmp_path: Path) -> None:
    argv = script(tmp_path, "import time\ntime.sleep(60)\n")
    t0 = time.monotonic()
    with pytest.raises(WorkloadError, match="timed out"):
        run_ycsb(argv, timeout_s=0.5)
    assert time.monotonic() - t0 < 10


@pytest.mark.local
def test_native_generator_time_bounded_by_sigint(tmp_path: Path) -> None:
    argv = build_native_argv(
        "run",
        "basic",
        workload_files=[WORKLOAD_A],
        properties={"operationcount": 10**9},
        target=2000,
        interval=1,
    )
    out = run_ycsb(argv, duration_s=2.5, grace_s=15, log_path=tmp_path / "native.log")
    res = out.result
    assert out.interrupted and out.returncode == 0 and res.complete
    assert any("Got signal [interrupt]" in line for line in res.unknown_lines)
    total = res.get("TOTAL")
    assert total is not None and total.count is not None and 3000 < total.count < 7000
    assert len(res.status_blocks) >= 2
    assert res.target is not None and res.target.target_ops == 2000


@pytest.mark.local
def test_interrupt_and_kill_commands_for_wrapped_processes(tmp_path: Path) -> None:
    """Like `docker compose run`: the child ignores SIGINT; a side command interrupts the tool."""
    pidfile = tmp_path / "pid"
    argv = script(
        tmp_path,
        f"""
        import os, signal, time
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stop = []
        signal.signal(signal.SIGUSR1, lambda *a: stop.append(1))
        open({str(pidfile)!r}, "w").write(str(os.getpid()))
        print("running", flush=True)
        while not stop:
            time.sleep(0.01)
        print("Run finished, takes 1s")
        print({FINAL!r})
        """,
    )
    poke = f"import os, signal; os.kill(int(open({str(pidfile)!r}).read()), signal.SIGUSR1)"
    out = run_ycsb(argv, duration_s=0.8, grace_s=10, interrupt_argv=[sys.executable, "-c", poke])
    assert out.interrupted and out.result.complete and out.returncode == 0

    marker = tmp_path / "removed"
    stubborn = script(
        tmp_path,
        "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(60)\n",
    )
    remove = [sys.executable, "-c", f"open({str(marker)!r}, 'w').write('x')"]
    with pytest.raises(WorkloadError, match="did not stop"):
        run_ycsb(
            stubborn,
            duration_s=0.3,
            grace_s=0.5,
            interrupt_argv=[sys.executable, "-c", "pass"],
            kill_argv=remove,
        )
    assert marker.exists()


@pytest.mark.local
def test_start_gate_holds_the_native_generator_until_released(tmp_path: Path) -> None:
    """The generator starts up, prints its banner and waits: no operation before the gate
    returns, and its reported run time is measured from the start line on."""
    argv = build_native_argv(
        "run",
        "basic",
        workload_files=[WORKLOAD_A],
        properties={"operationcount": 10**9, "maxexecutiontime": 1},
        interval=1,
        start_on_stdin=True,
    )
    assert argv[-1] == "--start-on-stdin"
    seen: list[tuple[float, str]] = []
    gate_called: list[float] = []

    def gate() -> None:
        # wait until the tool is up (its banner came), then hold it a while
        deadline = time.monotonic() + 30
        while not any("properties" in line for _, line in seen):
            assert time.monotonic() < deadline, "no banner"
            time.sleep(0.01)
        gate_called.append(time.time())
        time.sleep(1.0)

    out = run_ycsb(argv, on_line=lambda line: seen.append((time.time(), line)), start_gate=gate)
    assert out.released_at is not None and out.released_at >= gate_called[0] + 1.0
    waiting = [t for t, line in seen if line.startswith("Waiting for the start line")]
    assert waiting and waiting[0] < out.released_at
    # nothing but the banner and the waiting line before the release
    early = [line for t, line in seen if t < out.released_at]
    assert not any(line.startswith(("READ", "UPDATE", "TOTAL")) for line in early)
    assert out.result.run_seconds is not None and 0.9 < out.result.run_seconds < 3
    total = out.result.get("TOTAL")
    assert total is not None and total.count is not None and total.count > 0


@pytest.mark.local
def test_a_failing_start_gate_ends_the_tool_without_operations(tmp_path: Path) -> None:
    argv = build_native_argv(
        "run", "basic", workload_files=[WORKLOAD_A], interval=1, start_on_stdin=True
    )

    def gate() -> None:
        raise RuntimeError("Prometheus never answered")

    with pytest.raises(WorkloadError) as err:
        run_ycsb(argv, start_gate=gate)
    assert "start gate failed" in str(err.value) and "Prometheus never answered" in str(err.value)
    assert "stdin closed before the start line" in str(err.value)

"""workbench.docker.engine against httpx.MockTransport (the engine's answers recorded for real
where they matter: /version and the event stream), and the recorder against a fake source."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from workbench.docker.engine import Engine, EngineError, engine_answers
from workbench.docker.events import Event, parse_lines
from workbench.docker.recorder import EventRecorder

CAPTURED = Path(__file__).parents[2] / "fakes" / "captured" / "docker"
LINES = (CAPTURED / "events-container-lifecycle.jsonl").read_text().splitlines()


class QuietAfter(httpx.SyncByteStream):
    """A streamed body that sends its lines, then goes quiet (the read times out)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def __iter__(self) -> Iterator[bytes]:
        for line in self.lines:
            yield (line + "\n").encode()
        raise httpx.ReadTimeout("no event within the read timeout")


def engine(handler: Any) -> Engine:
    return Engine(transport=httpx.MockTransport(handler), timeout=2.0)


def test_version_containers_inspect_stats() -> None:
    seen: list[httpx.Request] = []
    version = json.loads((CAPTURED / "version.json").read_text())

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        path = req.url.path
        if path == "/version":
            return httpx.Response(200, json=version)
        if path == "/containers/json":
            return httpx.Response(200, json=[{"Id": "abc", "Names": ["/wb-x-etcd0-1"]}])
        if path == "/containers/abc/json":
            return httpx.Response(200, json={"State": {"Pid": 42, "Running": True}})
        if path == "/containers/abc/stats":
            return httpx.Response(200, json={"cpu_stats": {"cpu_usage": {"total_usage": 2.5e9}}})
        return httpx.Response(404, json={"message": f"No such container: {path}"})

    with engine(handler) as e:
        assert e.version()["ApiVersion"] == "1.41"
        assert e.containers({"com.docker.compose.project": "wb-x"}, all=True)[0]["Id"] == "abc"
        filters = json.loads(seen[-1].url.params["filters"])
        assert filters == {"label": ["com.docker.compose.project=wb-x"]}
        assert seen[-1].url.params["all"] == "true"
        assert "filters" not in e.running() and "filters" not in seen[-1].url.params
        assert e.inspect("abc")["State"]["Pid"] == 42
        assert e.cpu_seconds("abc") == pytest.approx(2.5)
        assert seen[-1].url.params["one-shot"] == "true"
        assert e.stats("gone") is None and e.cpu_seconds("gone") is None
        with pytest.raises(EngineError, match=r"HTTP 404: .*No such container"):
            e.inspect("gone")


def test_a_transport_failure_and_a_body_that_is_not_json_are_engine_errors() -> None:
    def refused(req: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=req)

    with engine(refused) as e, pytest.raises(EngineError, match="ConnectError"):
        e.version()
    with (
        engine(lambda req: httpx.Response(200, text="<html>")) as e,
        pytest.raises(EngineError, match="not JSON"),
    ):
        e.version()


def test_the_event_stream_with_filters_since_and_until() -> None:
    seen: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return httpx.Response(200, content="\n".join([*LINES, "", "not json"]) + "\n")

    with engine(handler) as e:
        events = list(
            e.events(
                since_ns=1796293018000000000,
                until_ns=1796293056500000000,
                filters={"type": ["container"]},
            )
        )
    assert events == parse_lines(LINES)  # the unreadable line is skipped
    params = seen[0].url.params
    assert (params["since"], params["until"]) == ("1796293018.000000000", "1796293056.500000000")
    assert json.loads(params["filters"]) == {"type": ["container"]}


def test_a_quiet_stream_just_ends_and_a_refusal_raises() -> None:
    with engine(lambda req: httpx.Response(200, stream=QuietAfter(LINES[:3]))) as e:
        assert [ev.action for ev in e.events(read_timeout=0.1)] == [
            "create",
            "start",
            "exec_create",
        ]
    with (
        engine(lambda req: httpx.Response(400, json={"message": "bad filter"})) as e,
        pytest.raises(EngineError, match=r"HTTP 400.*bad filter"),
    ):
        list(e.events())


def test_start_unpause_restart_post_and_say_what_the_engine_refused() -> None:
    seen: list[httpx.Request] = []
    paused = {"abc": True}

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        path = req.url.path
        if req.method != "POST":
            return httpx.Response(405, json={"message": "method not allowed"})
        if path == "/containers/abc/start":
            return httpx.Response(204)
        if path == "/containers/up/start":
            return httpx.Response(304)  # already started: nothing to do
        if path == "/containers/abc/unpause":
            if not paused["abc"]:
                return httpx.Response(409, json={"message": "Container abc is not paused"})
            paused["abc"] = False
            return httpx.Response(204)
        if path == "/containers/abc/restart":
            return httpx.Response(204)
        return httpx.Response(404, json={"message": "No such container: gone"})

    with engine(handler) as e:
        assert e.start("abc") is True
        assert e.start("up") is False
        assert e.unpause("abc") is True
        with pytest.raises(EngineError, match=r"POST /containers/abc/unpause: HTTP 409: Container"):
            e.unpause("abc")
        assert e.restart("abc", timeout_s=3) is True
        assert seen[-1].url.params["t"] == "3"
        assert seen[-1].extensions["timeout"]["read"] == pytest.approx(5.0)  # 2 s + the 3 s grace
        with pytest.raises(EngineError, match=r"HTTP 404: No such container: gone$"):
            e.start("gone")
    assert {r.method for r in seen} == {"POST"}

    def refused(req: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=req)

    with engine(refused) as e, pytest.raises(EngineError, match="POST /containers/x/start: Conn"):
        e.start("x")
    with (
        engine(lambda req: httpx.Response(500, text="<html>oops")) as e,
        pytest.raises(EngineError, match=r"HTTP 500: <html>oops"),
    ):
        e.start("x")


def test_a_socket_file_without_a_listener_is_no_engine(tmp_path: Path) -> None:
    path = str(tmp_path / "docker.sock")
    assert not engine_answers(path)
    with pytest.raises(EngineError, match="no engine listens"):
        Engine.connect(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    try:
        assert engine_answers(path)
    finally:
        listener.close()
    assert Path(path).exists() and not engine_answers(path)  # a stale file: refused


# --- the recorder -------------------------------------------------------------------------------


class FakeSource:
    """Serves the recorded events: the live stream gives the first `live` then goes quiet; a
    bounded query (with until) gives every event from `since` on, as the engine does."""

    def __init__(self, live: int, fail_live: bool = False) -> None:
        self.all = parse_lines(LINES)
        self.live, self.fail_live = live, fail_live
        self.calls: list[dict[str, Any]] = []
        self.closed = False
        self.streamed = threading.Event()

    def events(self, **kw: Any) -> Iterator[Event]:
        self.calls.append(kw)
        since = kw.get("since_ns") or 0
        if kw.get("until_ns") is None:
            if self.fail_live:
                raise OSError("engine gone")
            yield from (e for e in self.all[: self.live] if e.time_ns >= since)
            self.streamed.set()
            return
        yield from (e for e in self.all if since <= e.time_ns <= kw["until_ns"])

    def close(self) -> None:
        self.closed = True


def test_the_recorder_follows_the_stream_and_catches_up_at_stop() -> None:
    source = FakeSource(live=10)
    rec = EventRecorder("wb-evtest", engine=lambda: source, clock=lambda: 1796293000.0)
    rec.start()
    assert source.streamed.wait(5)
    rec._clock = lambda: 1796293100.0  # the run went on meanwhile
    events = rec.stop()
    assert events == parse_lines(LINES)  # each once, though the stop query repeated the 10th
    assert source.closed and rec.error is None
    live = source.calls[0]
    assert live["since_ns"] == 1796293000 * 10**9 and live["read_timeout"] == 1.0
    assert live["filters"]["label"] == ["com.docker.compose.project=wb-evtest"]
    assert "die" in live["filters"]["event"] and "exec_start" not in live["filters"]["event"]
    last = source.calls[-1]
    assert last["since_ns"] == events[9].time_ns and last["until_ns"] == 1796293100 * 10**9
    assert rec.stop() == events  # a second stop changes nothing


def test_the_recorder_never_raises_into_the_run() -> None:
    def no_engine() -> Any:
        raise EngineError("no engine listens at /var/run/docker.sock")

    rec = EventRecorder("p", engine=no_engine).start()
    assert rec.stop() == [] and "no engine listens" in (rec.error or "")

    source = FakeSource(live=0, fail_live=True)
    times = iter([1796293000.0, 1796293100.0])
    rec = EventRecorder("p", engine=lambda: source, clock=lambda: next(times), retry_s=0.01)
    rec.start()
    for _ in range(500):  # the live stream has failed at least once (it retries every 10 ms)
        if rec.error:
            break
        threading.Event().wait(0.01)
    assert rec.stop() == parse_lines(LINES)  # the bounded query at stop still got them
    assert rec.error == "event stream failed: engine gone" and source.closed

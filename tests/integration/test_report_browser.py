"""A real browser opens report.html and index.html: every image loads, the console stays clean.

Headless Debian Chromium driven over the DevTools protocol (a websocket on 127.0.0.1): console
messages, uncaught exceptions and log entries are collected while each page loads from file://,
image natural sizes are read from the DOM, and a full-page screenshot is saved as a test artifact
(`$WB_TEST_ARTIFACTS`, default `<repo>/test-artifacts/`).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from test_artifacts import synthetic_run

from workbench import report

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("WB_TEST_ARTIFACTS", REPO / "test-artifacts"))
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
    "--window-size=1200,900",
]


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI") == "true":
        pytest.fail("Debian's chromium package is not installed (apt-get install chromium)")
    pytest.skip("chromium not installed (apt-get install chromium)")
    raise AssertionError  # unreachable


class Page:
    """One tab over CDP: send commands, collect console/log/exception events."""

    def __init__(self, ws_url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        msg_id = self.next_id
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return dict(msg.get("result", {}))
            self.events.append(msg)

    def wait_event(self, method: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        for e in self.events:
            if e.get("method") == method:
                return e
        while time.monotonic() < deadline:
            msg = json.loads(self.ws.recv())
            self.events.append(msg)
            if msg.get("method") == method:
                return msg
        raise TimeoutError(method)

    def problems(self) -> list[str]:
        out = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
                out.append(f"console.{p['type']}: {p.get('args')}")
            elif m == "Runtime.exceptionThrown":
                out.append(f"exception: {p.get('exceptionDetails')}")
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") in ("error", "warning"):
                out.append(f"log: {p['entry'].get('text')} {p['entry'].get('url', '')}")
        return out


@pytest.fixture(scope="module")
def browser() -> Iterator[str]:
    """A headless Chromium with DevTools on a free 127.0.0.1 port; yields its HTTP base URL."""
    binary = chromium_binary()
    profile = tempfile.mkdtemp(prefix="wb-chromium-")
    log_path = Path(profile) / "chromium.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        base = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and base is None and proc.poll() is None:
            m = re.search(r"DevTools listening on ws://(127\.0\.0\.1:\d+)/", log_path.read_text())
            if m:
                base = f"http://{m.group(1)}"
            else:
                time.sleep(0.1)
        assert base, f"chromium did not start (exit {proc.poll()}):\n{log_path.read_text()[-2000:]}"
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        shutil.rmtree(profile, ignore_errors=True)


def open_page(base: str, path: Path, shot: Path) -> tuple[list[dict[str, Any]], list[str], str]:
    """Load a file in a new tab; return its images, console problems and body text."""
    with httpx.Client(timeout=10) as client:
        tab = client.put(f"{base}/json/new?about:blank").json()
    page = Page(tab["webSocketDebuggerUrl"])
    try:
        for domain in ("Page", "Runtime", "Log"):
            page.send(f"{domain}.enable")
        page.send("Page.navigate", url=path.resolve().as_uri())
        page.wait_event("Page.loadEventFired")
        images = page.send(
            "Runtime.evaluate",
            expression="JSON.stringify(Array.from(document.images).map(i => ({alt: i.alt, "
            "complete: i.complete, w: i.naturalWidth, h: i.naturalHeight})))",
            returnByValue=True,
        )["result"]["value"]
        text = page.send(
            "Runtime.evaluate", expression="document.body.innerText", returnByValue=True
        )["result"]["value"]
        png = page.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        shot.parent.mkdir(parents=True, exist_ok=True)
        shot.write_bytes(base64.b64decode(png["data"]))
        return json.loads(images), page.problems(), str(text)
    finally:
        page.ws.close()


def test_report_and_index_in_a_real_browser(browser: str, tmp_path: Path) -> None:
    results = tmp_path / "results"
    good = synthetic_run(results, seconds=30, run_id="20260101T000001.000Z-etcd-a-aaaaaa")
    bad = synthetic_run(
        results, seconds=5, run_id="20260101T000002.000Z-etcd-a-bbbbbb", evil=True, status="error"
    )
    for rd in (good, bad):
        report.render(rd.path)
    index = report.render_index(results)

    images, problems, text = open_page(browser, good.path / "report.html", ARTIFACTS / "report.png")
    assert problems == []
    assert {i["alt"] for i in images} == {"throughput", "latency", "resources"}
    for img in images:
        assert img["complete"] and img["w"] > 300 and img["h"] > 100, img
    # the passed verdicts are folded ("N passed"): in the page, not in its visible text
    assert "Verdicts" in text and " passed" in text and "cluster_healthy" not in text
    assert "cluster_healthy" in (good.path / "report.html").read_text()

    images, problems, text = open_page(browser, bad.path / "report.html", ARTIFACTS / "failed.png")
    assert problems == [] and all(i["w"] > 0 for i in images)
    assert '<script>alert("x")</script>' in text  # shown as text, never run

    images, problems, text = open_page(browser, index, ARTIFACTS / "index.png")
    assert problems == [] and images == []
    assert good.run_id in text and bad.run_id in text
    assert (ARTIFACTS / "report.png").stat().st_size > 20_000

"""The HTML report in a real browser: headless Chromium loads the sample study's report from a
file:// URL, and we check through the DevTools protocol that the page logs no console error, throws
no exception, makes no network request, and renders its sections and charts; a screenshot of the
first screen (1280 × 900) is saved in the test's temp directory.

The DevTools protocol is spoken over ``--remote-debugging-pipe`` (JSON messages separated by NUL
bytes on file descriptors 3 and 4, as Puppeteer does): no websocket client, no open port, no
dependency beyond the standard library. Skipped when no Chromium is installed (Debian: ``apt-get
install chromium``); ``QUALKIT_CHROMIUM`` names a binary explicitly.
"""
from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # starts headless Chromium

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
         "--window-size=1280,900"]
WIDTH, HEIGHT = 1280, 900


def find_browser() -> str | None:
    explicit = os.environ.get("QUALKIT_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else shutil.which(explicit)
    return next((p for p in map(shutil.which, BROWSERS) if p), None)


class DevTools:
    """A Chromium process driven through the DevTools protocol over a pipe."""

    def __init__(self, binary: str, profile: Path, timeout: float = 20.0):
        self.deadline = time.monotonic() + timeout
        to_chrome_r, self._w = os.pipe()
        self._r, from_chrome_w = os.pipe()
        # Chromium reads commands on fd 3 and writes replies and events on fd 4.
        hi_r = os.dup(to_chrome_r)
        hi_w = os.dup(from_chrome_w)
        while hi_r < 10 or hi_w < 10:  # out of the way of 3 and 4 before dup2
            hi_r, hi_w = os.dup(hi_r), os.dup(hi_w)

        def remap() -> None:
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)

        self.proc = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe",
                                      "about:blank"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     close_fds=False, preexec_fn=remap)
        for fd in {to_chrome_r, from_chrome_w, hi_r, hi_w}:
            os.close(fd)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []

    def _read_message(self) -> dict:
        while b"\0" not in self._buf:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self._r], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise RuntimeError(f"Chromium closed the pipe (exit code {self.proc.poll()})")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        while True:
            reply = self._read_message()
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str) -> dict:
        for ev in self.events:
            if ev.get("method") == method:
                return ev
        while True:
            ev = self._read_message()
            self.events.append(ev)
            if ev.get("method") == method:
                return ev

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except Exception:  # noqa: BLE001 - already gone
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._r)
        os.close(self._w)


def load_page(binary: str, url: str, profile: Path, full_page: bool = False) -> dict:
    """Open ``url`` in a fresh tab; return console messages, exceptions, requests, a PNG and page facts."""
    dt = DevTools(binary, profile)
    try:
        target = dt.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = dt.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            dt.send(f"{domain}.enable", session=session)
        dt.send("Emulation.setDeviceMetricsOverride",
                {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False}, session=session)
        dt.send("Page.navigate", {"url": url}, session=session)
        dt.wait_for("Page.loadEventFired")
        facts = dt.send("Runtime.evaluate", {"returnByValue": True, "expression": """({
            title: document.title,
            sections: [...document.querySelectorAll('main h2[id]')].map(h => h.id),
            svgs: document.querySelectorAll('svg').length,
            tables: document.querySelectorAll('table').length,
            height: document.documentElement.scrollHeight,
            scripts: document.scripts.length,
            bodyWidth: document.body.getBoundingClientRect().width,
        })"""}, session=session)["result"]["value"]
        params: dict = {"format": "png"}
        if full_page:
            params.update(captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": WIDTH, "height": facts["height"], "scale": 1})
        png = base64.b64decode(dt.send("Page.captureScreenshot", params, session=session)["data"])
        # Let late messages (a CSP violation, a failed request) arrive before judging.
        dt.send("Runtime.evaluate", {"expression": "new Promise(r => setTimeout(r, 150))", "awaitPromise": True},
                session=session)
    finally:
        dt.close()
    console = [e["params"] for e in dt.events if e.get("method") == "Runtime.consoleAPICalled"]
    logs = [e["params"]["entry"] for e in dt.events if e.get("method") == "Log.entryAdded"]
    return {
        "errors": [c for c in console if c.get("type") in ("error", "assert")] + [x for x in logs if x.get("level") == "error"],
        "warnings": [c for c in console if c.get("type") == "warning"] + [x for x in logs if x.get("level") == "warning"],
        "exceptions": [e["params"] for e in dt.events if e.get("method") == "Runtime.exceptionThrown"],
        "requests": [e["params"]["request"]["url"] for e in dt.events if e.get("method") == "Network.requestWillBeSent"],
        "png": png, "facts": facts,
    }


@pytest.fixture(scope="module")
def browser() -> str:
    binary = find_browser()
    if binary is None:
        pytest.skip("no Chromium installed (Debian: apt-get install -y chromium); set QUALKIT_CHROMIUM to a binary")
    if not sys.platform.startswith("linux") and not sys.platform == "darwin":
        pytest.skip("the DevTools pipe needs POSIX file descriptors")
    return binary


def test_sample_report_loads_cleanly_in_chromium(browser, tmp_path):
    import qualkit
    from qualkit.reporting.report import build_report
    from qualkit.workspace.scaffold import demo

    ws = qualkit.Workspace(demo(tmp_path / "s"))
    report = build_report(ws)
    result = load_page(browser, report.resolve().as_uri(), tmp_path / "profile")

    assert result["errors"] == [], f"console errors: {result['errors']}"
    assert result["exceptions"] == [], f"uncaught exceptions: {result['exceptions']}"
    external = [u for u in result["requests"] if not u.startswith(("file:", "data:"))]
    assert external == [], f"network requests: {external}"
    assert result["requests"] and result["requests"][0] == report.resolve().as_uri()

    facts = result["facts"]
    assert facts["title"].startswith("PORT evaluation")
    assert facts["sections"] == ["overview", "codebook", "agreement", "heatmap", "themes", "cooccurrence",
                                 "saturation", "rapid", "coreq", "memos"]  # memos: the audit trail
    assert facts["svgs"] >= 4 and facts["tables"] >= 8
    assert facts["scripts"] == 0
    assert facts["bodyWidth"] <= WIDTH  # nothing forces a horizontal scrollbar on the page itself

    shot = tmp_path / "report-first-screen.png"
    shot.write_bytes(result["png"])
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (WIDTH, HEIGHT)


def test_external_resource_would_be_caught(browser, tmp_path):
    """The checks above can fail: a page pulling a remote stylesheet shows up as a request or CSP error."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
                    "content=\"default-src 'none'; style-src 'unsafe-inline'\">"
                    '<link rel="stylesheet" href="https://example.invalid/x.css"></head>'
                    "<body><script>console.error('boom')</script></body></html>", encoding="utf-8")
    result = load_page(browser, page.as_uri(), tmp_path / "profile")
    assert result["errors"], "a CSP violation / console.error must be reported"

"""A headless Chromium for the book's tests, driven over the DevTools protocol (no browser download).

``browser`` loads a page and reports what a reader's browser would complain about: console
errors, uncaught exceptions and failed requests. It uses Debian's ``chromium`` (``make test``
installs it where it can); without it the browser tests skip, saying why.

    report = browser("file:///.../index.html", screenshot=tmp_path / "index.png", width=390,
                     evaluate=("document.documentElement.scrollWidth",))
    report.console_errors, report.failed_requests, report.title, report.text, report.values

References: Chrome DevTools Protocol, https://chromedevtools.github.io/devtools-protocol/
"""
from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CALL_TIMEOUT = 60.0          # seconds a DevTools call may take to answer


@dataclass
class PageReport:
    url: str
    title: str = ""
    console_errors: list = field(default_factory=list)
    failed_requests: list = field(default_factory=list)
    requests: list = field(default_factory=list)
    text: str = ""
    values: dict = field(default_factory=dict)


class _Tab:
    def __init__(self, ws_url: str):
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def call(self, method: str, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        self.ws.settimeout(CALL_TIMEOUT)     # not what ``drain`` or ``wait_for`` left: a loaded machine answers late
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_for(self, method: str, timeout: float = 30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(e.get("method") == method for e in self.events):
                return
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            self.events.append(json.loads(self.ws.recv()))
        raise TimeoutError(f"no {method} within {timeout} s")

    def drain(self, seconds: float):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.ws.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                self.events.append(json.loads(self.ws.recv()))
            except Exception:   # the timeout: nothing more arrived
                return


def _report(url: str, tab: _Tab) -> PageReport:
    rep = PageReport(url)
    for e in tab.events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            rep.console_errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in p["args"]))
        elif m == "Runtime.exceptionThrown":
            rep.console_errors.append(p["exceptionDetails"].get("exception", {}).get("description", "exception"))
        elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
            rep.console_errors.append(p["entry"].get("text", ""))
        elif m == "Network.requestWillBeSent":
            rep.requests.append(p["request"]["url"])
        elif m == "Network.loadingFailed":
            rep.failed_requests.append(f"{p.get('errorText')} ({p.get('type')})")
        elif m == "Network.responseReceived" and p["response"].get("status", 200) >= 400:
            rep.failed_requests.append(f"HTTP {p['response']['status']} {p['response']['url']}")
    return rep


@pytest.fixture(scope="session")
def browser():
    if CHROMIUM is None:
        pytest.skip("no chromium on this machine (Debian: apt-get install chromium; make test installs it as root)")
    pytest.importorskip("websocket")
    profile = Path(tempfile.mkdtemp(prefix="deepfab-chromium-"))
    proc = subprocess.Popen([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                             "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.skip("chromium did not start its DevTools endpoint")
            time.sleep(0.2)
        port = int(port_file.read_text().split()[0])

        def load(url: str, screenshot: Path | None = None, width: int = 1280, height: int = 900,
                 settle: float = 0.5, evaluate: tuple = ()) -> PageReport:
            new = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?about:blank", method="PUT")
            with urllib.request.urlopen(new, timeout=30) as r:
                target = json.loads(r.read())
            tab = _Tab(target["webSocketDebuggerUrl"])
            try:
                for domain in ("Runtime", "Log", "Network", "Page"):
                    tab.call(f"{domain}.enable")
                tab.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                         deviceScaleFactor=1, mobile=width < 600)
                tab.call("Page.navigate", url=url)
                tab.wait_for("Page.loadEventFired")
                tab.drain(settle)
                rep = _report(url, tab)
                rep.title = tab.call("Runtime.evaluate", expression="document.title")["result"].get("value", "")
                rep.text = tab.call("Runtime.evaluate", expression="document.body.innerText")["result"].get("value", "")
                for expression in evaluate:
                    rep.values[expression] = tab.call("Runtime.evaluate", expression=expression,
                                                      returnByValue=True)["result"].get("value")
                if screenshot is not None:
                    shot = tab.call("Page.captureScreenshot", format="png")
                    Path(screenshot).write_bytes(base64.b64decode(shot["data"]))
                return rep
            finally:
                tab.ws.close()
                urllib.request.urlopen(f"http://127.0.0.1:{port}/json/close/{target['id']}", timeout=30).close()

        yield load
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)

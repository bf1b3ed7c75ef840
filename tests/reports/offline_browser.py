"""Open a page in real headless Chromium with the network blocked, and see what it asked for.

Chromium is driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: commands in
on fd 3, replies and events out on fd 4, each JSON message ending in a NUL byte), so no port and
no websocket library. Every request the page makes is recorded (Network domain); every request
that reaches the network stack is paused (Fetch domain) and failed unless it is a file, and the
host resolver resolves nothing, so no request leaves the machine whatever the page does.
"""

from __future__ import annotations

import fcntl
import json
import os
import queue
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LOCAL = ("file:", "data:", "about:", "blob:")
WAIT = 120.0
"""Seconds to wait for Chromium's answer before the test fails (a hang, not a measurement)."""


@dataclass
class Visit:
    """What a page did when opened: the requests it made, those blocked, and `probe`'s value."""

    requested: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """Uncaught script errors of the page."""
    value: Any = None

    @property
    def external(self) -> list[str]:
        return [url for url in [*self.requested, *self.blocked] if not url.startswith(LOCAL)]


class OfflineChromium:
    """One headless Chromium; `visit` opens pages in it, each in a fresh tab."""

    def __init__(self, profile: Path) -> None:
        if not Path(CHROMIUM).exists():
            pytest.skip("headless Chromium missing: apt-get install -y chromium")
        to_browser, self._commands = os.pipe()
        self._events, from_browser = os.pipe()

        def pipes_to_3_and_4() -> None:  # in the child, before exec
            # Out of the way first: either pipe end may itself be fd 3 or 4.
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser, from_browser)]
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        self._process = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--host-resolver-rules=MAP * ~NOTFOUND",
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
                "--window-size=1280,1000",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,  # fds 3 and 4 (our pipes' other ends are not inheritable)
            preexec_fn=pipes_to_3_and_4,  # noqa: PLW1509 (no threads of ours run yet)
        )
        os.close(to_browser)
        os.close(from_browser)
        self._inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._next_id = 0
        self._visit = Visit()

    def _read(self) -> None:
        buffer = b""
        while chunk := os.read(self._events, 1 << 16):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for message in messages:
                self._inbox.put(json.loads(message))
        self._inbox.put(None)

    def _send(self, method: str, params: dict[str, Any] | None = None, **where: Any) -> int:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}, **where}
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        return self._next_id

    def _pump(self) -> dict[str, Any]:
        """The next message, after acting on it if it is an event."""
        message = self._inbox.get(timeout=WAIT)
        if message is None:
            raise RuntimeError("Chromium closed the DevTools pipe")
        method, params = message.get("method"), message.get("params", {})
        if method == "Network.requestWillBeSent":
            self._visit.requested.append(params["request"]["url"])
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self._visit.errors.append(
                details.get("exception", {}).get("description") or details.get("text", "")
            )
        elif method == "Fetch.requestPaused":
            url, where = params["request"]["url"], {"sessionId": message["sessionId"]}
            if url.startswith(LOCAL):
                self._send("Fetch.continueRequest", {"requestId": params["requestId"]}, **where)
            else:
                self._visit.blocked.append(url)
                self._send(
                    "Fetch.failRequest",
                    {"requestId": params["requestId"], "errorReason": "BlockedByClient"},
                    **where,
                )
        return message

    def _call(self, method: str, params: dict[str, Any] | None = None, **where: Any) -> Any:
        sent = self._send(method, params, **where)
        while (message := self._pump()).get("id") != sent:
            pass
        if "error" in message:
            raise RuntimeError(f"{method}: {message['error']}")
        return message.get("result", {})

    def visit(self, url: str, probe: str = "document.title") -> Visit:
        """Open `url`, wait for its load event and its fonts, then evaluate `probe` (a
        JavaScript expression) in it."""
        self._visit = Visit()
        target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})
        where = {"sessionId": session["sessionId"]}
        for domain in ("Network", "Page", "Runtime"):
            self._call(f"{domain}.enable", **where)
        self._call("Fetch.enable", {"patterns": [{"urlPattern": "*"}]}, **where)
        self._call("Page.navigate", {"url": url}, **where)
        while self._pump().get("method") != "Page.loadEventFired":
            pass
        self._call(
            "Runtime.evaluate",
            {"expression": "document.fonts.ready.then(() => true)", "awaitPromise": True},
            **where,
        )
        result = self._call(
            "Runtime.evaluate",
            {"expression": probe, "returnByValue": True, "awaitPromise": True},
            **where,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"probe failed on {url}: {result['exceptionDetails']}")
        self._visit.value = result["result"].get("value")
        self._call("Target.closeTarget", {"targetId": target})
        return self._visit

    def close(self) -> None:
        try:
            self._send("Browser.close")
            self._process.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self._process.kill()
            self._process.wait()
        finally:
            os.close(self._commands)
            self._reader.join(timeout=30)
            os.close(self._events)

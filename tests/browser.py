"""A headless Chromium driven over the DevTools protocol, with the standard library only: enough to
type, click, hold a request back or answer it in the browser's place, and read the page (the
dashboard's interactive tests, tests/test_dashboard_interaction.py). Everything on 127.0.0.1."""
from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "--window-size=1366,900"]


class WebSocket:
    """A client WebSocket (RFC 6455) for the DevTools endpoint: text frames, masked as a client's are."""

    def __init__(self, url: str, timeout: float):
        assert url.startswith("ws://127.0.0.1:"), url
        host_port, _, path = url[len("ws://"):].partition("/")
        host, port = host_port.split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /{path} HTTP/1.1\r\nHost: {host_port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            byte = self.sock.recv(1)
            if not byte:
                raise ConnectionError(f"the browser closed the connection during the handshake: {head!r}")
            head += byte
        assert head.startswith(b"HTTP/1.1 101"), head
        self.buffer = b""

    def send(self, text: str) -> None:
        data, mask = text.encode(), os.urandom(4)
        size = len(data)
        header = bytes([0x81]) + (bytes([0x80 | size]) if size < 126 else
                                  bytes([0x80 | 126]) + struct.pack(">H", size) if size < 65536 else
                                  bytes([0x80 | 127]) + struct.pack(">Q", size))
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _read(self, count: int) -> bytes:
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the browser closed the connection")
            self.buffer += chunk
        out, self.buffer = self.buffer[:count], self.buffer[count:]
        return out

    def receive(self) -> str:
        message = b""
        while True:
            first, second = self._read(2)
            size = second & 0x7F
            if size == 126:
                size = struct.unpack(">H", self._read(2))[0]
            elif size == 127:
                size = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(size)
            opcode = first & 0x0F
            if opcode == 0x8:
                raise ConnectionError("the browser closed the DevTools connection")
            if opcode in (0x9, 0xA):  # ping, pong: not a message (the browser sends none unasked)
                continue
            message += payload
            if first & 0x80:  # the final fragment
                return message.decode()

    def close(self) -> None:
        self.sock.close()


class Browser:
    """One Chromium (the program ``binary``) and one page of it. ``held`` collects the requests
    paused by :meth:`intercept`."""

    def __init__(self, binary: str, timeout: float = 30.0):
        self.profile = tempfile.mkdtemp(prefix="er-chromium-")
        self.process = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
            if time.monotonic() > deadline:
                self.close()
                raise TimeoutError("Chromium did not open its DevTools port")
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        request = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?about:blank", method="PUT")
        target = json.loads(urllib.request.urlopen(request, timeout=timeout).read())
        self.ws = WebSocket(target["webSocketDebuggerUrl"], timeout)
        self.timeout, self.next_id, self.held, self.rules = timeout, 0, [], []
        self.call("Page.enable")
        self.call("Runtime.enable")

    def call(self, method: str, **params):
        self.next_id += 1
        ident = self.next_id
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.receive())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.on_event(message)

    def on_event(self, message: dict) -> None:
        if message.get("method") != "Fetch.requestPaused":
            return
        paused = message["params"]
        for number, (needle, action) in enumerate(self.rules):
            if needle in paused["request"]["url"]:
                if action == "hold":
                    self.held.append(paused)
                    return
                if action[0] == "once":
                    action = action[1:]
                    self.rules[number] = (needle, "pass")
                if action == "pass":
                    break
                status, problem, *headers = action  # answered in the server's place
                extra = [{"name": k, "value": v} for k, v in (headers[0] if headers else {}).items()]
                body = base64.b64encode(json.dumps(problem).encode()).decode()
                self.send("Fetch.fulfillRequest", requestId=paused["requestId"], responseCode=status,
                          responseHeaders=[{"name": "Content-Type", "value": "application/problem+json"}, *extra],
                          body=body)
                return
        self.send("Fetch.continueRequest", requestId=paused["requestId"])

    def send(self, method: str, **params) -> None:
        """A command whose answer is not waited for (from inside an event's handling)."""
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))

    def intercept(self, needle: str, action) -> None:
        """Requests whose URL contains ``needle``: "hold" them (see ``held``), or answer them with
        ``(status, problem)`` or ``(status, problem, headers)``; ``once`` in front, ``("once", …)``,
        answers only the first such request."""
        self.rules.append((needle, action))
        self.call("Fetch.enable", patterns=[{"urlPattern": "*", "requestStage": "Request"}])

    def release(self, needle: str = "", unless: str | None = None) -> None:
        """Let the held requests whose URL contains ``needle`` (and not ``unless``) go on (all of
        them by default)."""
        for paused in [p for p in self.held if needle in p["request"]["url"]
                       and not (unless and unless in p["request"]["url"])]:
            self.send("Fetch.continueRequest", requestId=paused["requestId"])
            self.held.remove(paused)

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def wait_for(self, expression: str, what: str):
        """Poll ``expression`` in the page until it is truthy (handling events meanwhile)."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.05)
        raise TimeoutError(f"the page never showed {what}")

    def until(self, predicate, what: str) -> None:
        """Handle the browser's events until ``predicate()`` holds (a request held, say)."""
        deadline = time.monotonic() + self.timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"never saw {what}")
            self.evaluate("1")
            time.sleep(0.05)

    def open(self, url: str) -> None:
        assert url.startswith("http://127.0.0.1:"), url
        self.evaluate("document.body && (document.body.dataset.ready = 'false')")
        self.call("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete' && document.body.dataset.ready === 'true'", "a loaded page")

    def close(self) -> None:
        if getattr(self, "ws", None) is not None:
            self.ws.close()
        self.process.kill()
        self.process.wait(10)
        shutil.rmtree(self.profile, ignore_errors=True)

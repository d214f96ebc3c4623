"""``/healthz`` answered in the worker's event loop, without a server thread.

``/healthz`` says the process is up. Served by the app, a probe waits for a free
thread like any request: with every thread of a worker busy (heavy requests,
clients that read slowly) it took 2–4 s, past the 1–3 s timeout an orchestrator
gives a liveness probe, which then restarts a server that is only busy.

The worker's event loop already reads each request head (api/worker.py). A
plain probe's head is answered there, with the bytes the app itself gives for
``GET /healthz`` (asked once per worker, so the two cannot drift apart), plus
``Server``, ``Date`` and ``Connection``, as gunicorn writes them; a kept-alive connection goes back to waiting for the
client's next request as gunicorn's own keep-alive does. A plain probe is ``GET`` or ``HEAD`` of
``/healthz`` (no query) in HTTP/1.0 or 1.1, nothing sent after its head, and only
headers that cannot change the answer (:data:`PLAIN_HEADERS`: what curl, Docker's
and Kubernetes' probes and load balancers send). Anything else (an ``Origin``, a
validator, a body, a pipelined request) goes to the app as every request does.
Probes answered here are not in the access log.
"""
from __future__ import annotations

import io
import re
import sys
from email.utils import formatdate
from typing import NamedTuple

from gunicorn.http import wsgi as gunicorn_wsgi

PATH = b"/healthz"
METHODS = (b"GET", b"HEAD")
VERSIONS = (b"HTTP/1.1", b"HTTP/1.0")
#: request headers that leave the answer as it is (lower case)
PLAIN_HEADERS = frozenset({b"host", b"user-agent", b"accept", b"accept-encoding", b"accept-language",
                           b"connection", b"cache-control", b"pragma"})
#: response headers the loop writes itself
OWN_HEADERS = frozenset({"date", "connection", "server"})


#: bytes a header value may not hold (gunicorn 27: RFC 9110 5.5, and a bare CR)
_UNSAFE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


class Probe(NamedTuple):
    method: bytes  # GET or HEAD
    keep_alive: bool  # the client keeps the connection for its next request (RFC 9112 9.3)
    version: bytes = b"HTTP/1.1"  # the request's, which the answer's status line echoes (as gunicorn does)


def probe_of(head: bytes) -> Probe | None:
    """The probe ``head`` (a request head and what came after it) is, or None when it is not a plain
    probe of /healthz."""
    end = head.find(b"\r\n\r\n")
    if end < 0 or end + 4 != len(head):
        return None
    line, *fields = head[:end].split(b"\r\n")
    parts = line.split(b" ")
    if len(parts) != 3 or parts[0] not in METHODS or parts[1] != PATH or parts[2] not in VERSIONS:
        return None
    options, seen = set(), set()
    for field in fields:
        name, colon, value = field.partition(b":")
        name = name.lower()
        # what gunicorn's parser refuses (a name with spaces, a repeated field, a control character
        # or a bare CR in a value: a request-smuggling vector) is left to it, never answered here
        if not colon or name not in PLAIN_HEADERS or name in seen or _UNSAFE.search(value):
            return None
        seen.add(name)
        if name == b"connection":
            options |= {option.strip().lower() for option in value.split(b",")}
    keep_alive = b"keep-alive" in options if parts[2] == b"HTTP/1.0" else b"close" not in options
    return Probe(parts[0], keep_alive, parts[2])


class ProbeAnswer:
    """The bytes of the app's answer to ``GET /healthz``, made as the worker starts."""

    def __init__(self, app_of):
        self.app_of = app_of  # () -> the worker's WSGI app (loaded after the worker is made)
        self.head: bytes | None = None
        self.body = b""

    def render(self) -> None:
        """Ask the app now. The worker does it before it serves anything: its response cache is
        empty then, so the request reads nothing (later, the cache's lookup would connect to the
        database, and a database that does not answer would hold up the event loop)."""
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": PATH.decode(), "QUERY_STRING": "", "SCRIPT_NAME": "",
                   "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "0", "SERVER_PROTOCOL": "HTTP/1.1",
                   "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1", "wsgi.url_scheme": "http",
                   "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr, "wsgi.version": (1, 0),
                   "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False}
        started = []
        chunks = self.app_of()(environ, lambda status, headers, exc_info=None: started.extend((status, headers)))
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        status, headers = started
        lines = [f" {status}", *(f"{name}: {value}" for name, value in headers if name.lower() not in OWN_HEADERS)]
        self.head, self.body = "\r\n".join(lines).encode("latin-1"), body  # (after the version: Probe.version)

    def answer(self, probe: Probe, keep_alive: bool) -> bytes | None:
        """The bytes to send (``keep_alive``: the connection is kept for the client's next request),
        or None when the app's answer could not be made at the start (the app's path answers then)."""
        if self.head is None:
            return None
        connection = "keep-alive" if keep_alive else "close"
        # (the Server header gunicorn writes on every answer: api/server.py names it)
        own = f"\r\nServer: {gunicorn_wsgi.SERVER}\r\nDate: {formatdate(usegmt=True)}\r\nConnection: {connection}\r\n\r\n"
        head = probe.version + self.head + own.encode("latin-1")
        return head + self.body if probe.method == b"GET" else head

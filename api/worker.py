"""gunicorn's gthread worker, made safe against slow clients.

gthread hands a connection to a server thread as soon as its first byte arrives;
the thread then reads the rest of the request head with blocking reads. A client
that sends its headers a byte every few seconds holds a thread for as long as it
likes, and a dozen of them stop a worker answering anyone (issue 19).

:class:`SlowClientSafeWorker` reads each request head in the worker's event loop
instead, without blocking and without a thread: a connection reaches the thread
pool only once its head is complete (the blank line seen, or more bytes than the
head may have, which the parser then refuses), and one whose head is not complete
``header_timeout`` seconds after it started is closed. The bytes read are given
back to gunicorn's parser, which parses and checks them exactly as before.

Writing is bounded too: a response (a streamed export) whose client stops reading
fails after ``send_timeout`` seconds without progress, which closes the body and
so gives back its database session and export slot (api/exports.py).

Closing is done in the event loop without blocking it: gthread closes a connection
"gracefully" (half-close, then read until the client closes, for up to 2 s) in
the loop's own thread, so each client that neither reads nor closes stopped the
worker accepting and dispatching anything for 2 s (measured: probes of 1.9 s).
Here the half-closed connection waits in the poller for the client's end instead.
"""
from __future__ import annotations

import os
import selectors
import socket
import time
from functools import partial

from gunicorn.http2 import negotiation
from gunicorn.workers.gthread import ThreadWorker

#: seconds a client has to send a whole request head (request line and headers)
HEADER_TIMEOUT = float(os.environ.get("EVENT_RECORDS_HEADER_TIMEOUT", "10"))
#: seconds a response may wait for its client to take more bytes
SEND_TIMEOUT = float(os.environ.get("EVENT_RECORDS_SEND_TIMEOUT", "30"))
#: a head longer than this is handed to the parser, which refuses it (431/414)
MAX_HEAD_BYTES = 128 * 1024
HEAD_ENDS = (b"\r\n\r\n", b"\n\n")
#: how long, and how many bytes, a closing connection is drained for (gunicorn's close_graceful)
LINGER_SECONDS = 2.0
LINGER_BYTES = 64 * 1024


class SlowClientSafeWorker(ThreadWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reading_heads: dict = {}  # connection -> the time its head must be complete by
        self.lingering: dict = {}  # half-closed connection -> the time it is closed by in any case

    def _buffers_heads(self, conn) -> bool:
        # TLS and HTTP/2 prior knowledge read their own framing first: left to gthread as it is
        return not self.cfg.is_ssl and not negotiation.prior_knowledge_allowed(self.cfg, conn.client)

    def enqueue_req(self, conn):
        """A connection with a request to read: first its head, in the event loop."""
        read_ahead = conn.parser is not None and conn.parser.unreader.buf.getvalue()  # (pipelined)
        if getattr(conn, "head", None) is None and not read_ahead and self._buffers_heads(conn):
            conn.head = b""
            conn.sock.setblocking(False)
            self.reading_heads[conn] = time.monotonic() + HEADER_TIMEOUT
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_head_bytes, conn))
            return
        super().enqueue_req(conn)

    def on_head_bytes(self, conn, client):
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away before sending a whole head
            self._drop(conn)
            return
        conn.head += data
        if len(conn.head) > MAX_HEAD_BYTES or any(end in conn.head for end in HEAD_ENDS):
            self.poller.unregister(conn.sock)
            del self.reading_heads[conn]
            conn.data_ready = True
            conn.sock.setblocking(True)
            super().enqueue_req(conn)

    def _drop(self, conn) -> None:
        try:
            self.poller.unregister(conn.sock)
        except (OSError, KeyError, ValueError):
            pass
        self.reading_heads.pop(conn, None)
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self):
        """gthread's sweep of idle connections, plus the heads that took too long and the
        closing connections whose client never closed its side."""
        super().murder_pending()
        now = time.monotonic()
        for conn in [conn for conn, deadline in self.reading_heads.items() if deadline <= now]:
            self._drop(conn)
        for conn in [conn for conn, deadline in self.lingering.items() if deadline <= now]:
            self._closed(conn)

    def finish_request(self, conn, fs):
        """(In the event loop.) A connection that is done closes through the poller; the rest
        (kept alive, deferred) goes on as gthread does it."""
        try:
            result = fs.result() if not fs.cancelled() else False
        except Exception:  # noqa: BLE001 - as gthread: the connection is closed
            result = False
        if result is False and self._buffers_heads(conn):
            self.nr_conns -= 1
            self._linger(conn)
            return
        super().finish_request(conn, fs)

    def _linger(self, conn) -> None:
        """Half-close (the client sees the end of the answer, RFC 9112 section 9.6), then wait for
        the client's own end in the poller, draining what it still sends, instead of blocking."""
        try:
            conn.sock.shutdown(socket.SHUT_WR)
            conn.sock.setblocking(False)
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_linger_bytes, conn))
        except (OSError, ValueError, KeyError):
            conn.close()
            return
        conn.drained = 0
        self.lingering[conn] = time.monotonic() + LINGER_SECONDS

    def on_linger_bytes(self, conn, client):
        try:
            data = conn.sock.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        conn.drained += len(data)
        if not data or conn.drained >= LINGER_BYTES:
            self._closed(conn)

    def _closed(self, conn) -> None:
        try:
            self.poller.unregister(conn.sock)
        except (OSError, KeyError, ValueError):
            pass
        self.lingering.pop(conn, None)
        conn.close()

    def handle(self, conn):
        """In a server thread: the parser gets the head read so far, then gthread goes on."""
        head = getattr(conn, "head", None)
        if head is not None:
            conn.head = None
            conn.sock.setblocking(True)
            conn.init()  # (once per connection) the parser, reading from the socket
            conn.parser.unreader.unread(head)
        return super().handle(conn)

    def handle_request(self, req, conn):
        # blocking writes, but never for longer than SEND_TIMEOUT without progress
        conn.sock.settimeout(SEND_TIMEOUT)
        try:
            return super().handle_request(req, conn)
        except TimeoutError:  # (gthread has closed the body: its database and export slot are free)
            self.log.info("dropped %s: it read nothing for %.0f s", conn.client, SEND_TIMEOUT)
            return False
        finally:
            conn.sock.settimeout(None)

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
"""
from __future__ import annotations

import os
import selectors
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


class SlowClientSafeWorker(ThreadWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reading_heads: dict = {}  # connection -> the time its head must be complete by

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
        """gthread's sweep of idle connections, plus the heads that took too long."""
        super().murder_pending()
        now = time.monotonic()
        for conn in [conn for conn, deadline in self.reading_heads.items() if deadline <= now]:
            self._drop(conn)

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
        finally:
            conn.sock.settimeout(None)

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

Accepting is shared: the workers listen on one socket and each accepts only while it
holds no more connections than the least loaded (api/accept_balance.py), so a pool of
keep-alive clients ends up spread evenly over them.

Closing is done in the event loop without blocking it: gthread closes a connection
"gracefully" (half-close, then read until the client closes, for up to 2 s) in
the loop's own thread, so each client that neither reads nor closes stopped the
worker accepting and dispatching anything for 2 s (measured: probes of 1.9 s).
Here the half-closed connection waits in the poller for the client's end instead.
"""
from __future__ import annotations

import fcntl
import os
import select
import selectors
import signal
import socket
import struct
import termios
import time
from functools import partial

from gunicorn.http2 import negotiation
from gunicorn.workers.gthread import ThreadWorker

from .accept_balance import (
    LOOP_SECONDS,
    RECHECK_SECONDS,
    STALL_SECONDS,
    TURN_SECONDS,
    AcceptTable,
)
from . import settings
from .collector import FreezeSchedule
from .liveness import ProbeAnswer, probe_of

#: seconds a client has to send a whole request head (request line and headers)
HEADER_TIMEOUT = settings.value("EVENT_RECORDS_HEADER_TIMEOUT")
#: seconds a response may wait for its client to take more bytes
SEND_TIMEOUT = settings.value("EVENT_RECORDS_SEND_TIMEOUT")
#: a full thread pool that has finished no request for this long is stuck (a deadlock, a hung socket):
#: the loop stops answering liveness probes for it (longer than anything a thread may rightly take but
#: an export to a client that reads, and exports hold at most EVENT_RECORDS_MAX_EXPORTS threads)
STUCK_SECONDS = 2 * SEND_TIMEOUT
#: a head longer than this is handed to the parser, which refuses it (431/414)
MAX_HEAD_BYTES = 128 * 1024
HEAD_ENDS = (b"\r\n\r\n", b"\n\n")
#: how long, and how many bytes, a closing connection is drained for (gunicorn's close_graceful)
LINGER_SECONDS = 2.0
LINGER_BYTES = 64 * 1024
#: sent by a worker that stops accepting to the one that should take over (ignored by default,
#: so a stray one harms nothing; gunicorn uses it for nothing)
WAKE_SIGNAL = signal.SIGURG

#: unsent bytes of earlier answers on a connection past which its next request waits in the loop
MAX_UNSENT = 256 * 1024
#: how often the loop looks at connections waiting for their client to read (while there are any)
SEND_POLL_SECONDS = 0.05


def _whole_head(head: bytes, new: int | None = None) -> bool:
    """Whether ``head`` holds a whole request head (or more than one may have: the parser refuses it).
    ``new``: how many of its bytes just came, the only ones (with the three before them) that can
    end it: looking through all of it again for each piece made a head sent in small pieces cost
    its square."""
    searched = head if new is None else head[-(new + 3):]
    return len(head) > MAX_HEAD_BYTES or any(end in searched for end in HEAD_ENDS)


def _announces_body(req) -> bool:
    return any((name == "CONTENT-LENGTH" and value.strip() != "0") or name == "TRANSFER-ENCODING"
               for name, value in req.headers)


def unsent_bytes(sock) -> int:
    """Bytes written to ``sock`` that its peer has not taken yet (Linux's SIOCOUTQ; 0 where the
    system cannot say)."""
    try:
        return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0"))[0]
    except (OSError, ValueError, AttributeError):
        return 0


#: made when gunicorn's master imports this module, before it forks any worker: shared by them all
ACCEPT_TABLE = AcceptTable()


class SlowClientSafeWorker(ThreadWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.freezing = FreezeSchedule()  # what the worker holds out of the collector's sight (api/collector.py)
        self.in_flight = 0  # connections handed to the thread pool and not yet finished
        self.reading_heads: dict = {}  # connection -> the time its head must be complete by
        # connection -> (the time its client must have read more by, the bytes then unsent) (_to_thread)
        self.waiting_to_send: dict = {}
        self.lingering: dict = {}  # half-closed connection -> the time it is closed by in any case
        # (in the master, which makes the worker and then forks it) the worker's row of the table
        self.accept_slot = ACCEPT_TABLE.reserve(time.monotonic(), self.age)
        if self.accept_slot is None:
            self.log.warning("the accept table is full: worker %s accepts as gunicorn would", self.age)
        self.over_share = False  # not accepting only because another worker holds fewer
        self.probe_answer = ProbeAnswer(lambda: self.wsgi)  # /healthz, answered in the loop (api/liveness.py)
        self.last_finished = time.monotonic()  # when a server thread last finished a request
        self.queued_since = None  # since when connections wait on the socket while this one stood back
        self.turned_at, self.published_conns, self.turn_due = 0.0, -1, True  # its last look at the table

    def run(self):
        try:
            self.probe_answer.render()  # (before any request: api/liveness.py says why)
        except Exception:  # noqa: BLE001 - made when the first probe comes instead
            self.log.exception("the liveness answer could not be made before serving")
        super().run()

    # ------------------------------------------------------------------ accepting, shared evenly

    def init_signals(self):
        """gunicorn's signals, plus the wake-up another worker sends when it stops accepting and
        this one should take over. Whichever thread the signal reaches, Python writes a byte to
        gunicorn's wake-up pipe, which the event loop watches: the loop turns and looks."""
        super().init_signals()
        signal.signal(WAKE_SIGNAL, lambda signum, frame: None)
        signal.siginterrupt(WAKE_SIGNAL, False)  # a server thread's system calls just go on
        self.poller.register(self.PIPE[0], selectors.EVENT_READ, self._drain_wake_ups)

    def _drain_wake_ups(self, pipe):
        self.turn_due = True  # (most likely another worker's wake-up: look at the table now)
        try:
            while os.read(self.PIPE[0], 4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    def wait_for_and_dispatch_events(self, timeout):
        """(Each turn of gthread's loop.) Accept or not by the table, then wait; a worker that
        stopped for its share looks again soon even if nothing wakes it."""
        self.freezing.run(busy=self.in_flight > 0, now=time.monotonic())
        if self.waiting_to_send:
            self._send_waits(time.monotonic())
            timeout = min(timeout, SEND_POLL_SECONDS)
        if self.accept_slot is None:
            return super().wait_for_and_dispatch_events(timeout)
        if not self.alive:  # shutting down: no longer counted, and no longer accepting
            ACCEPT_TABLE.leave(self.accept_slot, self.age)
            return super().wait_for_and_dispatch_events(timeout)
        now = time.monotonic()
        # a look costs a few microseconds and the loop turns several times per request: look when
        # this worker's count changed, when woken for it, and otherwise every TURN_SECONDS
        if self.turn_due or self.nr_conns != self.published_conns or now - self.turned_at >= TURN_SECONDS:
            self._take_turn(now)
        return super().wait_for_and_dispatch_events(
            min(timeout, RECHECK_SECONDS if self.over_share else LOOP_SECONDS))

    def accept(self, listener):
        super().accept(listener)
        if self.accept_slot is not None and self.alive:
            self._take_turn(time.monotonic())  # at once: the burst's next connection may be another's

    def _take_turn(self, now: float) -> None:
        self.turn_due, self.turned_at, self.published_conns = False, now, self.nr_conns
        turn = ACCEPT_TABLE.turn(self.accept_slot, self.nr_conns, now)
        if turn.accept:
            self.over_share, self.queued_since = False, None
        else:
            self.over_share = not self._others_stalled(now)
        self.set_accept_enabled(self.nr_conns < self.worker_connections)
        if not ACCEPT_TABLE.publish(self.accept_slot, self.age, now, os.getpid(), self.nr_conns, self._accepting):
            self._leave_table("its slot of the accept table was given to another worker")
            return
        if turn.wake is not None and self.over_share:
            try:
                os.kill(turn.wake, WAKE_SIGNAL)
            except OSError:  # gone meanwhile: the table stops counting it within LIVE_SECONDS
                pass

    def _others_stalled(self, now: float) -> bool:
        """Whether connections have waited on the shared socket for STALL_SECONDS while this worker
        stood back: the worker whose turn it is does not take them (paused, or its loop is stuck),
        so this one does, whatever the share."""
        if not select.select(self.sockets, [], [], 0)[0]:
            self.queued_since = None
            return False
        if self.queued_since is None:
            self.queued_since = now
        return now - self.queued_since >= STALL_SECONDS

    def _leave_table(self, why: str) -> None:
        self.log.warning("worker %s accepts as gunicorn would: %s", os.getpid(), why)
        self.accept_slot, self.over_share = None, False
        self.set_accept_enabled(self.nr_conns < self.worker_connections)

    def set_accept_enabled(self, enabled):
        # gthread's loop asks for accepting whenever it is under worker_connections: not over its share
        super().set_accept_enabled(enabled and not self.over_share and self.alive)

    def _buffers_heads(self, conn) -> bool:
        # TLS and HTTP/2 prior knowledge read their own framing first: left to gthread as it is
        return not self.cfg.is_ssl and not negotiation.prior_knowledge_allowed(self.cfg, conn.client)

    def enqueue_req(self, conn):
        """A connection with a request to read: first its head, in the event loop. Bytes of it the
        parser read ahead (pipelined behind the previous request) are its start: a head that is
        not complete there is read on here too (in a thread, the rest would be read without end
        by a client sending a byte a second)."""
        if getattr(conn, "head", None) is None and self._buffers_heads(conn):
            read_ahead = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
            if not _whole_head(read_ahead):
                conn.head = bytearray(read_ahead)  # (appended to in place: a head in many pieces)
                conn.sock.setblocking(False)
                self.reading_heads[conn] = time.monotonic() + HEADER_TIMEOUT
                self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_head_bytes, conn))
                return
            conn.parser.unreader.unread(read_ahead)
        self._to_thread(conn)

    def _to_thread(self, conn) -> None:
        """To a server thread, once the answers before on this connection have mostly left: a
        client that pipelines requests and reads no answer would otherwise hold a thread per
        connection, blocked writing, for the send timeout (answers under the large-answer
        threshold take no slot). It waits here, in the loop, without a thread."""
        unsent = unsent_bytes(conn.sock)
        if unsent > MAX_UNSENT and self.alive:
            conn.sock.setblocking(False)
            self.waiting_to_send[conn] = (time.monotonic() + SEND_TIMEOUT, unsent)
            return
        self.in_flight += 1  # finish_request counts it back
        super().enqueue_req(conn)

    def _send_waits(self, now: float) -> None:
        """The connections waiting for their client to read: on to a thread once it has, closed
        once it has read nothing for the send timeout."""
        for conn, (deadline, before) in list(self.waiting_to_send.items()):
            unsent = unsent_bytes(conn.sock)
            if unsent <= MAX_UNSENT or not self.alive:
                # (stopping: the request, not begun, is served or closed by the shutdown; the answers
                # already written still reach the client after the close)
                del self.waiting_to_send[conn]
                if self.alive:
                    self._to_thread(conn)
                else:
                    self._drop(conn)
            elif unsent < before:  # a slow reader, but a reader: the bound is on no progress, as for a thread's send
                self.waiting_to_send[conn] = (now + SEND_TIMEOUT, unsent)
            elif deadline <= now:
                del self.waiting_to_send[conn]
                self.log.info("dropped %s: it read nothing for %.0f s", conn.client, SEND_TIMEOUT)
                self._drop(conn)

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
        if _whole_head(conn.head, len(data)):
            self.poller.unregister(conn.sock)
            del self.reading_heads[conn]
            if self._answered_probe(conn):
                return
            conn.data_ready = True
            conn.sock.setblocking(True)
            self._to_thread(conn)

    def _answered_probe(self, conn) -> bool:
        """A plain liveness probe answered here while the threads make progress (api/liveness.py).
        A pool that is full and has finished nothing for STUCK_SECONDS (a deadlock, a hung
        socket) leaves the probe to the app's path, where it waits and times out: the worker is
        reported as not live, as it is."""
        probe = probe_of(bytes(conn.head))
        # (answered with one non-blocking send: not behind earlier answers still in the socket)
        if probe is None or self._threads_stuck() or unsent_bytes(conn.sock):
            return False
        keep_alive = (probe.keep_alive and self.alive and self.cfg.keepalive > 0
                      and len(self.keepalived_conns) < self.max_keepalived)  # (gthread's own rule)
        answer = self.probe_answer.answer(probe, keep_alive)
        if answer is None:
            return False
        try:
            complete = conn.sock.send(answer) == len(answer)  # (a few hundred bytes: one send)
        except OSError:
            complete = False
        if complete and keep_alive:  # as gthread keeps a connection after a request (finish_request)
            conn.head = None
            conn.set_timeout()
            self.keepalived_conns.append(conn)
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_client_socket_readable, conn))
            return True
        self.nr_conns -= 1
        if complete:
            self._linger(conn)
        else:
            conn.close()
        return True

    def _threads_stuck(self) -> bool:
        return (self.in_flight >= self.cfg.threads
                and time.monotonic() - self.last_finished > STUCK_SECONDS)

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
        self.in_flight -= 1
        self.last_finished = time.monotonic()
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
            conn.parser.unreader.unread(bytes(head))
        return super().handle(conn)

    def handle_request(self, req, conn):
        if req.version > (1, 1):
            # gunicorn's status line echoes the request's version: HTTP/1.2 was answered as
            # HTTP/1.2, a version that does not exist. The answer is in the highest minor
            # version of the request's major that this server speaks (RFC 9110 2.5)
            req.version = (1, 1)
        if _announces_body(req):
            # the API reads no request body (every method it answers takes none): the answer
            # closes the connection, where keeping it would make the thread wait up to 5 s for
            # a body that a hostile client announces and never sends
            req.force_close()
        # blocking writes, but never for longer than SEND_TIMEOUT without progress
        conn.sock.settimeout(SEND_TIMEOUT)
        try:
            return super().handle_request(req, conn)
        except TimeoutError:  # (gthread has closed the body: its database and export slot are free)
            self.log.info("dropped %s: it read nothing for %.0f s", conn.client, SEND_TIMEOUT)
            return False
        finally:
            conn.sock.settimeout(None)

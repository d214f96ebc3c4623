"""The watchdog of SQLite's time budget: one thread per process that interrupts the
connections whose request ran past its deadline (models/backends/sqlite.py starts and ends
the tickets; a progress handler catches what runs between two of its looks)."""
from __future__ import annotations

import heapq
import itertools
import os
import sqlite3
import threading
import time


#: the shortest sleep of the watchdog (seconds): a connection is interrupted at most this long after
#: its deadline. Every statement of every request takes a ticket, nearly all of them ended long
#: before their deadline; waking up at each of those deadlines to drop it cost a worker more than a
#: fifth of the CPU of an item answer (the wake-up takes the GIL from the thread serving requests).
#: Woken at most this often, the watchdog drops all that came due in one look.
LOOK_EVERY = 0.02


class Ticket:
    """One request's deadline on one connection, until it is ended."""

    __slots__ = ("connection", "ended", "fired")

    def __init__(self, connection):
        self.connection = connection
        self.ended = False
        self.fired = False  # the watchdog interrupted the connection


class Watchdog:
    """One thread per process that calls ``connection.interrupt()`` on connections whose
    request ran past its deadline (a thread per request would cost more than most answers).

    Ending a ticket takes the watchdog's lock, which firing holds too: once :meth:`end`
    returns, the connection (kept for the thread's next request) can no longer be interrupted
    on this request's behalf. Ended tickets leave the heap when their deadline comes.
    """

    def __init__(self):
        self.condition = threading.Condition()
        self.heap: list = []
        self.order = itertools.count()
        self.pid = None  # the process whose thread runs (a forked worker starts its own)
        self.looks = 0  # how often the thread woke up to look at its deadlines

    def watch(self, connection, seconds: float) -> Ticket:
        ticket = Ticket(connection)
        deadline = time.monotonic() + seconds
        with self.condition:
            earliest = not self.heap or deadline < self.heap[0][0]
            heapq.heappush(self.heap, (deadline, next(self.order), ticket))
            if self.pid != os.getpid():
                self.pid = os.getpid()
                threading.Thread(target=self._run, name="sqlite-budget-watchdog", daemon=True).start()
            if earliest:  # (otherwise the watchdog wakes up for an earlier one first anyway)
                self.condition.notify()
        return ticket

    def end(self, ticket: Ticket) -> None:
        with self.condition:
            ticket.ended = True

    def _run(self) -> None:
        with self.condition:
            while True:
                self.looks += 1
                now = time.monotonic()
                while self.heap and self.heap[0][0] <= now:
                    _, _, ticket = heapq.heappop(self.heap)
                    if not ticket.ended:
                        ticket.ended = ticket.fired = True
                        try:
                            ticket.connection.interrupt()
                        except sqlite3.ProgrammingError:  # closed meanwhile: nothing runs on it
                            pass
                self.condition.wait(max(self.heap[0][0] - now, LOOK_EVERY) if self.heap else None)

"""The SQLite time budget's watchdog (models/backends/watchdog.py): one thread per process that
interrupts a connection whose statement ran past its deadline, and otherwise stays asleep.

Every statement of every request takes a ticket and nearly all end long before their deadline:
the watchdog must not wake up for each of them (each wake-up takes the GIL from the threads
serving requests), yet must still stop a statement that runs past its deadline."""
from __future__ import annotations

import sqlite3
import time

import pytest

from models.backends.watchdog import LOOK_EVERY, Watchdog

#: a statement that runs until it is interrupted (no progress handler here: only the watchdog stops it)
ENDLESS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"


def test_a_statement_past_its_deadline_is_interrupted():
    watchdog, connection = Watchdog(), sqlite3.connect(":memory:", check_same_thread=False)
    started = time.monotonic()
    ticket = watchdog.watch(connection, 0.2)
    with pytest.raises(sqlite3.OperationalError, match="interrupted"):
        connection.execute(ENDLESS).fetchall()
    elapsed = time.monotonic() - started
    assert ticket.fired and 0.2 <= elapsed < 0.2 + LOOK_EVERY + 1.0, elapsed


def test_ended_tickets_neither_interrupt_nor_wake_the_watchdog_each():
    watchdog, connection = Watchdog(), sqlite3.connect(":memory:", check_same_thread=False)
    tickets = []
    began = time.monotonic()
    while time.monotonic() - began < 0.3:  # a busy worker: a statement's ticket every ~0.1 ms
        ticket = watchdog.watch(connection, 0.05)
        watchdog.end(ticket)
        tickets.append(ticket)
        time.sleep(0.0001)
    time.sleep(0.2)  # every deadline has passed
    assert len(tickets) > 500 and not any(ticket.fired for ticket in tickets)
    # woken about once per LOOK_EVERY (0.5 s of deadlines), not once per ticket
    assert watchdog.looks <= 0.5 / LOOK_EVERY + 10, (watchdog.looks, len(tickets))
    assert connection.execute("SELECT 1").fetchone() == (1,)  # never interrupted

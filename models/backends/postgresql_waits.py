"""Waits for a PostgreSQL server that end at the request's deadline (a server's connections:
models/backends/postgresql.py opens them with :class:`BoundedAdapter`). Imported only where a
PostgreSQL URL is opened: psycopg is an optional dependency."""
from __future__ import annotations

import time

import psycopg
from peewee import Psycopg3Adapter

from .postgresql import DEADLINE

#: what psycopg raises when a wait given a timeout ends without the server's answer
_WAIT_TIMEOUT = getattr(psycopg.errors, "_WaitTimeout", psycopg.OperationalError)

#: seconds the pool's check of a kept connection may take (``SELECT 1``: a round trip). It runs
#: under the pool's lock, which every thread of the worker takes to connect: a kept connection
#: whose server process hangs is given up after this long and replaced by a new one.
POOL_CHECK_SECONDS = 2.0


class BoundedConnection(psycopg.Connection):
    """A psycopg connection whose waits for the server end at its thread's request deadline
    (:meth:`PostgreSQL.watch_request`). What it was in the middle of cannot be resumed, so the
    connection is closed (a pool discards it) and the wait raises OperationalError: the request
    is a 503 to retry."""

    def wait(self, gen, interval: float = 0.1, timeout: float | None = None):
        deadline = getattr(DEADLINE, "at", None)
        if deadline is None or timeout is not None:
            return super().wait(gen, interval, timeout)
        left = deadline - time.monotonic()
        if left <= 0:  # (nothing is sent past the deadline)
            raise self._given_up()
        try:
            return super().wait(gen, interval, left)
        except _WAIT_TIMEOUT as error:
            # only psycopg's own timeout: a server's error that arrives at the deadline (a
            # statement_timeout's cancel) stays what it is, for the budget's 503 to recognise
            if _WAIT_TIMEOUT is psycopg.OperationalError and time.monotonic() < deadline:
                raise  # (a psycopg without _WaitTimeout: a server's error before the deadline)
            raise self._given_up() from error

    def _given_up(self) -> psycopg.OperationalError:
        self.pgconn.finish()
        return psycopg.OperationalError(
            "the database server did not answer within the request's bound (a hung server process or a lost "
            "network); the connection was closed")


class BoundedAdapter(Psycopg3Adapter):
    """peewee's psycopg 3 adapter, connecting with :class:`BoundedConnection` (as its own does)."""

    def connect(self, db, **params):
        if db._encoding:
            params.setdefault("client_encoding", db._encoding)
        if db.database.startswith("postgresql://"):
            params.setdefault("conninfo", db.database)
        else:
            params.setdefault("dbname", db.database)
        return BoundedConnection.connect(**params)

    def is_connection_closed(self, conn):
        # (peewee's check answers "closed" when the statement fails, and the pool connects anew)
        saved = getattr(DEADLINE, "at", None)
        check = time.monotonic() + POOL_CHECK_SECONDS
        DEADLINE.at = check if saved is None else min(saved, check)
        try:
            return super().is_connection_closed(conn)
        finally:
            DEADLINE.at = saved

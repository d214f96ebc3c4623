"""One load at a time per database: the lock a load holds from reading what the database holds
(its plan) until its commit, so that a second load waits and then plans against what the
first committed.

Without it two loads started together (two nodes of a deployment starting on an empty
PostgreSQL database, a scheduled load beside a curator's) both planned against the same
release: on PostgreSQL the second failed with an engine error (a duplicate type of a table
being created, a deadlock), on SQLite with "database is locked" or, when the first had
committed just before the second started writing, by applying a plan made against the
release before (a changed source replaced a second time).

A waiting load says so once and then waits as long as the other takes (a full load of a
large dataset takes minutes). SQLite's lock ends with the process that holds it, however it
ends; PostgreSQL's with its connection, which the server ends when the process is gone (and
its running statement, if any, is done; a client host that crashed or was cut off is noticed
only when TCP keepalive gives up). A pooler in transaction mode (PgBouncer) cannot keep a
session lock: loads connect to the server itself.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
from contextlib import contextmanager
from pathlib import Path

#: PostgreSQL's advisory lock key of a load (one bigint per database; the same in every process)
ADVISORY_KEY = int.from_bytes(hashlib.blake2b(b"event-records load", digest_size=8).digest(), "big", signed=True)

WAITING = "another load of this database is running ({holder}): waiting for it to finish"


def lock_file_of(database_file: Path) -> Path:
    """The file a load of ``database_file`` locks: beside it, as SQLite's own ``-wal`` and ``-shm``.
    (Not the database file itself: closing any other descriptor of a file drops every POSIX
    lock this process holds on it, SQLite's included.)"""
    return database_file.with_name(database_file.name + "-load")


@contextmanager
def file_lock(database_file: Path | None, progress):
    """An exclusive ``flock`` on the database's lock file for the duration (none for a
    database in memory, which no other process can load)."""
    if database_file is None:
        yield
        return
    path = lock_file_of(database_file.resolve())  # (a link to the file is the same database)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except PermissionError:  # another user's lock file: flock needs no more than reading it
        descriptor = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress(WAITING.format(holder=f"it has locked {path}"))
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # (frees the lock)


@contextmanager
def advisory_lock(db, progress):
    """PostgreSQL's session advisory lock :data:`ADVISORY_KEY` on ``db``'s connection for the
    duration (freed by the server if the connection ends first)."""
    taken = db.execute_sql("SELECT pg_try_advisory_lock(%s)", (ADVISORY_KEY,)).fetchone()[0]
    if not taken:
        progress(WAITING.format(holder=_holder(db)))
        # as long as the other load takes: not cut short by a lock_timeout or statement_timeout that
        # the role or database sets (for this wait only; the load's own statements keep them)
        timeouts = db.execute_sql("SELECT current_setting('lock_timeout'), current_setting('statement_timeout')").fetchone()
        db.execute_sql("SET lock_timeout = 0")
        db.execute_sql("SET statement_timeout = 0")
        try:
            db.execute_sql("SELECT pg_advisory_lock(%s)", (ADVISORY_KEY,))
        finally:
            db.execute_sql("SELECT set_config('lock_timeout', %s, false), set_config('statement_timeout', %s, false)",
                           timeouts)
    try:
        yield
    finally:
        try:
            db.execute_sql("SELECT pg_advisory_unlock(%s)", (ADVISORY_KEY,))
        except Exception:  # noqa: BLE001 - a broken connection: its end frees the lock (and the load's own error goes on)
            pass


def _holder(db) -> str:
    """Who holds the load's advisory lock, as an operator finds it in pg_stat_activity (and can
    end it with pg_terminate_backend, if its host is gone and keepalive has not noticed yet)."""
    row = db.execute_sql(
        "SELECT l.pid, a.application_name, a.client_addr::text, "
        "to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') "
        "FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.database = "
        "(SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND l.objsubid = 1 AND ((l.classid::bigint << 32) | l.objid::bigint) = %s", (ADVISORY_KEY,)).fetchone()
    if row is None:  # (it finished in between: the wait below takes the lock at once)
        return "it has just finished"
    pid, application, address, since = row
    described = ", ".join(part for part in (
        application and f"'{application}'", f"from {address}" if address else "on the server's host",
        since and f"connected {since} UTC") if part)
    return f"server process {pid}: {described}"

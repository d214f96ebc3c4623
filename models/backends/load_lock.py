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
large dataset takes minutes); both locks are freed by the operating system or the server
when the process that holds them ends, however it ends.
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
    path = lock_file_of(database_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
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
        holder = db.execute_sql(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = %s", (ADVISORY_KEY,)).fetchone()
        progress(WAITING.format(holder=f"server process {holder[0]}" if holder else "on this server"))
        db.execute_sql("SELECT pg_advisory_lock(%s)", (ADVISORY_KEY,))
    try:
        yield
    finally:
        try:
            db.execute_sql("SELECT pg_advisory_unlock(%s)", (ADVISORY_KEY,))
        except Exception:  # noqa: BLE001 - a broken connection: its end frees the lock (and the load's own error goes on)
            pass

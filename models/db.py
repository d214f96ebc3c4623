"""Connections: URLs, opening a database through its backend, and the read router.

The models are bound to ``records.database`` (a :class:`peewee.DatabaseProxy`) and
use thread-safe metadata, so a web request binds them, for its own thread only,
to the database it reads (see :class:`ReadRouter` and api/database.py); the binding
stays for the thread's next request, and code outside a request binds with ``bind_ctx``.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from peewee import InterfaceError, OperationalError

from . import backends

DEFAULT_DATA_DIR = "data"
SQLITE_FILENAME = "event-records.sqlite3"

#: Exceptions that mean "the database cannot be reached right now" (turned into 503).
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError, *backends.unavailable_errors())


def default_database_url(data_dir: str | os.PathLike | None = None) -> str:
    """The SQLite file used when ``DATABASE_URL`` is unset."""
    directory = Path(data_dir or os.environ.get("EVENT_RECORDS_DATA_DIR") or DEFAULT_DATA_DIR)
    return f"sqlite:///{directory.resolve() / SQLITE_FILENAME}"


def database_url_from_env() -> str:
    return os.environ.get("DATABASE_URL") or default_database_url()


def database_file(url: str) -> Path | None:
    """The file behind a URL of a file database (SQLite), None for servers."""
    return backends.for_url(url).file_path(url)


def open_database(url: str, *, read_only: bool = False, create_dir: bool = False, mapped_bytes: int = 0):
    """A peewee Database for ``url`` (not yet connected).

    Files opened ``read_only`` are never created: a server whose database was
    removed answers 503 instead of silently serving an empty one.
    """
    return backends.for_url(url).open(url, read_only=read_only, create_dir=create_dir, mapped_bytes=mapped_bytes)


def close_database(db) -> None:
    """Close this thread's connection to ``db`` whatever state it is in (a transaction
    left open or aborted included): roll back, forget the transactions, close."""
    if db is None or db.is_closed():
        return
    try:
        if db.in_transaction():
            while db.in_transaction():
                db.pop_transaction()
            db.rollback()
    except Exception:  # noqa: BLE001 - a broken connection is closed below all the same
        pass
    try:
        db.close()
    except Exception:  # noqa: BLE001
        db.dispose()  # forget the connection state of this thread


def _file_identity(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino)


#: how often (seconds) a server thread looks at the path of the file its connection reads. A
#: stat is a system call, during which Python lets the thread's neighbours take the interpreter:
#: done on every request it cost a cached answer a tenth of its throughput (benchmarks/run.py
#: --only repeated, 2026-12-02: 0.71 of the bare gunicorn floor per request, 0.75-0.79 once a second).
#: Commits are seen on every request all the same (the change marker, :meth:`ReadRouter.known_version`):
#: only a file removed or renamed away is noticed up to this late, and meanwhile the open
#: connection goes on reading the file it opened, whole and consistent.
FILE_CHECK_SECONDS = 1.0


class ReadRouter:
    """Chooses the database a request reads from.

    Replicas are used round-robin; one that fails to connect is skipped and left
    out for ``cooldown`` seconds; when none answers, the primary serves the read.

    A server thread keeps its connection to a file database from one request to the next
    (opening one, with its pragmas, and starting with a cold page cache cost
    more than most answers), as long as the file is the one it opened: a file
    removed or replaced is noticed by its inode (looked at once a second per thread,
    :data:`FILE_CHECK_SECONDS`), and the request that notices it opens the path
    again (and gets a 503 if nothing is there). Other backends
    connect per request (``postgresql+pool://`` pools the connections).
    """

    def __init__(self, primary_url: str, replica_urls: list[str] | None = None, cooldown: float = 5.0,
                 mapped_bytes: int = 0, file_check_seconds: float = FILE_CHECK_SECONDS):
        self.primary_url = primary_url
        self.primary = open_database(primary_url, read_only=True, mapped_bytes=mapped_bytes)
        self.replica_urls = list(replica_urls or [])
        self.replicas = [open_database(url, read_only=True, mapped_bytes=mapped_bytes) for url in self.replica_urls]
        self.cooldown = cooldown
        self._down_until: dict[int, float] = {}
        self._next_replica = 0  # where the next request starts its round of the replicas
        self._lock = threading.Lock()
        urls = [primary_url, *(replica_urls or [])]
        self._paths = {id(db): str(database_file(url)) for db, url in zip([self.primary, *self.replicas], urls)
                       if database_file(url) is not None}
        self.file_check_seconds = file_check_seconds
        self._opened = threading.local()  # id(db) -> identity of the file this thread's connection reads

    def _drop_if_replaced(self, db) -> None:
        """Close this thread's connection if the path no longer holds the file it opened (looked
        at once every ``file_check_seconds``)."""
        path = self._paths.get(id(db))
        if path is None or db.is_closed():
            return
        now = time.monotonic()
        looked = getattr(self._opened, "looked", {})
        if now - looked.get(id(db), -self.file_check_seconds) < self.file_check_seconds:
            return
        looked[id(db)] = now
        opened = getattr(self._opened, "files", {}).get(id(db))
        if opened is None or _file_identity(path) != opened:
            close_database(db)

    def _identity(self, db) -> tuple[int, int] | None:
        path = self._paths.get(id(db))
        return None if path is None else _file_identity(path)

    def _opened_now(self, db, identity: tuple[int, int] | None) -> None:
        if id(db) in self._paths:
            if not hasattr(self._opened, "files"):
                self._opened.files, self._opened.looked = {}, {}
            self._opened.files[id(db)] = identity
            self._opened.looked[id(db)] = time.monotonic()
            # data_version counts per connection: a marker of the previous connection means nothing
            getattr(self._opened, "versions", {}).pop(id(db), None)

    def known_version(self, db) -> tuple[object, str | None]:
        """(marker, version) of this thread's connection to a file database: the version (what the
        caller remembered: api.database.serving_key) last read through it if nothing was committed
        to the file since (the backend's change marker, read before any transaction), else None.
        Pass the marker to :meth:`remember_version`."""
        if id(db) not in self._paths:
            return None, None
        marker = backends.of(db).change_marker(db)
        known = getattr(self._opened, "versions", {}).get(id(db))
        return marker, (known[1] if known and known[0] == marker else None)

    def remember_version(self, db, marker, version: str | None) -> None:
        """The dataset version read in this request's snapshot, under the marker read before it
        began: a commit in between makes the marker stale, so the next request reads again."""
        if marker is None or version is None:
            return
        if not hasattr(self._opened, "versions"):
            self._opened.versions = {}
        self._opened.versions[id(db)] = (marker, version)

    def release(self, db, reusable: bool) -> None:
        """End this thread's use of ``db`` for the request: keep a healthy connection to a
        file database for the next one, close anything else."""
        if reusable and id(db) in self._paths and not db.is_closed() and not db.in_transaction():
            return
        close_database(db)

    def candidates(self):
        """The replicas in turn, each request starting one further along (round-robin), then the
        primary; a replica left out for its cooldown is passed over."""
        now = time.monotonic()
        count = len(self.replicas)
        if count:
            with self._lock:
                start, self._next_replica = self._next_replica, (self._next_replica + 1) % count
            for index in [(start + step) % count for step in range(count)]:
                if self._down_until.get(index, 0) <= now:
                    yield index, self.replicas[index]
        yield None, self.primary

    def is_replica(self, db) -> bool:
        """Whether ``db`` is one of the replicas (a replica URL that is the primary's own is not)."""
        return any(db is replica and url != self.primary_url for replica, url in zip(self.replicas, self.replica_urls))

    def primary_release(self) -> int | None:
        """The newest release the primary holds (None: no dataset, or it does not answer): what a
        replica's answer is compared with before telling a client that the replica is behind."""
        try:
            self.primary.connect(reuse_if_open=True)
            try:
                row = self.primary.execute_sql("SELECT value FROM dataset_meta WHERE key = 'release'").fetchone()
            finally:
                if id(self.primary) not in self._paths:
                    self.primary.close()
        except Exception:  # noqa: BLE001 - unreachable, no table: nothing to compare with
            return None
        return int(row[0]) if row else None

    def tracks_versions(self) -> bool:
        """Whether a connection can tell the dataset version without a query (a file database's
        change marker: :meth:`known_version`); else connecting to ask is wasted."""
        return bool(self._paths)

    def connect(self):
        """Connect (in this thread) to the first database that answers and return it."""
        last_error: Exception | None = None
        for index, db in self.candidates():
            try:
                self._drop_if_replaced(db)
                # the path's file as it was before opening: one replaced meanwhile differs at the next look
                identity = self._identity(db) if db.is_closed() else None
                if db.connect(reuse_if_open=True):
                    self._opened_now(db, identity)
                if index is not None:
                    db.execute_sql("SELECT 1")  # a standby that lost its socket fails here
                return db
            except UNAVAILABLE_ERRORS as error:
                last_error = error
                if not db.is_closed():
                    db.close()
                if index is not None:
                    self._down_until[index] = time.monotonic() + self.cooldown
        assert last_error is not None
        raise last_error

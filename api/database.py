"""The one owner of a request's database.

:class:`RequestDatabase` (an extension: ``init_app``) gives each request that
reads data a :class:`Session`: it connects (or takes a replica, through the
read router), binds the models for this thread (a binding kept for the thread's
next request), opens the read snapshot, reads the dataset version, and releases
the snapshot and the connection at teardown — or, for a streamed
export, when the body is finished (:meth:`Session.hand_off`). Routes say what
they need with :func:`needs_dataset`; none is routed by its path.
"""
from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from typing import NamedTuple

from flask import Flask, g, has_app_context, request

from models import backends
from models.db import UNAVAILABLE_ERRORS, ReadRouter
from models import gazetteer
from models.queries import NotLoaded, dataset_meta, entity_names
from models.history import HISTORY_TABLES
from models.records import SCHEMA_VERSION, TABLES
from models.search_index import SearchDoc

from . import http, response_cache
from .errors import Problem
from .exports import ExportSlots

#: what a route needs: the loaded dataset (the default), a database that may be down, or nothing
REQUIRED, OPTIONAL, NONE = "required", "optional", "none"

#: every model a request may read, bound per thread
MODELS = TABLES + HISTORY_TABLES + [SearchDoc] + backends.extra_models()


def needs_dataset(need: str):
    """Mark a view (function or MethodView class): ``needs_dataset(NONE)`` for answers that do
    not read the data (served while the database is down), ``OPTIONAL`` for one that reports
    the database's state itself."""
    def mark(view):
        view.dataset_need = need
        return view
    return mark


def _need_of(app: Flask) -> str | None:
    """What the routed view needs, None when routing failed (404/405) or the method takes no data."""
    if request.url_rule is None or request.method not in ("GET", "HEAD", "OPTIONS"):
        return None
    view = app.view_functions.get(request.url_rule.endpoint)
    view = getattr(view, "view_class", view)
    return getattr(view, "dataset_need", REQUIRED)


@dataclass
class Session:
    """This request's database: its connection, snapshot and dataset version (the models are
    bound to the connection for this thread: :func:`bind_models`)."""

    router: ReadRouter
    budget: float = 0.0  # seconds the database may spend on this request (0: no bound)
    exports: "ExportSlots | None" = None  # the worker's streamed exports (hand_off takes one)
    db: object = None
    restore: object = None  # a binding to put back at the end (see bind_models)
    snapshot: object = None
    version: str | None = None
    release_number: int = 0  # the newest release (meta.release)
    #: what the answers are made of: the dataset version and the release (see serving_key)
    served: str | None = None
    stale_layout: str | None = None  # the table layout of a dataset loaded by another version, not served
    etag: str | None = None
    error: str | None = None  # why the database could not be reached (OPTIONAL routes)
    replica: bool = False  # read from a replica, which may be behind the primary
    _marker: object = field(default=None, repr=False)
    _closer: object = field(default=None, repr=False)

    def open(self, reuse_known: bool = True, looked_up: KnownVersion | None = None) -> str | None:
        """Connect; return the dataset version when it is known without a query (nothing was
        committed since this connection last read it), so that a repeated URL can be answered
        from the response cache before anything is read. Otherwise :meth:`read` at once.

        ``looked_up``: what the response cache's lookup in front of Flask found for this request,
        in this thread (:meth:`RequestDatabase.known_version`): its connection and marker are
        used as they are (connecting again and reading the marker again cost a file check and a
        statement, ~6 % of one event by id). A commit since then makes the marker stale, which
        only means the version is read again at the next request."""
        if looked_up is not None and reuse_known and not looked_up.db.is_closed():
            self.db, self._marker, known = looked_up
        else:
            self.db = self.router.connect()
            self._marker, known = self.router.known_version(self.db)
        if self.budget:  # (from here: connecting has bounds of its own, and the replicas tried take what they take)
            backends.of(self.db).watch_request(self.budget)
        self.replica = self.router.is_replica(self.db)
        if known is not None and reuse_known:
            self.served = known
            return known
        self.read()
        return None

    def read(self) -> None:
        """Bind the models for this thread, open the snapshot, read the dataset version in it."""
        self.restore = bind_models(self.db)
        self.snapshot = backends.of(self.db).begin_snapshot(self.db)
        if self.budget:
            backends.of(self.db).start_budget(self.db, self.budget)
        try:
            stored = dataset_meta()
            self.version = stored.get("dataset_version")
            self.release_number = int(stored.get("release", 0))
        except NotLoaded:
            self.version = None
        else:
            if self.version is not None and stored.get("schema_version") != SCHEMA_VERSION:
                # tables and documents of another layout: answers could be wrong or fail midway
                self.version, self.stale_layout = None, stored.get("schema_version") or "unknown"
        self.served = serving_key(self.version, self.release_number) if self.version is not None else None
        self.router.remember_version(self.db, self._marker, self.served)

    def hand_off(self, keep_budget: bool = False):
        """The function that releases this database, taken from the request: a streamed body
        calls it when it is finished or closed, so the rows it reads after the view returned
        come from the same connection and snapshot. Teardown then releases nothing.

        A streamed export is exempt from the time budget (it reads every matching row, for as
        long as the client reads) but takes one of the worker's export slots, given back with
        the database: beyond the limits, a 503 (the worker's) or a 429 (this client's). With
        ``keep_budget`` the budget still holds until the function's ``lift()`` is called (once
        the body's first bytes are made: api/v1/collections.py stream)."""
        if self._closer is None:
            slot = self.exports.take(request.remote_addr or "") if self.exports is not None else None
            self._closer = _closer(self, slot)
            lift = _budget_lifter(self.db) if self.budget and self.db is not None else (lambda: None)
            if not keep_budget:
                lift()
            self._closer.lift = lift
        close = self._closer
        self.db = self.snapshot = None
        return close

    def release(self) -> None:
        try:
            if self._closer is None and self.db is not None:
                _closer(self)()
        finally:
            backends.of(self.router.primary).end_watch()  # (also when no closer ran)


#: what the models are bound to outside any binding (records.database, a proxy)
_DEFAULT = MODELS[0]._meta._database
#: the databases requests have bound the models to (a binding one of them left is no one else's)
_REQUEST_DATABASES: weakref.WeakSet = weakref.WeakSet()


def bind_models(db):
    """Bind every model a request reads to ``db`` for this thread, unless they already are.

    The binding is left in place after the request: the thread's next request reads the same
    database object (the router keeps one per URL, whose connection is per thread), and binding
    some twenty models and undoing it cost a tenth of a small answer. A thread that reads another
    database (a replica, another app in the tests) binds again. Returns what to bind the models
    back to when the request ends, when they were bound to something other than a request's
    database (a request made inside ``bind_ctx``, in tests), else None; that binding is read
    from the first model, so a ``bind_ctx`` over some models only is not put back model by model."""
    current = MODELS[0]._meta.database  # (this thread's binding: the metadata is thread-local)
    if current is db:
        return None
    foreign = None if current is _DEFAULT or current in _REQUEST_DATABASES else current
    _REQUEST_DATABASES.add(db)
    _bind_all(db)
    return foreign


def _bind_all(db) -> None:
    for model in MODELS:
        model.bind(db, bind_refs=False, bind_backrefs=False)


#: per thread: closers of streamed bodies that were never closed (see _closer)
_unclosed = threading.local()


def _closer(session: Session, slot=None):
    """A function that ends the session's snapshot, puts back a binding the request displaced
    (:func:`bind_models`) and releases the connection (once).

    The connection belongs to this thread, so only this thread closes it: a call from another
    thread (a garbage-collected body) does nothing, and the next request of this thread closes
    what is still open.
    """
    snapshot, db, router, restore = session.snapshot, session.db, session.router, session.restore
    owner = threading.get_ident()
    done = []

    def close() -> None:
        if done or threading.get_ident() != owner:
            return
        done.append(True)
        pending = getattr(_unclosed, "closers", [])
        if close in pending:
            pending.remove(close)
        ended = False
        try:
            if db is not None:
                backends.of(db).end_budget(db)  # a kept connection serves the next request without it
            if snapshot is not None:
                snapshot.__exit__(None, None, None)  # ends the read-only transaction
            ended = True
        except Exception:  # noqa: BLE001 - the connection is rolled back and closed below
            pass
        finally:
            if restore is not None:
                _bind_all(restore)  # the binding bind_models found
            if db is not None:
                router.release(db, reusable=ended)
            if slot is not None:
                slot()

    if not hasattr(_unclosed, "closers"):
        _unclosed.closers = []
    _unclosed.closers.append(close)
    return close


def _budget_lifter(db):
    """Lifts the time budget of ``db``'s request, once (the first call)."""
    lifted = []

    def lift() -> None:
        if not lifted:
            lifted.append(True)
            backends.of(db).lift_budget(db)
    return lift


def close_unclosed() -> None:
    """Close what earlier requests of this thread left open (a streamed body never closed)."""
    for close in list(getattr(_unclosed, "closers", ())):
        close()


def not_served(session: Session) -> str:
    """Why a database that answers has no dataset to serve, and what to do about it."""
    if session.stale_layout is not None:
        return (f"The database holds a dataset loaded by another version of event-records (table layout "
                f"{session.stale_layout}; this one reads {SCHEMA_VERSION}): run `event-records load`, "
                "which rebuilds it from the files.")
    if session.replica and session.router.primary_release() is not None:
        return ("This server reads a replica that holds no dataset yet (a new standby, or one still replaying the "
                "primary's first load); retry in a moment, and if it lasts, look at the replication.")
    return "No dataset is loaded yet; run `event-records load`."


def replica_behind(release: int) -> bool:
    """Whether ``release``, later than this request's, is one the primary already holds while this
    request reads a replica: the replica is behind (a 503 to retry), not the client wrong (a 400)."""
    session = g.database
    if not session.replica:
        return False
    newest = session.router.primary_release()
    return newest is not None and newest >= release


def current() -> Session:
    return g.database


def excuse(seconds: float) -> None:
    """Leave ``seconds`` of this request out of its database time window: work done for every
    request (building the gazetteer after a load, or waiting for another thread's build)."""
    session = g.get("database")
    if session is not None and session.db is not None:
        backends.of(session.db).excuse(seconds)


def serving_key(version: str, release: int) -> str:
    """What tags and keys the answers made from a snapshot: its dataset version and its release.
    The version alone is a hash of the files, which comes back when an edit is reverted or a
    source removed and added again, while the answers (first_release, last_release, the release
    list) are those of a later release: a cached answer or an ETag of the earlier one must not
    pass for them."""
    return f"{version}.r{release}"


def served() -> str | None:
    """This request's snapshot as :func:`serving_key` gives it (dataset version and release)."""
    return g.database.served


def version() -> str | None:
    return g.database.version


def snapshot_key() -> tuple[str, int] | None:
    """(dataset version, release) of this request's snapshot, or None outside a request that read
    one: what the data read in it is (a rebuild of unchanged sources keeps the version and makes a
    release; api/splice.py keeps texts under this key)."""
    session = g.get("database") if has_app_context() else None
    if session is None or session.version is None:
        return None
    return session.version, session.release_number


def release() -> int:
    return g.database.release_number


class KnownVersion(NamedTuple):
    """A snapshot's serving key (:func:`serving_key`) known without a query, with the connection
    and change marker it was known by (see :meth:`RequestDatabase.known_version`)."""

    db: object
    marker: object
    served: str


class RequestDatabase:
    def known_version(self) -> KnownVersion | None:
        """The dataset version, if this thread's connection knows it without a query (nothing was
        committed since it last read it): the validity check of a cached answer served before
        Flask (api.response_cache). None when it must be read, or the database cannot be reached.
        The connection stays this thread's (a file database's is kept from request to request)."""
        if not self.router.tracks_versions():  # (PostgreSQL: a connection made for nothing)
            return None
        close_unclosed()
        try:
            db = self.router.connect()
        except UNAVAILABLE_ERRORS:
            return None
        try:
            marker, version = self.router.known_version(db)
        except UNAVAILABLE_ERRORS:
            return None
        finally:
            self.router.release(db, reusable=True)
        return None if version is None else KnownVersion(db, marker, version)

    def warm_up(self) -> None:
        """Build, in this thread, what the first search of a process would otherwise build while
        its clients wait: the gazetteer of the loaded dataset (api/server.py runs this in a
        background thread of each worker as it boots). Nothing loaded or unreachable: nothing."""
        try:
            db = self.router.connect()
        except UNAVAILABLE_ERRORS:
            return
        try:
            with db.bind_ctx(MODELS, bind_refs=False, bind_backrefs=False):
                version = dataset_meta().get("dataset_version")
                if version:
                    gazetteer.gazetteer_for(version, entity_names)
        except (NotLoaded, *UNAVAILABLE_ERRORS):
            pass
        finally:
            self.router.release(db, reusable=False)

    def init_app(self, app: Flask) -> None:
        router = self.router = ReadRouter(app.config["DATABASE_URL"], app.config["DATABASE_REPLICA_URLS"],
                                          mapped_bytes=int(app.config["SQLITE_MMAP_BYTES"]),
                                          file_check_seconds=float(app.config["SQLITE_FILE_CHECK_SECONDS"]))
        app.extensions["request_database"] = self
        budget = float(app.config["TIME_BUDGET"])
        exports = ExportSlots(int(app.config["MAX_EXPORTS"]), int(app.config["MAX_EXPORTS_PER_CLIENT"]))
        app.extensions["export_slots"] = exports  # large answers take them too (api/http.py)

        @app.before_request
        def open_database():
            need = _need_of(app)
            if need is None:
                return None  # 405 or 404 comes from routing; no need to touch the database
            http.refuse_body()
            if need == NONE:
                return None
            close_unclosed()
            session = g.database = Session(router, budget, exports)
            try:
                # a readiness probe reads the database every time: it is its whole point
                missed = request.environ.get(response_cache.MISSED)
                known = session.open(reuse_known=need == REQUIRED, looked_up=missed[2] if missed else None)
            except UNAVAILABLE_ERRORS as error:
                if need == OPTIONAL:
                    session.error = str(error)
                    return None
                raise
            if need == OPTIONAL:
                return None  # the view reports the state (/readyz): never a cached answer
            if known is not None:
                if missed is not None and missed[0] == known:
                    session.etag = missed[1]  # no validator sent, and not cached in front of Flask
                else:
                    answer = http.conditional_answer(session)
                    if answer is not None:
                        return answer
                session.read()
                if session.served == known:
                    return None  # the version its answer was looked up for
            if session.version is None:
                raise Problem(503, not_served(session), headers={"Retry-After": "5"})
            return http.conditional_answer(session)

        @app.teardown_request
        def release_database(exc):
            session = g.pop("database", None)
            if session is not None:
                session.release()

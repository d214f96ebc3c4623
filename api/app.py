"""The application factory."""
from __future__ import annotations

import os
import threading

from flask import Flask, current_app, g, jsonify, request

from models.db import UNAVAILABLE_ERRORS, ReadRouter, begin_read_snapshot, database_url_from_env
from models.queries import NotLoaded, dataset_meta
from models.records import TABLES
from models.search import SearchDoc, SearchFTS, SearchTerms

from . import docs, errors, http
from .errors import Problem
from .params import check_raw_query

MODELS = TABLES + [SearchDoc, SearchFTS, SearchTerms]


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def default_config() -> dict:
    return {
        "DATABASE_URL": database_url_from_env(),
        "DATABASE_REPLICA_URLS": _env_list("DATABASE_REPLICA_URLS"),
        "CACHE_CONTROL": os.environ.get("EVENT_RECORDS_CACHE_CONTROL", "public, max-age=60"),
        "CORS_ORIGINS": os.environ.get("EVENT_RECORDS_CORS_ORIGINS", "*"),
        "CURSOR_SECRET": os.environ.get("EVENT_RECORDS_SECRET", "event-records-cursor"),
        "RESPONSE_CACHE_BYTES": int(os.environ.get("EVENT_RECORDS_RESPONSE_CACHE_MB", "64")) * 1024 * 1024,
        "MAX_CONTENT_LENGTH": 1024,
        "JSON_AS_ASCII": False,
        # flask-smorest: the OpenAPI document it builds, served by api.docs
        "API_TITLE": "event-records",
        "API_VERSION": "1.0.0",
        "OPENAPI_VERSION": "3.1.0",
    }


#: Per thread: closers of streamed answers whose body was never closed (see release_request_database).
_unclosed = threading.local()


def release_request_database():
    """Take this request's database (connection, model binding, read snapshot) out of ``g``.

    Returns a function that closes them (once; later calls do nothing). The
    request's teardown calls it at once; a streamed export takes them first and
    closes them when its body is finished or closed (WSGI ``close()``), so the rows
    it reads after the view returned come from the same connection and snapshot.

    The connection and the binding belong to this thread, so only this thread
    closes them: a call from another thread (a garbage-collected body) does
    nothing, and the next request of this thread closes what is still open
    (``close_unclosed``) before it opens its own.
    """
    snapshot = g.pop("snapshot", None)
    binding = g.pop("binding", None)
    db = g.pop("db", None)
    if snapshot is None and binding is None and db is None:
        return lambda: None
    router = current_app.extensions["read_router"]
    owner = threading.get_ident()
    done = []

    def close() -> None:
        if done or threading.get_ident() != owner:
            return
        done.append(True)
        pending = getattr(_unclosed, "closers", None)
        if pending and close in pending:
            pending.remove(close)
        ended = False
        try:
            if snapshot is not None:
                snapshot.__exit__(None, None, None)  # ends the read-only transaction
            ended = True
        except Exception:  # noqa: BLE001 - the connection is rolled back and closed below
            pass
        finally:
            if binding is not None:
                binding.__exit__(None, None, None)
            if db is not None:
                router.release(db, reusable=ended)

    if not hasattr(_unclosed, "closers"):
        _unclosed.closers = []
    _unclosed.closers.append(close)
    return close


def close_unclosed() -> None:
    """Close what earlier requests of this thread left open (a streamed body never closed)."""
    for close in list(getattr(_unclosed, "closers", ())):
        close()


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(default_config())
    if config:
        app.config.update(config)
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    router = ReadRouter(app.config["DATABASE_URL"], app.config["DATABASE_REPLICA_URLS"])
    app.extensions["read_router"] = router

    @app.before_request
    def check_query_bytes():
        """NUL or bytes that are not UTF-8 in the query string: a 400 before anything reads it."""
        check_raw_query(request.query_string)

    @app.before_request
    def open_database():
        """Bind the models, for this thread, to the database that serves this request."""
        if request.method not in ("GET", "HEAD", "OPTIONS") or request.url_rule is None:
            return None  # 405 or 404 comes from routing; no need to touch the database
        http.refuse_body()
        if request.path in ("/healthz", "/v1/openapi.json") or request.path.startswith("/docs"):
            return None  # static answers: served even when the database is down
        close_unclosed()
        try:
            db = router.connect()
        except UNAVAILABLE_ERRORS as error:
            if request.path == "/readyz":
                g.database_error = str(error)
                return None
            raise
        g.db = db
        # a repeated URL is answered from the response cache before anything is read, when
        # the dataset version is known without a query (nothing was committed since)
        marker, version = router.known_version(db)
        if version is not None:
            g.dataset_version = version
            answer = http.conditional_answer()
            if answer is not None:
                return answer
        g.binding = db.bind_ctx(MODELS, bind_refs=False, bind_backrefs=False)
        g.binding.__enter__()
        g.snapshot = begin_read_snapshot(db)
        try:
            g.dataset_version = dataset_meta().get("dataset_version")
        except NotLoaded:
            g.dataset_version = None
        router.remember_version(db, marker, g.dataset_version)
        if g.dataset_version is None and request.path.startswith("/v1/"):
            raise Problem(503, "No dataset is loaded yet; run `event-records load`.", headers={"Retry-After": "5"})
        return http.conditional_answer()

    @app.teardown_request
    def teardown_database(exc):
        release_request_database()()

    @app.get("/healthz")
    def healthz():
        """The process is up (says nothing about the database)."""
        return jsonify({"status": "ok"})

    @app.get("/readyz")
    def readyz():
        """The database answers and holds a loaded dataset."""
        if "database_error" in g:
            raise Problem(503, "The database is not reachable.", headers={"Retry-After": "5"})
        version = g.get("dataset_version")
        if version is None:
            raise Problem(503, "The database answers but no dataset is loaded; run `event-records load`.",
                          headers={"Retry-After": "5"})
        return jsonify({"status": "ready", "dataset_version": version})

    errors.init_app(app)
    http.init_app(app)
    from .v1 import init_app as init_v1

    init_v1(app)
    docs.init_app(app)
    from .cli import register_commands

    register_commands(app)
    return app

"""The application factory."""
from __future__ import annotations

import os
from inspect import iscoroutinefunction

from flask import Flask, g, jsonify, request

from models.db import database_url_from_env

from . import csvw, dashboard, docs, errors, http, index, settings, v1
from .database import NONE, OPTIONAL, RequestDatabase, needs_dataset, not_served
from .errors import Problem
from .params import check_raw_query
from .requesttarget import Utf8TargetMiddleware
from .response_cache import CachedAnswers
from .secret import cursor_secret
from .version import VERSION


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def default_config() -> dict:
    """The settings from the environment (the numeric ones checked: api/settings.py)."""
    return {
        "DATABASE_URL": database_url_from_env(),
        "DATABASE_REPLICA_URLS": _env_list("DATABASE_REPLICA_URLS"),
        "CACHE_CONTROL": os.environ.get("EVENT_RECORDS_CACHE_CONTROL", "public, max-age=60"),
        "CORS_ORIGINS": os.environ.get("EVENT_RECORDS_CORS_ORIGINS", "*"),
        "CORS_ALLOW_HEADERS": os.environ.get("EVENT_RECORDS_CORS_ALLOW_HEADERS", "*"),
        # seconds of database work a request may take (0: unbounded); exports are exempt
        "TIME_BUDGET": settings.value("EVENT_RECORDS_TIME_BUDGET"),
        # streamed exports one worker serves at once, and one client address of them
        "MAX_EXPORTS": settings.value("EVENT_RECORDS_MAX_EXPORTS"),
        "MAX_EXPORTS_PER_CLIENT": settings.value("EVENT_RECORDS_MAX_EXPORTS_PER_CLIENT"),
        # an answer larger than this, as sent, takes an export slot while it is written (api/exports.py)
        "LARGE_ANSWER_BYTES": settings.value("EVENT_RECORDS_LARGE_ANSWER_BYTES"),
        "RESPONSE_CACHE_BYTES": settings.value("EVENT_RECORDS_RESPONSE_CACHE_MB") * 1024 * 1024,
        # how much of a SQLite file a server connection reads through a memory map (0: none)
        "SQLITE_MMAP_BYTES": settings.value("EVENT_RECORDS_SQLITE_MMAP_MB") * 1024 * 1024,
        # how often a server thread looks whether the SQLite file was removed or renamed (models.db)
        "SQLITE_FILE_CHECK_SECONDS": settings.value("EVENT_RECORDS_SQLITE_FILE_CHECK_SECONDS"),
        "MAX_CONTENT_LENGTH": 1024,
        "JSON_AS_ASCII": False,
        # flask-smorest: the OpenAPI document it builds, served by api.docs
        "API_TITLE": "event-records",
        "API_VERSION": VERSION,
        "OPENAPI_VERSION": "3.1.0",
    }


class EventRecordsFlask(Flask):
    """Flask, asking once per function whether it is a coroutine function.

    Flask asks it of every hook and view on every request (``ensure_sync``: 14 times for one
    event by id, ~3 % of its time in process); the answer never changes for a function."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._is_async: dict = {}

    def ensure_sync(self, func):
        plain = getattr(func, "__func__", func)  # a view's bound method is new every request
        is_async = self._is_async.get(plain)
        if is_async is None:
            is_async = self._is_async[plain] = iscoroutinefunction(func)
        return self.async_to_sync(func) if is_async else func


def _uncached(response):
    """A health answer: the state of this process now, which no cache should keep."""
    response.headers["Cache-Control"] = "no-store"
    return response


def create_app(config: dict | None = None) -> Flask:
    app = EventRecordsFlask(__name__)
    app.wsgi_app = Utf8TargetMiddleware(CachedAnswers(app.wsgi_app, app))
    app.config.update(default_config())
    if config:
        app.config.update(config)
    if not app.config.get("CURSOR_SECRET"):
        app.config["CURSOR_SECRET"] = cursor_secret(app.config["DATABASE_URL"], app.config["DATABASE_REPLICA_URLS"])
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    @app.before_request
    def check_query_bytes():
        """NUL or bytes that are not UTF-8 in the query string: a 400 before anything reads it."""
        check_raw_query(request.query_string)

    RequestDatabase().init_app(app)

    @app.get("/healthz")
    @needs_dataset(NONE)
    def healthz():
        """The process is up (says nothing about the database)."""
        return _uncached(jsonify({"status": "ok"}))

    @app.get("/readyz")
    @needs_dataset(OPTIONAL)
    def readyz():
        """The database answers and holds a loaded dataset."""
        session = g.database
        if session.error is not None:
            raise Problem(503, "The database is not reachable.", headers={"Retry-After": "5"})
        if session.version is None:
            raise Problem(503, not_served(session), headers={"Retry-After": "5"})
        return _uncached(jsonify({"status": "ready", "dataset_version": session.version}))

    errors.init_app(app)
    http.init_app(app)
    csvw.init_app(app)  # after http: its hook must run before http's (Flask runs them last first)
    v1.init_app(app)
    docs.init_app(app)
    dashboard.init_app(app)
    index.init_app(app)
    # imported here, not at the top: `python -m api.cli` runs that module as __main__, and an
    # import of it while the package loads would run it twice
    from .cli import register_commands

    register_commands(app)
    return app

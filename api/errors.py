"""One error shape for every error: RFC 9457 ``application/problem+json``.

Views raise :class:`Problem` (or werkzeug's HTTP exceptions); everything else,
Flask's own 404/405 and unexpected exceptions included, is turned into the same
shape here. Bodies never carry a traceback or SQL.
"""
from __future__ import annotations

import json
import logging
from http import HTTPStatus

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException

from models import backends
from models.db import UNAVAILABLE_ERRORS

PROBLEM_TYPE_BASE = "https://event-records.invalid/problems/"
log = logging.getLogger("event_records.errors")

TITLES = {
    400: "Bad request",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request too large",
    414: "URI too long",
    429: "Too many requests",
    431: "Request header fields too large",
    500: "Internal server error",
    501: "Not implemented",
    503: "Service unavailable",
    "too-expensive": "Request too expensive",
    "time-budget": "Time budget exceeded",
    "too-many-exports": "Too many exports at once",
    "stale-cursor": "Cursor of an earlier release",
}
SLUGS = {
    400: "invalid-parameters",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "request-too-large",
    414: "uri-too-long",
    429: "too-many-requests",
    431: "headers-too-large",
    500: "internal-error",
    501: "not-implemented",
    503: "unavailable",
}

#: seconds a request that ran out of its time budget is asked to wait before trying again
BUDGET_RETRY_AFTER = "10"


class Problem(Exception):
    """An error answer. ``errors`` maps each bad parameter to what is wrong with it."""

    def __init__(self, status: int, detail: str, errors: dict | None = None, headers: dict | None = None,
                 slug: str | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.slug = slug  # the problem type, when more precise than the status's


def title_of(status: int, slug: str | None = None) -> str:
    """The problem's title: its type's, else its status's, else the HTTP reason phrase (never a bare "Error")."""
    if slug in TITLES:
        return TITLES[slug]
    if status in TITLES:
        return TITLES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Client error" if 400 <= status < 500 else "Server error"


def bad_parameter(name: str, message: str) -> Problem:
    return Problem(400, f"Invalid query parameter '{name}': {message}", {name: [message]})


def problem_response(status: int, detail: str, errors: dict | None = None, headers: dict | None = None,
                     slug: str | None = None) -> Response:
    body = {
        "type": PROBLEM_TYPE_BASE + (slug or SLUGS.get(status, str(status))),
        "title": title_of(status, slug),
        "status": status,
        "detail": detail,
        "instance": request.path if request else None,
    }
    if errors:
        body["errors"] = errors
    response = Response(
        json.dumps(body, ensure_ascii=False), status=status, mimetype="application/problem+json"
    )
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


#: how much of a path a detail repeats (``instance`` holds it whole)
ECHOED_PATH = 120


def echoed(path: str) -> str:
    return path if len(path) <= ECHOED_PATH else path[:ECHOED_PATH] + "…"


def init_app(app: Flask) -> None:
    @app.errorhandler(Problem)
    def handle_problem(error: Problem):
        return problem_response(error.status, error.detail, error.errors, error.headers, error.slug)

    @app.errorhandler(HTTPException)
    def handle_http(error: HTTPException):
        headers = {}
        if error.code == 405:
            valid = getattr(error, "valid_methods", None) or ["GET", "HEAD", "OPTIONS"]
            headers["Allow"] = ", ".join(sorted(set(valid)))
        detail = error.description or title_of(error.code or 500)
        if error.code == 404:
            detail = f"No resource at {echoed(request.path)}. The API's resources are listed at /v1/openapi.json."
        elif error.code == 405:
            detail = (f"{request.method} is not allowed on {echoed(request.path)}; allowed: {headers['Allow']}. "
                      "The API is read-only.")
        return problem_response(error.code or 500, detail, None, headers)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        if backends.is_over_budget(error):
            # the engine aborted the request's statement: the request's cost, not an outage
            log.warning("time budget exceeded on %s", request.full_path)
            seconds = current_app.config.get("TIME_BUDGET")
            return problem_response(
                503, f"The request needed more than its time budget ({seconds:g} s a database statement, "
                     f"{backends.REQUEST_BUDGETS * seconds:g} s for all of them) and was stopped; narrow it (fewer "
                     "values, a shorter date range, a more specific q) or retry later.",
                None, {"Retry-After": BUDGET_RETRY_AFTER}, "time-budget")
        if isinstance(error, UNAVAILABLE_ERRORS) and not backends.is_statement_fault(error):
            log.warning("database unavailable: %s", error)
            return problem_response(
                503, "The database is not reachable right now; retry shortly.", None, {"Retry-After": "5"}
            )
        log.exception("unhandled error on %s", request.path)
        return problem_response(500, "An unexpected error occurred; it has been logged.")

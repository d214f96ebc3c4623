"""One error shape for every error: RFC 9457 ``application/problem+json``.

Views raise :class:`Problem` (or werkzeug's HTTP exceptions); everything else,
Flask's own 404/405 and unexpected exceptions included, is turned into the same
shape here. Bodies never carry a traceback or SQL.
"""
from __future__ import annotations

import json
import logging

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from models.db import UNAVAILABLE_ERRORS

PROBLEM_TYPE_BASE = "https://event-records.invalid/problems/"
log = logging.getLogger("event_records.errors")

TITLES = {
    400: "Bad request",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    413: "Request too large",
    414: "URI too long",
    431: "Request header fields too large",
    500: "Internal server error",
    503: "Service unavailable",
    "too-expensive": "Request too expensive",
}
SLUGS = {
    400: "invalid-parameters",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    413: "request-too-large",
    414: "uri-too-long",
    431: "headers-too-large",
    500: "internal-error",
    503: "unavailable",
}


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


def bad_parameter(name: str, message: str) -> Problem:
    return Problem(400, f"Invalid query parameter '{name}': {message}", {name: [message]})


def problem_response(status: int, detail: str, errors: dict | None = None, headers: dict | None = None,
                     slug: str | None = None) -> Response:
    body = {
        "type": PROBLEM_TYPE_BASE + (slug or SLUGS.get(status, str(status))),
        "title": TITLES.get(slug, TITLES.get(status, "Error")),
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
        detail = error.description or TITLES.get(error.code or 500, "Error")
        if error.code == 404:
            detail = f"No resource at {request.path}. The API's resources are listed at /v1/openapi.json."
        elif error.code == 405:
            detail = f"{request.method} is not allowed on {request.path}; allowed: {headers['Allow']}. The API is read-only."
        return problem_response(error.code or 500, detail, None, headers)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        if isinstance(error, UNAVAILABLE_ERRORS):
            log.warning("database unavailable: %s", error)
            return problem_response(
                503, "The database is not reachable right now; retry shortly.", None, {"Retry-After": "5"}
            )
        log.exception("unhandled error on %s", request.path)
        return problem_response(500, "An unexpected error occurred; it has been logged.")

"""HTTP policy in one place: ETags and 304s, caching headers, CORS, security
headers, and reuse of rendered responses for the loaded dataset version."""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from flask import Flask, Response, current_app, g, request
from werkzeug.datastructures import Headers

from .errors import Problem


class ResponseCache:
    """Rendered GET responses keyed by (dataset version, URL, representation).

    The data only changes at load time, and a new load changes the dataset
    version, so an entry can never be stale; it is only evicted for room.
    """

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.size = 0
        self.entries: OrderedDict[str, tuple[int, Headers, bytes]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str):
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
            return entry

    def put(self, key: str, status: int, headers: Headers, body: bytes) -> None:
        if len(body) > self.max_bytes // 8:
            return
        with self.lock:
            if key in self.entries:
                return
            self.entries[key] = (status, headers, body)
            self.size += len(body)
            while self.size > self.max_bytes and self.entries:
                _, (_, _, old) = self.entries.popitem(last=False)
                self.size -= len(old)


def refuse_body() -> None:
    """GET, HEAD and OPTIONS take no body; one is an error, and a large one is refused unread."""
    length = request.content_length
    if length is None and "chunked" not in request.headers.get("Transfer-Encoding", "").lower():
        return
    if length is not None and length == 0:
        return
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if length is None or length > limit:
        raise Problem(413, f"Request bodies are not accepted (this one is {length or 'of unknown'} bytes).")
    raise Problem(400, f"A {request.method} request takes no body.", {"body": ["must be empty"]})


def representation_key() -> str:
    """What, besides the URL, selects the representation."""
    return request.headers.get("Accept", "")[:200]


def etag_for(version: str) -> str:
    # the query string as sent (bytes): request.full_path decodes it as UTF-8 and fails on other bytes
    digest = hashlib.sha256(b"\0".join((
        version.encode(), request.path.encode("utf-8", "surrogatepass"), request.query_string,
        representation_key().encode("utf-8", "surrogatepass"),
    ))).hexdigest()[:32]
    return f'"{digest}"'


def _reused(headers: Headers) -> Headers:
    """A copy of stored headers. They were checked when stored; ``Headers.copy`` would check
    every value again, a good part of the cost of a cached answer."""
    fresh = Headers()
    fresh._list = list(headers._list)
    return fresh


def conditional_answer(session) -> Response | None:
    """A 304 for a matching If-None-Match, or the cached answer of a repeated URL, for the
    session's dataset version (called before any data query); None otherwise. Sets the
    session's ETag, which :func:`init_app`'s ``finish`` puts on the answer."""
    if request.method not in ("GET", "HEAD") or session.version is None:
        return None
    etag = session.etag = etag_for(session.version)
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        response = Response(status=304)
        response.headers["ETag"] = etag
        response.headers["Cache-Control"] = current_app.config["CACHE_CONTROL"]
        return response
    cache = current_app.extensions.get("response_cache")
    if cache is not None:
        entry = cache.get(etag)
        if entry is not None:
            status, headers, body = entry
            response = Response(body, status=status)
            response.headers = _reused(headers)
            response.headers["X-Cache"] = "hit"
            return response
    return None


def init_app(app: Flask) -> None:
    cache = ResponseCache(app.config["RESPONSE_CACHE_BYTES"]) if app.config["RESPONSE_CACHE_BYTES"] else None
    app.extensions["response_cache"] = cache

    def cors_headers(response: Response) -> None:
        origin = app.config["CORS_ORIGINS"]
        if not origin:
            return
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "ETag, Link, Content-Disposition, Retry-After"
        if origin != "*":
            response.headers["Vary"] = "Origin"

    def security_headers(response: Response) -> None:
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if not request.path.startswith("/docs"):
            response.headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
            response.headers.setdefault("X-Frame-Options", "DENY")


    @app.after_request
    def finish(response: Response) -> Response:
        if "X-Cache" in response.headers:
            return response  # a stored answer: its headers are those finished here the first time
        cors_headers(response)
        security_headers(response)
        session = g.get("database")
        etag = session.etag if session is not None else None
        if etag and response.status_code == 200 and request.method in ("GET", "HEAD"):
            response.headers["ETag"] = etag
            response.headers["Cache-Control"] = app.config["CACHE_CONTROL"]
            if (cache is not None and not response.is_streamed and "X-Cache" not in response.headers
                    and request.method == "GET"):
                body = response.get_data()
                cache.put(etag, 200, Headers([(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]),
                          body)
        if request.method == "OPTIONS" and response.status_code in (200, 204):
            response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Accept, If-None-Match, Content-Type"
            response.headers["Access-Control-Max-Age"] = "86400"
        return response

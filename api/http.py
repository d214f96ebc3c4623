"""HTTP policy in one place: ETags and 304s, caching headers, CORS, security
headers, and reuse of rendered responses for the loaded dataset version."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request
from werkzeug.datastructures import Headers

from . import compression, response_cache
from .errors import Problem


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


def etag_for(version: str) -> str:
    return response_cache.entity_tag(version, request.path, request.query_string, request.headers.get("Accept", ""))


def if_none_match() -> set[str]:
    """The entity tags of If-None-Match, compared weakly (RFC 9110 13.1.2): W/"x" is "x"."""
    tags = {tag.strip() for tag in request.headers.get("If-None-Match", "").split(",") if tag.strip()}
    return {tag[2:] if tag.startswith("W/") else tag for tag in tags}


def wants_gzip() -> bool:
    return response_cache.wants_gzip(request.headers.get("Accept-Encoding", ""))


def not_modified(etag: str) -> Response:
    """A 304 with the tag the client holds (either encoding's: both name the same data)."""
    response = Response(status=304)
    response.headers["ETag"] = compression.variant(etag) if compression.variant(etag) in if_none_match() else etag
    response.headers["Cache-Control"] = current_app.config["CACHE_CONTROL"]
    response.headers["Vary"] = "Accept, Accept-Encoding"
    return response


def conditional_answer(session) -> Response | None:
    """A 304 for a matching If-None-Match, or the cached answer of a repeated URL, for the
    session's dataset version (called before any data query); None otherwise. Sets the
    session's ETag, which :func:`init_app`'s ``finish`` puts on the answer."""
    if request.method not in ("GET", "HEAD") or session.version is None:
        return None
    etag = session.etag = etag_for(session.version)
    if {etag, compression.variant(etag)} & if_none_match():
        return not_modified(etag)
    cache = current_app.extensions.get("response_cache")
    if cache is not None:
        entry = cache.get(etag)
        if entry is not None:
            if "*" in if_none_match():
                return not_modified(etag)
            return cached_answer(cache, entry, etag)
    return None


def cached_answer(cache, entry, key: str) -> Response:
    """A stored answer, in the encoding the client asked for. Most repeated URLs never get here:
    api.response_cache.CachedAnswers sends them before Flask."""
    headers, body = cache.answer(entry, key, request.headers.get("Accept-Encoding", ""))
    response = Response(body, status=entry.status)
    fresh = Headers()
    fresh._list = list(headers)  # checked when stored; Headers() would check every value again
    response.headers = fresh
    return response


def relative_location(response: Response) -> None:
    """A redirect (routing's ``/v1//events`` → ``/v1/events`` included) with a relative Location and
    no HTML body: the request's Host is never echoed back."""
    target = urlsplit(response.headers.get("Location", ""))
    response.headers["Location"] = (target.path or "/") + (f"?{target.query}" if target.query else "")
    response.set_data(b"")
    response.headers.pop("Content-Type", None)


_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def allowed_request_headers(app: Flask) -> str:
    """The headers a CORS preflight may send: those it asks for (Access-Control-Request-Headers)
    that are header names and, when ``CORS_ALLOW_HEADERS`` lists some, among them."""
    asked = [h.strip() for h in request.headers.get("Access-Control-Request-Headers", "").split(",") if h.strip()]
    allowed = {h.strip().lower() for h in app.config["CORS_ALLOW_HEADERS"].split(",") if h.strip()}
    granted = [h for h in asked if _TOKEN.match(h) and ("*" in allowed or h.lower() in allowed)]
    return ", ".join(dict.fromkeys(["Accept", "If-None-Match", "Content-Type", *granted]))


def session_etag() -> str | None:
    session = g.get("database")
    return session.etag if session is not None else None


def init_app(app: Flask) -> None:
    cache = response_cache.ResponseCache(app.config["RESPONSE_CACHE_BYTES"]) if app.config["RESPONSE_CACHE_BYTES"] else None
    app.extensions["response_cache"] = cache

    def cors_headers(response: Response) -> None:
        origin = app.config["CORS_ORIGINS"]
        if not origin:
            return
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "ETag, Link, Content-Disposition, Retry-After"
        if origin != "*":
            response.vary.add("Origin")

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
        if response.status_code in (301, 302, 307, 308):
            relative_location(response)
        cors_headers(response)
        security_headers(response)
        session = g.get("database")
        etag = session.etag if session is not None else None
        if session is not None:
            response.vary.add("Accept")  # the format is negotiated from it
        if etag and response.status_code == 200 and request.method in ("GET", "HEAD"):
            if "*" in if_none_match():  # the resource exists: If-None-Match: * is not met
                return not_modified(etag)
            response.headers["ETag"] = etag
            response.headers["Cache-Control"] = app.config["CACHE_CONTROL"]
            if cache is not None and not response.is_streamed and request.method == "GET":
                return store_and_encode(response)
        if request.method == "OPTIONS" and response.status_code in (200, 204):
            response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = allowed_request_headers(app)
            response.headers["Access-Control-Max-Age"] = "86400"
        return compression.encode(response, wants_gzip())

    def store_and_encode(response: Response) -> Response:
        """Cache the answer and send it in the encoding asked for (gzip made once per entry: here
        when this client asks for it, else by the cache when a client first does)."""
        body = response.get_data()
        compressible = compression.compressible(response)
        packed = compression.gzip_body(body) if compressible and wants_gzip() else None
        if compressible:
            response.vary.add("Accept-Encoding")
        cache.put(session_etag(), 200,
                  Headers([(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]), body, packed,
                  compressible=compressible)
        if packed is not None and wants_gzip():
            response.set_data(packed)
            compression.mark_encoded(response)
        return response

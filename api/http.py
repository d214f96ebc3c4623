"""HTTP policy in one place: ETags and 304s, caching headers, CORS, security
headers, and reuse of rendered responses for the loaded dataset version."""
from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request
from werkzeug.datastructures import Headers

from . import compression, response_cache
from .errors import Problem, problem_response


def refuse_body() -> None:
    """GET, HEAD and OPTIONS take no body; one is an error, and a large one is refused unread."""
    length = request.content_length
    if length is None and "chunked" not in request.headers.get("Transfer-Encoding", "").lower():
        return
    if length is not None and length == 0:
        return
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if length is None:  # chunked: even an empty body (a lone last chunk) is a body sent, of whatever size
        raise Problem(400, f"A {request.method} request takes no body (this one was sent chunked, "
                           "Transfer-Encoding: chunked): send the request without one.", {"body": ["must be absent"]})
    if length > limit:
        raise Problem(413, f"Request bodies are not accepted (this one is {length} bytes).")
    raise Problem(400, f"A {request.method} request takes no body.", {"body": ["must be empty"]})


def etag_for(served: str) -> str:
    """The tag of this request's answer made from the snapshot ``served`` (database.serving_key)."""
    return response_cache.entity_tag(served, request.path, request.query_string, request.headers.get("Accept", ""))


def if_none_match() -> set[str]:
    """The entity tags of If-None-Match, compared weakly (RFC 9110 13.1.2): W/"x" is "x". (``W/*``
    is no tag: ``*`` stands alone, so it matches nothing rather than everything.)"""
    tags = {tag.strip() for tag in request.headers.get("If-None-Match", "").split(",") if tag.strip()}
    return {tag[2:] if tag.startswith('W/"') else tag for tag in tags}


def wants_gzip() -> bool:
    return response_cache.wants_gzip(request.headers.get("Accept-Encoding", ""))


#: what a data answer varies with, 200 or 304 (a 304 is made before the view: it cannot tell a zip from JSON)
DATA_VARY = "Accept, Accept-Encoding"


def not_modified(etag: str, vary: str = DATA_VARY) -> Response:
    """A 304 with the tag the client holds (either encoding's: both name the same data), and the
    Vary its 200 has (RFC 9110 15.4.5: a cache updates the stored answer's headers from it)."""
    response = Response(status=304)
    response.headers["ETag"] = compression.variant(etag) if compression.variant(etag) in if_none_match() else etag
    response.headers["Cache-Control"] = current_app.config["CACHE_CONTROL"]
    if vary:
        response.headers["Vary"] = vary
    return response


def conditional_answer(session) -> Response | None:
    """A 304 for a matching If-None-Match, or the cached answer of a repeated URL, for the
    session's dataset version (called before any data query); None otherwise. Sets the
    session's ETag, which :func:`init_app`'s ``finish`` puts on the answer."""
    if request.method not in ("GET", "HEAD") or session.served is None:
        return None
    etag = session.etag = etag_for(session.served)
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


#: every answer's security headers (RFC 9110 leaves them to us; the docs page sets its own CSP)
SECURITY_HEADERS = [("X-Content-Type-Options", "nosniff")]
SECURITY_DEFAULTS = [("Referrer-Policy", "no-referrer")]
PAGE_DEFAULTS = [("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
                 ("X-Frame-Options", "DENY")]
EXPOSED = "ETag, Link, Content-Disposition, Retry-After"


def policy_headers(app: Flask, negotiated: bool) -> tuple[list, list, list]:
    """What every answer carries: headers that replace the view's (CORS, nosniff), headers the
    view may have set itself (referrer policy; CSP and framing outside /docs), and the request
    headers the answer varies with (Origin when CORS names origins, Accept when the format was
    negotiated from it)."""
    replaced, vary = list(SECURITY_HEADERS), []
    origin = app.config["CORS_ORIGINS"]
    if origin:
        replaced = [("Access-Control-Allow-Origin", origin), ("Access-Control-Expose-Headers", EXPOSED), *replaced]
        if origin != "*":
            vary.append("Origin")
    if negotiated:
        vary.append("Accept")
    defaults = SECURITY_DEFAULTS if request.path.startswith("/docs") else SECURITY_DEFAULTS + PAGE_DEFAULTS
    return replaced, defaults, vary


def stamp(headers: Headers, replaced: list, defaults: list, vary: list) -> None:
    """Put ``replaced`` in place of any header of the same name, add each of ``defaults`` whose name
    is not there yet, and add the ``vary`` names to Vary (once each, after those already listed),
    in one pass over the headers: werkzeug's item-by-item set, setdefault and vary.add scanned
    them a dozen times per answer."""
    gone = {name.lower() for name, _ in replaced}
    kept, present, varied = [], set(), []
    for name, value in headers:
        low = name.lower()
        if low == "vary":
            varied += [token.strip() for token in value.split(",") if token.strip()]
        elif low not in gone:
            kept.append((name, value))
            present.add(low)
    kept += replaced
    kept += [(name, value) for name, value in defaults if name.lower() not in present]
    known = {token.lower() for token in varied}
    for token in vary:
        if token.lower() not in known:
            known.add(token.lower())
            varied.append(token)
    if varied:
        kept.append(("Vary", ", ".join(varied)))
    headers.clear()
    headers.extend(kept)


#: answers that are never cached: they report the state of this process and its database now
UNCACHED_PATHS = ("/healthz", "/readyz")


def tagged_by_content(response: Response) -> bool:
    """A 200 to a GET that neither reads the dataset (whose version tags the answers that do)
    nor tags itself: the index pages, the OpenAPI document, the docs page, CSVW metadata."""
    return (request.method in ("GET", "HEAD") and response.status_code == 200 and "ETag" not in response.headers
            and not response.is_streamed and not response.direct_passthrough and request.path not in UNCACHED_PATHS)


def content_etag(body: bytes) -> str:
    """A strong tag made from the bytes: the same on every node that serves the same code."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def sent_in_turn(app: Flask, response: Response, finish) -> Response:
    """``response``, holding one of the worker's export slots while it is written when it is larger
    than ``LARGE_ANSWER_BYTES`` as sent (a client that never reads it would hold a thread until the
    send timeout: api/exports.py), or the export's 429 or 503 problem when the slots are taken."""
    size = response.content_length
    if (response.is_streamed or response.status_code != 200 or request.method != "GET" or size is None
            or size <= app.config["LARGE_ANSWER_BYTES"] or "export_slots" not in app.extensions):
        return response
    try:
        give_back = app.extensions["export_slots"].take(request.remote_addr or "")
    except Problem as refused:
        response.close()
        return finish(problem_response(refused.status, refused.detail, headers=refused.headers, slug=refused.slug))
    response.call_on_close(give_back)
    return response


def session_etag() -> str | None:
    session = g.get("database")
    return session.etag if session is not None else None


def init_app(app: Flask) -> None:
    cache = response_cache.ResponseCache(app.config["RESPONSE_CACHE_BYTES"]) if app.config["RESPONSE_CACHE_BYTES"] else None
    app.extensions["response_cache"] = cache

    @app.after_request
    def finish(response: Response) -> Response:
        return sent_in_turn(app, finished(response), finished)

    def finished(response: Response) -> Response:
        if "X-Cache" in response.headers:
            return response  # a stored answer: its headers are those finished here the first time
        if response.status_code in (301, 302, 307, 308):
            relative_location(response)
        session = g.get("database")
        etag = session.etag if session is not None else None
        cacheable = bool(etag) and response.status_code == 200 and request.method in ("GET", "HEAD")
        if cacheable and "*" in if_none_match():  # the resource exists: If-None-Match: * is not met
            # a streamed export's body is never sent: close it now, which gives back its database
            # and its export slot (else held until the body is collected: a 429 for the client's
            # next export, a 503 for others')
            response.close()
            response, cacheable = not_modified(etag), False
        replaced, defaults, vary = policy_headers(app, session is not None)
        if cacheable:
            replaced += [("ETag", etag), ("Cache-Control", app.config["CACHE_CONTROL"])]
            vary += DATA_VARY.split(", ")  # as its 304 has it, compressed or not (the dump's zip)
        elif tagged_by_content(response):
            response = tagged(response, replaced, vary)
        if request.method == "OPTIONS" and response.status_code in (200, 204):
            if response.status_code == 200 and not response.is_streamed and not response.get_data():
                # Flask's automatic answer: 200 and an empty text/html body; it has no content
                response.status_code = 204
                del response.headers["Content-Type"]
                del response.headers["Content-Length"]
            replaced += [("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS"),
                         ("Access-Control-Allow-Headers", allowed_request_headers(app)),
                         ("Access-Control-Max-Age", "86400")]
        compressible = compression.compressible(response)
        if compressible:
            vary.append("Accept-Encoding")
        stamp(response.headers, replaced, defaults, vary)
        if cacheable and cache is not None and not response.is_streamed and request.method == "GET":
            return store_and_encode(response, compressible)
        return compression.encode(response, wants_gzip())

    def tagged(response: Response, replaced: list, vary: list) -> Response:
        """An answer tagged by its bytes, or its 304, with the same CORS and security headers (a
        browser drops a cross-origin 304 without them) and the same Vary (``replaced`` and ``vary``
        are extended for :func:`stamp`)."""
        etag = content_etag(response.get_data())
        if {etag, compression.variant(etag), "*"} & if_none_match():
            vary += [token.strip() for token in response.headers.get("Vary", "").split(",") if token.strip()]
            if compression.compressible(response):
                vary.append("Accept-Encoding")
            return not_modified(etag, vary="")
        replaced.append(("ETag", etag))
        if "Cache-Control" not in response.headers:
            replaced.append(("Cache-Control", app.config["CACHE_CONTROL"]))
        return response

    def store_and_encode(response: Response, compressible: bool) -> Response:
        """Cache the answer and send it in the encoding asked for (gzip made once per entry: here
        when this client asks for it, else by the cache when a client first does)."""
        body = response.get_data()
        packed = compression.gzip_body(body) if compressible and wants_gzip() else None
        cache.put(session_etag(), 200, [(k, v) for k, v in response.headers if k.lower() != "content-length"],
                  body, packed, compressible=compressible)
        if packed is not None:
            response.set_data(packed)
            compression.mark_encoded(response)
        return response

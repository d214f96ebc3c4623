"""Static assets (the docs' Swagger UI, the dashboard) served with their gzip encoding made once.

The Swagger UI bundle is 1.7 MB; compressing it on every request would cost a worker tens of
milliseconds each time, so each asset's gzip body is made on first use and kept, keyed by the
file's modification time and size (an edited file is compressed again), with an entity tag made
from its bytes.
"""
from __future__ import annotations

import mimetypes
from functools import lru_cache
from pathlib import Path

from flask import Response, abort, request
from werkzeug.security import safe_join

from . import compression
from .http import content_etag


@lru_cache(maxsize=64)
def loaded(path: str, stamp: tuple[int, int]) -> tuple[bytes, bytes | None, str]:
    """(body, gzip body or None when too small to be worth it, entity tag) of a file: the tag is
    made from the bytes, so every node serving the same files gives the same tags (a file's
    modification time differs from one checkout or image layer to the next)."""
    body = Path(path).read_bytes()
    return body, compression.gzip_body(body), content_etag(body)


def send_asset(directory: Path, name: str, max_age: int = 86400) -> Response:
    """The file, gzip-encoded when the client takes it and it is text worth compressing. Each
    encoding has its tag (the gzip one's ends in -gzip); If-None-Match with either is a 304."""
    path = safe_join(str(directory), name)
    if path is None or not Path(path).is_file():
        abort(404)
    mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    stat = Path(path).stat()
    body, gzipped, etag = loaded(path, (stat.st_mtime_ns, stat.st_size))
    encodable = gzipped is not None and compression.compressible(Response(mimetype=mimetype))
    encoded = encodable and compression.accepts_gzip(request.headers.get("Accept-Encoding", ""))
    held = {tag.strip().removeprefix("W/") for tag in request.headers.get("If-None-Match", "").split(",")}
    fresh = bool(held & {etag, compression.variant(etag), "*"})
    if encoded:
        body, etag = gzipped, compression.variant(etag)
    response = Response(status=304) if fresh else Response(body, mimetype=mimetype)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    if encodable:
        response.vary.add("Accept-Encoding")
    if encoded and not fresh:
        response.headers["Content-Encoding"] = "gzip"
    return response

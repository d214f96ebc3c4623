"""Static assets (the docs' Swagger UI, the dashboard) served with their gzip encoding made once.

The Swagger UI bundle is 1.7 MB; compressing it on every request would cost a worker tens of
milliseconds each time, so each asset's gzip body is made on first use and kept, keyed by the
file's modification time and size (an edited file is compressed again).
"""
from __future__ import annotations

import hashlib
import mimetypes
from functools import lru_cache
from pathlib import Path

from flask import Response, abort, request, send_from_directory
from werkzeug.security import safe_join

from . import compression


@lru_cache(maxsize=64)
def packed(path: str, stamp: tuple[int, int]) -> tuple[bytes, str] | None:
    """(gzip body, its entity tag) of a file, or None when it is too small to be worth it."""
    body = Path(path).read_bytes()
    gzipped = compression.gzip_body(body)
    if gzipped is None:
        return None
    return gzipped, '"' + hashlib.sha256(body).hexdigest()[:32] + compression.SUFFIX + '"'


def send_asset(directory: Path, name: str, max_age: int = 86400) -> Response:
    """The file, gzip-encoded when the client takes it and it is text worth compressing."""
    path = safe_join(str(directory), name)
    if path is None or not Path(path).is_file():
        abort(404)
    mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    stat = Path(path).stat()
    encoded = packed(path, (stat.st_mtime_ns, stat.st_size)) if compression.accepts_gzip(request.headers.get("Accept-Encoding", "")) else None
    if encoded is None or not compression.compressible(Response(mimetype=mimetype)):
        return send_from_directory(directory, name, max_age=max_age)
    body, etag = encoded
    tags = {t.strip().removeprefix("W/") for t in request.headers.get("If-None-Match", "").split(",")}
    response = Response(status=304) if etag in tags else Response(body, mimetype=mimetype)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.vary.add("Accept-Encoding")
    if response.status_code == 200:
        response.headers["Content-Encoding"] = "gzip"
    return response

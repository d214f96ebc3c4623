"""gzip for the text representations (JSON, CSV, NDJSON, GeoJSON, the docs and dashboard assets).

Negotiated from ``Accept-Encoding`` (RFC 9110 12.5.3). A body below :data:`MIN_SIZE` is sent as
it is: its gzip frame would cost more than it saves. Streamed exports are compressed as they
stream, one flushed gzip block per rendered batch, so nothing waits for the whole export.

An encoded answer has its own entity tag (``"…-gzip"``): a cache that stores both encodings of
one URL must not take one for the other (RFC 9110 8.8.3). A conditional request matches either
tag, since both name the same data.
"""
from __future__ import annotations

import gzip
import re
import zlib

from flask import Response

#: bodies smaller than this are not worth a gzip frame (about one TCP segment)
MIN_SIZE = 1024
#: zlib's default trade-off: about 95 % of level 9's size at a third of its time on our JSON
LEVEL = 6
SUFFIX = "-gzip"

_COMPRESSIBLE = re.compile(
    r"^(?:text/|application/(?:json|problem\+json|x-ndjson|geo\+json|ld\+json|csvm\+json|javascript))")
_GZIP_WBITS = 16 + zlib.MAX_WBITS  # a gzip header and trailer, not a bare zlib stream


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether Accept-Encoding allows gzip: listed (or ``*``) with a qvalue above 0; an explicit
    ``gzip;q=0`` refuses it even when ``*`` is allowed."""
    qualities = {}
    for part in accept_encoding.split(","):
        coding, _, params = part.strip().partition(";")
        quality = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.0
        qualities[coding.strip().lower()] = quality
    if "gzip" in qualities:
        return qualities["gzip"] > 0
    return qualities.get("*", 0) > 0


def compressible(response: Response) -> bool:
    """A text representation that no one has encoded yet."""
    return (bool(_COMPRESSIBLE.match(response.mimetype or ""))
            and "Content-Encoding" not in response.headers)


def gzip_body(body: bytes) -> bytes | None:
    """The gzip encoding of a whole body, or None when it is too small to be worth one."""
    if len(body) < MIN_SIZE:
        return None
    # mtime=0: the same body always gives the same bytes (and so the same ETag-worthy content)
    return gzip.compress(body, compresslevel=LEVEL, mtime=0)


def gzip_stream(chunks):
    """Each chunk compressed and flushed as it comes, so the client gets data as soon as the
    server renders it; the inner iterator is closed with this one (it holds the database)."""
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, _GZIP_WBITS)
    try:
        for chunk in chunks:
            if chunk:
                yield compressor.compress(chunk) + compressor.flush(zlib.Z_SYNC_FLUSH)
        yield compressor.flush(zlib.Z_FINISH)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def variant(etag: str | None) -> str | None:
    """The entity tag of the gzip encoding of the answer tagged ``etag``."""
    if not etag or etag.endswith(SUFFIX + '"'):
        return etag
    return etag[:-1] + SUFFIX + '"'


def mark_encoded(response: Response) -> None:
    response.headers["Content-Encoding"] = "gzip"
    response.headers.pop("Content-Length", None)
    if response.headers.get("ETag"):
        response.headers["ETag"] = variant(response.headers["ETag"])


def encode(response: Response, wants_gzip: bool, packed: bytes | None = None) -> Response:
    """The response in the encoding the client asked for, with ``Vary: Accept-Encoding`` on every
    representation that could have been encoded. ``packed`` is the gzip body when the caller
    already has it (the response cache compresses once per entry)."""
    if not compressible(response):
        return response
    response.vary.add("Accept-Encoding")
    if not wants_gzip or response.status_code not in (200, 400, 404, 406):
        return response
    if response.direct_passthrough:
        return response  # a file: api.assets encodes those once, not on every request
    if response.is_streamed:
        response.response = gzip_stream(iter(response.response))
        mark_encoded(response)
        return response
    packed = packed if packed is not None else gzip_body(response.get_data())
    if packed is None:
        return response
    response.set_data(packed)
    mark_encoded(response)
    return response

"""The one shape of every 200 JSON answer: ``{"data": …, "meta": {…}, "links": {…}}``.

``data`` may be a Python value or :class:`Stored` JSON text spliced in as it is
(documents rendered at load time are never decoded to be sent).
"""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, g, request

from models.documents import dumps

from . import database


class Stored(str):
    """JSON text already serialised (stored documents): spliced into the answer as is."""

    @classmethod
    def array(cls, documents) -> "Stored":
        return cls("[" + ",".join(documents) + "]")


class StoredUtf8(bytes):
    """JSON already serialised as UTF-8 (a page joined from the stored bytes: api/splice.py):
    the answer is joined as bytes around it, so the page is never decoded or encoded."""


def meta(**extra) -> dict:
    """The dataset's version and release, the words of ``q`` left out when the request has one
    (api/params.py: search_query), and ``extra``."""
    ignored = g.get("ignored_words")
    words = {"ignored_words": ignored} if ignored is not None else {}
    return {"dataset_version": database.version(), "release": database.release(), **words, **extra}


def page_url(**replace) -> str:
    """This request's URL with some parameters replaced (None: removed)."""
    params = [(k, v) for k, v in request.args.items(multi=True) if k not in replace]
    params += [(k, v) for k, v in replace.items() if v is not None]
    return request.path + ("?" + urlencode(params) if params else "")


def json_response(body: str | bytes, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="application/json")


def envelope(data, meta_fields: dict | None = None, links: dict | None = None) -> Response:
    """The answer: ``data`` and ``meta`` (the dataset version and ``meta_fields``), ``links`` when given."""
    # one join, not a copy of the page's ~100-150 KB of data per piece added (measured in a loop without
    # the response cache the copies cost 0.4 ms of a page: fresh allocations of that size are mapped and
    # faulted in; with the cache keeping answers, as a server runs, little of that remains)
    parts = ('{"data":', data if isinstance(data, (Stored, StoredUtf8)) else dumps(data),
             ',"meta":', dumps(meta(**(meta_fields or {}))),
             ',"links":' if links is not None else "", dumps(links) if links is not None else "", "}")
    if isinstance(data, StoredUtf8):
        return json_response(b"".join(part if isinstance(part, bytes) else part.encode() for part in parts))
    return json_response("".join(parts))


def page(data, total: int | None, limit: int, next_cursor: str | None = None, **meta_fields) -> Response:
    """A page of a collection: the envelope with paging meta, ``links`` and a ``Link`` header
    (no ``total`` when it is None: a feed that grows while it is read has none)."""
    links = {"self": page_url(), "next": page_url(cursor=next_cursor) if next_cursor else None}
    paging = {"limit": limit, **({"total": total} if total is not None else {}), "next_cursor": next_cursor}
    response = envelope(data, {**meta_fields, **paging}, links)
    if next_cursor:
        response.headers["Link"] = f'<{links["next"]}>; rel="next"'
    return response

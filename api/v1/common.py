"""What every v1 resource shares: the envelope, paging, formats, embedding."""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from urllib.parse import urlencode

from flask import Response, current_app, g, request

from models import queries, search
from models.documents import dumps

from .. import formats, pagination
from ..errors import Problem, bad_parameter
from ..params import to_filters

LIST_FORMATS = ("json", "csv", "ndjson")
EVENT_FORMATS = LIST_FORMATS + ("geojson",)


def filters_from(args: dict) -> dict:
    filters = to_filters(args)
    if "q" in filters:
        try:
            filters["q"] = search.parse_query(filters["q"])
        except search.QueryError as error:
            raise bad_parameter("q", str(error)) from None
    return filters


def meta(**extra) -> dict:
    return {"dataset_version": g.dataset_version, **extra}


def json_response(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="application/json")


def page_url(**replace) -> str:
    params = [(k, v) for k, v in request.args.items(multi=True) if k not in replace]
    params += [(k, v) for k, v in replace.items() if v is not None]
    return request.path + ("?" + urlencode(params) if params else "")


def select_fields(doc: dict, wanted: list[str] | None) -> dict:
    if not wanted:
        return doc
    return {key: value for key, value in doc.items() if key == "id" or key in wanted}


def one(doc: dict | None, what: str, record_id: str, wanted=None) -> Response:
    if doc is None:
        raise Problem(404, f"No {what} with id '{record_id}'.")
    return json_response('{"data":' + dumps(select_fields(doc, wanted)) + ',"meta":' + dumps(meta()) + "}")


def download_name(kind: str, fmt: str) -> str:
    extension = {"geojson": "geojson", "csv": "csv", "ndjson": "ndjson"}[fmt]
    return f"{kind}-{g.dataset_version}.{extension}"


def stream(kind: str, fmt: str, generator) -> Response:
    """A streamed export. Its body is read after the view has returned, so it keeps the
    request's database (connection, binding, snapshot) until the body is done or the
    client is gone (WSGI close()), in the thread that serves it (gunicorn gthread: the
    request's thread). Flask's stream_with_context would run the request teardown, which
    closes them, before the first row is read."""
    from ..app import release_request_database

    close = release_request_database()

    def body():
        try:
            yield from generator
        finally:
            close()

    response = Response(body(), mimetype=formats.MEDIA_TYPES[fmt].split(";")[0])
    response.call_on_close(close)
    if fmt == "csv":
        response.headers["Content-Type"] = formats.MEDIA_TYPES["csv"]
    response.headers["Content-Disposition"] = f'attachment; filename="{download_name(kind, fmt)}"'
    return response


def listing(kind: str, args: dict, select, model, *, allowed_formats=LIST_FORMATS, transform=None,
            count=None) -> Response:
    """A collection in the asked format: a keyset page (JSON) or a streamed export.

    ``select(filters)`` gives the query of the rows; ``count(filters)``, when given,
    their number (a resource may know a cheaper way than counting the rows).
    """
    fmt = formats.negotiate(args.get("format"), request.headers.get("Accept", ""), allowed_formats)
    filters = filters_from(args)
    query = select(filters)
    spec = queries.sort_spec(model, args.get("sort", "id"))
    wanted = args.get("fields_")
    if fmt != "json":
        rows = queries.iterate_all(query, spec)
        if fmt == "ndjson" and transform is None and not wanted:
            return stream(kind, fmt, formats.ndjson_stream(row.doc for row in rows))
        docs = (select_fields(doc, wanted) for doc in _decoded(rows, transform))
        if fmt == "ndjson":
            return stream(kind, fmt, formats.ndjson_stream(dumps(doc) for doc in docs))
        if fmt == "geojson":
            return stream(kind, fmt, formats.geojson_stream(docs, meta()))
        return stream(kind, fmt, formats.csv_stream(formats.ROW_FLATTENERS[kind](doc) for doc in _decoded(rows, transform)))

    secret = current_app.config["CURSOR_SECRET"].encode()
    endpoint = request.path
    after = None
    if args.get("cursor"):
        after = pagination.decode(secret, args["cursor"], endpoint, args.get("sort", "id"), filters, len(spec.columns))
    limit = args["limit"]
    rows, more = queries.keyset_page(query, spec, after, limit)
    total = cached_total(endpoint, filters, (lambda: count(filters)) if count else (lambda: queries.count(query)))
    next_cursor = pagination.encode(secret, endpoint, args.get("sort", "id"), filters, spec.key_of(rows[-1])) if more else None
    if transform is None and not wanted:
        data = "[" + ",".join(row.doc for row in rows) + "]"
    else:
        data = dumps([select_fields(doc, wanted) for doc in _decoded(rows, transform)])
    links = {"self": page_url(), "next": page_url(cursor=next_cursor) if next_cursor else None}
    body = ('{"data":' + data + ',"meta":' + dumps(meta(limit=limit, total=total, next_cursor=next_cursor))
            + ',"links":' + dumps(links) + "}")
    response = json_response(body)
    if next_cursor:
        response.headers["Link"] = f'<{links["next"]}>; rel="next"'
    return response


class TotalCache:
    """meta.total per (dataset version, endpoint, filters), computed once per worker.

    Counting is the dearest part of a page on a large table, and every page of one
    listing (first, cursor, other sort order or limit) has the same total; the data
    only changes with the dataset version, which is part of the key.
    """

    def __init__(self, size: int = 20_000):
        self.size = size
        self.entries: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get_or_compute(self, key, compute):
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]
        value = compute()
        with self.lock:
            self.entries[key] = value
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)
        return value


def cached_total(endpoint: str, filters: dict, compute) -> int:
    cache = current_app.extensions.setdefault("total_cache", TotalCache())
    key = (g.dataset_version, endpoint, pagination.fingerprint(endpoint, "", filters))
    return cache.get_or_compute(key, compute)


def _decoded(rows, transform):
    """Stored documents as dicts, embedded records added in one query per batch."""
    batch = []
    for row in rows:
        batch.append(json.loads(row.doc))
        if len(batch) >= 500:
            yield from (transform(batch) if transform else batch)
            batch = []
    if batch:
        yield from (transform(batch) if transform else batch)

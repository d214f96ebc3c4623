"""The one list view and the one item view, serving every resource descriptor (api/resources.py)."""
from __future__ import annotations

import itertools

import json
import threading
from collections import OrderedDict

from flask import Response, current_app, request
from flask.views import MethodView

from models import changes, queries
from models.paging import count, iterate_all, keyset_page, sort_spec

from .. import database, formats, pagination, splice
from ..envelope import Stored, StoredUtf8, envelope, meta, page, page_url
from ..errors import Problem
from ..flatten import ColumnChoice
from ..params import to_filters
from ..resources import Related, Resource
from .blueprints import Blueprint

def served(rows, resource: Resource):
    """The stored documents of ``rows`` as served: with their first and last release."""
    return changes.with_releases(resource.kind, rows)


def assembled(rows, resource: Resource, include: list[str] | None, wanted: list[str] | None):
    """The served texts of ``rows``: as stored, or assembled from their members (api/splice.py)."""
    if include or wanted:
        return splice.assembled(resource.kind, rows, resource.splices(include), wanted)
    return served(rows, resource)


def decoded(rows, resource: Resource, include: list[str] | None, wanted: list[str] | None):
    """Records as dicts, for the formats that compute their rows from the values (CSV, GeoJSON):
    the assembled texts (api/splice.py) decoded. (Assembly is set up now, in the request: an
    export's body is read after it.)"""
    texts = splice.assembled(resource.kind, rows, resource.splices(include), wanted)
    return (json.loads(text) for text in texts)


#: the rows an unlimited export reads under the time budget before it streams (a page's worth)
FIRST_ROWS = 50


def started(rows):
    """``rows`` with the first one read now (the rest as they are asked for)."""
    rows = iter(rows)
    first = next(rows, None)
    return rows if first is None else itertools.chain((first,), rows)


def download_name(kind: str, fmt: str) -> str:
    return f"{kind}-{database.version()}.{formats.RENDERERS[fmt].extension}"


def stream(kind: str, fmt: str, body, close=None) -> Response:
    """A streamed export. Its body is read after the view has returned, so it holds the
    request's database (connection, binding, snapshot), handed off as ``close``, and releases
    it when the body is done or the client is gone (WSGI close()), in the thread that serves
    it. Flask's stream_with_context would run the request teardown, which releases them, first.
    A HEAD reads nothing and takes no export slot (held until gunicorn closed the answer,
    after its headers had gone out, the slot made a GET of the same URL right after it a 429)."""
    renderer = formats.RENDERERS[fmt]
    if request.method == "HEAD":
        response = Response(iter(()), mimetype=renderer.bare_type)
    else:

        def chunks():
            try:
                yield from body
            finally:
                close()

        response = Response(chunks(), mimetype=renderer.bare_type)
        response.call_on_close(close)
    response.headers["Content-Type"] = renderer.media_type
    response.headers["Content-Disposition"] = f'attachment; filename="{download_name(kind, fmt)}"'
    return response


def export(resource: Resource, fmt: str, query, spec, args: dict, after: list | None, cursor_of) -> Response:
    """The matching records in a streamed format: all of them, or ``limit`` of them when it is
    given, after ``cursor`` when it is given (the same parameters as a JSON page). A limited
    export that leaves records behind links the next one (``Link: rel="next"``, the cursor of its
    last record: ``cursor_of(key)``), as a page does; the body has no room for it."""
    # the export slot first (a refusal comes before any row is read: api/exports.py); then the
    # first rows under the request's time budget, as a page reads them: an export whose query
    # finds its first rows only after seconds (a pathological search: 3.5-4.5 s of CPU at 20,000
    # events before its first byte) is stopped as its page is (a 503); then it streams unbounded
    taken = database.current().hand_off(keep_budget=True) if request.method != "HEAD" else None
    try:
        next_url = None
        if "limit" in request.args:
            # one page read as a JSON page reads it (at most MAX_LIMIT rows): its last key is the next cursor
            rows, more = keyset_page(query, spec, after, args["limit"], changes.release_columns(resource.kind))
            next_url = page_url(cursor=cursor_of(spec.key_of(rows[-1]))) if more else None
        else:
            rows = iterate_all(query, spec, after=after, extra=changes.release_columns(resource.kind),
                               first_batch=FIRST_ROWS)
            if taken is not None:
                rows = started(rows)
        if taken is not None:
            taken.lift()
        return linked(stream(resource.name, fmt, rendered(resource, fmt, rows, args), taken), next_url)
    except BaseException:
        if taken is not None:
            taken()  # (the slot and the database back: no body will do it)
        raise


def rendered(resource: Resource, fmt: str, rows, args: dict):
    """The body of an export of ``rows`` (read as it is sent)."""
    renderer = formats.RENDERERS[fmt]
    include, wanted = args.get("include"), args.get("fields_")
    if renderer.raw:
        return renderer.render(assembled(rows, resource, include, wanted))
    # CSV columns and GeoJSON properties are computed from whole records (a feature's point from
    # its place, a date column from its date): fields= keeps their columns, not the record's members
    docs = decoded(rows, resource, include, None)
    flatten = resource.flatten
    if flatten is not None and wanted:
        choice = ColumnChoice(resource.kind, wanted, resource.field_names)
        flatten = lambda doc: choice(resource.flatten(doc))  # noqa: E731

    def columns() -> list[str]:
        # (a CSV that matched nothing still has its header: the columns of any one record of the
        # kind, the first by id, one index step)
        rows, _ = keyset_page(resource.model.select(), sort_spec(resource.model, "id"), None, 1,
                              changes.release_columns(resource.kind))
        return next((list(flatten(doc)) for doc in decoded(rows, resource, include, None)), [])

    return renderer.render(docs, flatten=flatten, meta=meta(), columns=columns)


def linked(response: Response, next_url: str | None) -> Response:
    if next_url:
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return response


class TotalCache:
    """meta.total per (dataset version and release, endpoint, filters), computed once per worker.

    Counting is the dearest part of a page on a large table, and every page of one
    listing (first, cursor, other sort order or limit) has the same total; the data
    only changes with a release, which is part of the key (with the dataset version alone, a
    reverted edit counted ``updated_since`` as an earlier release had).
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


def total_of(resource: Resource, query, filters: dict) -> int:
    cache = current_app.extensions.setdefault("total_cache", TotalCache())
    key = (database.served(), request.path, pagination.fingerprint(request.path, "", filters))
    return cache.get_or_compute(key, lambda: resource.count(filters) if resource.count else count(query))


def listing(resource: Resource, args: dict) -> Response:
    """A collection in the asked format: a keyset page (JSON) or a streamed export."""
    fmt = formats.negotiate(args.get("format"), request.headers.get("Accept", ""), resource.formats)
    filters = to_filters(args)
    query = resource.listing(filters)
    sort = args.get("sort", "id")
    spec = sort_spec(resource.model, sort)
    secret = current_app.config["CURSOR_SECRET"].encode()
    after = None
    if args.get("cursor"):  # checked for exports too: a bogus cursor is a 400 everywhere
        after = pagination.decode(secret, args["cursor"], request.path, sort, filters, len(spec.columns),
                                  database.served())
    if fmt != "json":
        return export(resource, fmt, query, spec, args, after, lambda key: pagination.encode(
            secret, request.path, sort, filters, key, database.served()))
    include, wanted = args.get("include"), args.get("fields_")
    # the documents as stored bytes where the backend hands them over so (SQLite), joined and sent as
    # they are; ``fields`` cuts them as text
    utf8 = not wanted
    rows, more = keyset_page(query, spec, after, args["limit"], changes.release_columns(resource.kind, utf8_docs=utf8))
    total = total_of(resource, query, filters)
    next_cursor = (pagination.encode(secret, request.path, sort, filters, spec.key_of(rows[-1]), database.served())
                   if more else None)
    data = splice.page(resource.kind, rows, resource.splices(include), wanted)
    return page(StoredUtf8(data) if isinstance(data, bytes) else Stored(data), total, args["limit"], next_cursor)


def item(resource: Resource, record_id: str, args: dict) -> Response:
    formats.json_only()
    text = changes.one_with_releases(resource.kind, record_id, breaks=True)
    if text is None:
        raise Problem(404, f"No {resource.kind} with id '{record_id}'.")
    return envelope(Stored(splice.one(text, resource.splices(args.get("include")), args.get("fields_"))))


def _operation(blp: Blueprint, view, doc: str, args_schema, response_schema, problems, export_formats):
    """``view`` documented and wrapped as flask-smorest does it for a hand-written method."""
    view.__doc__ = doc
    if export_formats:
        view = blp.formats(*export_formats)(view)
        problems = (*problems, 429)  # (an export beyond the client's limit)
    view = blp.problems(*problems)(view)
    view = blp.response(200, response_schema)(view)
    return blp.arguments(args_schema, location="query", as_kwargs=False)(view)


def _exports(resource: Resource) -> tuple[str, ...]:
    return tuple(fmt for fmt in resource.formats if fmt != "json")


def list_view(resource: Resource, blp: Blueprint) -> type:
    def get(self, args):
        return listing(resource, args)

    return type(f"{resource.kind.title()}List", (MethodView,), {"get": _operation(
        blp, get, resource.list_doc, resource.list_args(), resource.page_schema(), (400, 406, 409), _exports(resource))})


def item_view(resource: Resource, blp: Blueprint) -> type:
    def get(self, args, **path):
        return item(resource, path[resource.id_param], args)

    return type(f"{resource.kind.title()}Item", (MethodView,), {"get": _operation(
        blp, get, resource.item_doc, resource.item_args(), resource.one_schema(), (400, 404, 406), ())})


def related_view(owner: Resource, related: Related, blp: Blueprint) -> type:
    target = related.resource

    def get(self, args, **path):
        record_id = path[owner.id_param]
        if not queries.exists(owner.model, record_id):
            raise Problem(404, f"No {owner.kind} with id '{record_id}'.")
        many = any(f.name == related.filter and f.many for f in target.filters)
        value = [record_id, *args.get(related.filter, [])] if many else record_id
        return listing(target, {**args, related.filter: value})

    return type(f"{owner.kind.title()}{target.kind.title()}List", (MethodView,), {"get": _operation(
        blp, get, related.summary, target.list_args(related.excluded), target.page_schema(), (400, 404, 406, 409),
        _exports(target))})


def blueprint(resource: Resource) -> Blueprint:
    """The resource's blueprint (under /v1): its collection, its items and the collections under them."""
    blp = Blueprint(resource.name, __name__, url_prefix="/v1", description=resource.description)
    base = f"/{resource.name}"
    blp.route(base)(list_view(resource, blp))
    if resource.item:
        blp.route(f"{base}/<record_id:{resource.id_param}>")(item_view(resource, blp))
    for related in resource.related:
        blp.route(f"{base}/<record_id:{resource.id_param}>/{related.path}")(related_view(resource, related, blp))
    return blp

"""/v1/releases and /v1/changes: the dataset's history, for clients that keep a copy.

A client takes the whole dataset once (/v1/dump), then asks for the changes since
the release it holds. The feed lists each record once, at the release of its
latest change (models/changes.py), so it can be paged while new releases arrive.
"""
from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from marshmallow import ValidationError, fields, validate

from models import changes
from models.history import Release
from models.paging import SortSpec, keyset_page

from .. import database, formats, pagination
from ..envelope import Stored, envelope, page
from ..errors import Problem
from ..param_fields import MAX_RELEASE, StrictInteger, count_param
from ..params import DEFAULT_LIMIT, MAX_LIMIT, PageArgs, QuerySchema
from ..schemas import Base, LinksSchema, ListMetaSchema, MetaSchema, nullable_str, one_of
from .blueprints import Blueprint

blp = Blueprint("history", __name__, url_prefix="/v1",
                description="The dataset's releases and the records changed since any of them, for keeping a copy.")


# --------------------------------------------------------------------------- parameters


class ReleaseNumber(StrictInteger):
    """A release number: 0 (before the first release) or more, written with the digits 0-9."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and value.strip().startswith("-"):
            raise ValidationError("must be 0 or more: release numbers start at 1, and 0 means 'from the beginning'")
        try:
            return super()._deserialize(value, attr, data, **kwargs)
        except ValidationError:
            raise ValidationError("must be a release number (a whole number such as 12; see /v1/releases)") from None


class ReleaseListArgs(QuerySchema):
    limit = count_param(DEFAULT_LIMIT, 1, MAX_LIMIT, f"Releases per page (1–{MAX_LIMIT}, default {DEFAULT_LIMIT}).")
    cursor = PageArgs._declared_fields["cursor"]


class ChangeArgs(QuerySchema):
    since = ReleaseNumber(required=True, validate=validate.Range(0, MAX_RELEASE), error_messages={"required": "is required: the release your copy holds (0: every record)"}, metadata={
        "description": "The release your copy holds (meta.release of your dump or of the last page of changes); "
                       "0 lists every record."})
    limit = count_param(DEFAULT_LIMIT, 1, MAX_LIMIT, f"Changes per page (1–{MAX_LIMIT}, default {DEFAULT_LIMIT}).")
    cursor = PageArgs._declared_fields["cursor"]


# --------------------------------------------------------------------------- response schemas


class ReleaseSourcesSchema(Base):
    added = fields.List(fields.String(), metadata={"description": "Source ids added by this release."})
    changed = fields.List(fields.String())
    removed = fields.List(fields.String())


class ChangeCountSchema(Base):
    added = fields.Integer()
    changed = fields.Integer()
    removed = fields.Integer()


class ReleaseSchema(Base):
    number = fields.Integer(required=True, metadata={"description": "Sequence number, from 1."})
    dataset_version = fields.String(required=True, metadata={"description": "meta.dataset_version after the release."})
    loaded_at = fields.String(required=True, metadata={"description": "When the load committed (ISO 8601, UTC)."})
    mode = fields.String(required=True, metadata={"description": "full or incremental."})
    sources = fields.Nested(ReleaseSourcesSchema, required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True, metadata={
        "description": "Records of each kind the dataset holds after the release."})
    changes = fields.Dict(keys=fields.String(), values=fields.Nested(ChangeCountSchema), required=True, metadata={
        "description": "Records of each kind added, changed and removed by the release."})


class ChangeSchema(Base):
    kind = one_of(("source", "event", "statement", "participant", "place"), required=True)
    id = fields.String(required=True)
    change = one_of(("added", "changed", "removed"), required=True)
    release = fields.Integer(required=True, metadata={"description": "The release of the record's latest change."})
    record = fields.Raw(allow_none=True, metadata={
        "description": "The record's current document, as its collection serves it; null when removed."})


class ChangesMetaSchema(MetaSchema):
    since = fields.Integer(metadata={"description": "The release the changes are counted from."})
    limit = fields.Integer()
    next_cursor = nullable_str("Follow it to the last page; then meta.release is your copy's new release.")


ReleasePage = Base.from_dict({"data": fields.List(fields.Nested(ReleaseSchema), required=True),
                              "meta": fields.Nested(ListMetaSchema, required=True),
                              "links": fields.Nested(LinksSchema, required=True)}, name="ReleasePage")
ReleaseOne = Base.from_dict({"data": fields.Nested(ReleaseSchema, required=True),
                             "meta": fields.Nested(MetaSchema, required=True)}, name="ReleaseOne")
ChangePage = Base.from_dict({"data": fields.List(fields.Nested(ChangeSchema), required=True),
                             "meta": fields.Nested(ChangesMetaSchema, required=True),
                             "links": fields.Nested(LinksSchema, required=True)}, name="ChangePage")


# --------------------------------------------------------------------------- views


def behind(release: int, current: int) -> Problem:
    return Problem(503, f"Release {release} is not here yet: this server reads a replica whose copy of the data is "
                        f"at release {current}, behind the primary; retry in a moment.", headers={"Retry-After": "1"})


def _secret() -> bytes:
    return current_app.config["CURSOR_SECRET"].encode()


@blp.route("/releases")
class Releases(MethodView):
    @blp.arguments(ReleaseListArgs, location="query", as_kwargs=False)
    @blp.response(200, ReleasePage)
    @blp.problems(400, 406)
    def get(self, args):
        """List releases, newest first

        Every load that changed something is a release: when it was loaded, the
        sources it added, changed and removed, and the records of each kind it
        added, changed and removed. Keyset-paged like every collection.
        """
        formats.json_only()
        spec = SortSpec((Release.number,), descending=True)
        after = None
        if args.get("cursor"):
            after = [int(pagination.decode(_secret(), args["cursor"], request.path, "-number", {}, 1)[0])]
        rows, more = keyset_page(changes.release_select(), spec, after, args["limit"])
        next_cursor = pagination.encode(_secret(), request.path, "-number", {}, [str(rows[-1].number)]) if more else None
        return page([changes.release_doc(row) for row in rows], database.release(), args["limit"], next_cursor)


@blp.route("/releases/<release:number>")
class ReleaseByNumber(MethodView):
    @blp.arguments(QuerySchema, location="query", as_kwargs=False)
    @blp.response(200, ReleaseOne)
    @blp.problems(400, 404, 406)
    def get(self, args, number):
        """One release"""
        formats.json_only()
        found = changes.release(number)
        if found is None:
            raise Problem(404, f"No release {number}; the newest is {database.release()} (see /v1/releases).")
        return envelope(found)


@blp.route("/changes")
class Changes(MethodView):
    @blp.arguments(ChangeArgs, location="query", as_kwargs=False)
    @blp.response(200, ChangePage)
    @blp.problems(400, 406)
    def get(self, args):
        """Records added, changed or removed since a release

        Each record appears once, with its latest state: `record` is its current
        document (null when it was removed). Changes are in the order of the
        release of each record's latest change, so a record that changes again
        while you page moves past your cursor and comes again later: follow
        `links.next` to the end, then keep `meta.release` of the last page as
        your next `since`.
        """
        formats.json_only()
        since, current = args["since"], database.release()
        if since > current and database.replica_behind(since):  # (as a cursor of a later release: api/pagination.py)
            raise behind(since, current)
        if since > current:
            raise Problem(400, f"Invalid query parameter 'since': release {since} is after the current release "
                               f"{current}; ask with since={current} or less.",
                          {"since": [f"is after the current release ({current})"]})
        filters = {"since": since}
        after = None
        if args.get("cursor"):
            after = pagination.decode(_secret(), args["cursor"], request.path, "release", filters, 3)
            if int(after[0]) > current and database.replica_behind(int(after[0])):
                raise behind(int(after[0]), current)
            if int(after[0]) > current:  # the database was rebuilt from nothing: its history is not the one paged
                raise Problem(400, "Invalid query parameter 'cursor': it points past the current release "
                                   f"{current}; this database's history was started again: take a new dump.",
                              {"cursor": ["points past the current release; take a new dump"]})
        found, more = changes.change_page(database.current().db, since, after, args["limit"])
        key = [str(found[-1]["release"]), found[-1]["kind"], found[-1]["id"]] if found else None
        next_cursor = pagination.encode(_secret(), request.path, "release", filters, key) if more else None
        return page(Stored.array(map(changes.change_json, found)), None, args["limit"], next_cursor, since=since)

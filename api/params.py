"""Query parameters: strict schemas shared by the resources.

Parsing goes through flask-smorest's ``@blp.arguments`` with :class:`StrictParser`,
so every parameter is in the OpenAPI document and every bad one is a 400
problem+json naming it. Unknown parameters and repeated single-valued ones are
errors, not silently ignored.
"""
from __future__ import annotations

import datetime as dt

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema
from webargs.flaskparser import FlaskParser

from models.fixtures import EVENT_STATUSES, ID_PATTERN, PARTICIPANT_KINDS, PLACE_KINDS, STATEMENT_MODES, TOPIC_PATTERN

from .errors import Problem

MAX_LIMIT = 500
DEFAULT_LIMIT = 50
MAX_PARAM_LENGTH = 1_000
PLOVER_TYPES = (
    "AGREE", "CONSULT", "SUPPORT", "CONCEDE", "COOPERATE", "AID", "RETREAT", "REQUEST",
    "ACCUSE", "REJECT", "THREATEN", "PROTEST", "SANCTION", "MOBILIZE", "COERCE", "ASSAULT",
)
FORMATS = ("json", "csv", "ndjson", "geojson")
ID_ERROR = "must be a record id: lowercase letters, digits and '-', 2 to 80 characters"


class StrictParser(FlaskParser):
    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": RAISE, "querystring": RAISE}
    DEFAULT_VALIDATION_STATUS = 400

    def load_querystring(self, req, schema):
        errors = {}
        for name in req.args:
            values = req.args.getlist(name)
            field = schema.fields.get(name)
            if field is not None and len(values) > 1 and not isinstance(field, fields.List):
                errors[name] = [f"given {len(values)} times; give it once"]
            for value in values:
                if "\x00" in value or "\ufffd" in value:
                    errors[name] = ["contains a NUL byte or bytes that are not UTF-8"]
                elif len(value) > MAX_PARAM_LENGTH:
                    errors[name] = [f"is longer than {MAX_PARAM_LENGTH} characters"]
        if errors:
            raise Problem(400, _detail(errors), errors)
        return super().load_querystring(req, schema)

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        messages = error.messages
        # webargs nests messages under the location
        if set(messages) <= {"query", "querystring"}:
            messages = next(iter(messages.values()), {}) if messages else {}
        errors = {}
        for name, value in messages.items():
            if name == "_schema":
                name = "query"
            errors[name] = [m if m != "Unknown field." else "unknown parameter; see /v1/openapi.json for the parameters of this endpoint" for m in _flat(value)]
        raise Problem(400, _detail(errors), errors)


def _flat(value):
    if isinstance(value, dict):
        for inner in value.values():
            yield from _flat(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _flat(inner)
    else:
        yield str(value)


def _detail(errors: dict) -> str:
    parts = [f"'{name}' {messages[0]}" for name, messages in errors.items()]
    return "Invalid query parameter(s): " + "; ".join(parts)


class CommaList(fields.List):
    """``a,b,c`` in one parameter (and repeatable), limited to ``choices``."""

    def __init__(self, choices, description: str = "", **kwargs):
        self.choices = tuple(choices)
        description = (description + " " if description else "") + "Comma-separated; any of: " + ", ".join(self.choices) + "."
        super().__init__(fields.String(), metadata={"description": description}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        items = []
        for raw in super()._deserialize(value, attr, data, **kwargs):
            items.extend(part.strip() for part in raw.split(",") if part.strip())
        unknown = [item for item in items if item not in self.choices]
        if unknown:
            raise ValidationError(f"unknown value(s) {', '.join(unknown)}; allowed: {', '.join(self.choices)}")
        return list(dict.fromkeys(items))


def record_id(description: str, **kwargs):
    return fields.String(validate=validate.Regexp(ID_PATTERN, error=ID_ERROR), metadata={"description": description}, **kwargs)


class QuerySchema(Schema):
    class Meta:
        unknown = RAISE
        ordered = True


class PageArgs(QuerySchema):
    limit = fields.Integer(
        load_default=DEFAULT_LIMIT, strict=False, validate=validate.Range(1, MAX_LIMIT),
        metadata={"description": f"Records per page (1–{MAX_LIMIT}, default {DEFAULT_LIMIT})."},
    )
    cursor = fields.String(metadata={"description": "Opaque cursor from meta.next_cursor of the previous page."})
    format = fields.String(
        validate=validate.OneOf(FORMATS),
        metadata={"description": "Response format; also chosen by the Accept header. csv and ndjson export every matching record (no paging)."},
    )


class DateArgs(QuerySchema):
    from_ = fields.Date(data_key="from", metadata={"description": "Earliest date (ISO, inclusive). Records whose date interval overlaps [from, to] match."})
    to = fields.Date(metadata={"description": "Latest date (ISO, inclusive)."})
    include_undated = fields.Boolean(load_default=False, metadata={"description": "With from/to: also return records of unknown date."})

    @validates_schema
    def ordered_dates(self, data, **kwargs):
        start, end = data.get("from_"), data.get("to")
        if start and end and start > end:
            raise ValidationError(f"is after 'to' ({end})", "from")


class EventFilterArgs(DateArgs):
    participant = fields.List(
        fields.String(validate=validate.Regexp(ID_PATTERN, error=ID_ERROR)),
        metadata={"description": "Participant id; repeat for events with all of them."},
    )
    country = fields.String(validate=validate.Regexp(r"^[A-Za-z]{3}$", error="must be an ISO 3166-1 alpha-3 code, e.g. SYR"),
                            metadata={"description": "ISO 3166-1 alpha-3 of a participant or of the place."})
    place = record_id("Place id.")
    type = fields.String(validate=validate.Regexp(r"^[0-9]{2,4}$", error="must be a CAMEO code or prefix of 2 to 4 digits, e.g. 04 or 042"),
                         metadata={"description": "CAMEO code or prefix: 04 matches 040–046 and their sub-codes."})
    plover = fields.String(validate=validate.OneOf(PLOVER_TYPES), metadata={"description": "PLOVER event type."})
    status = fields.String(validate=validate.OneOf(EVENT_STATUSES))
    topic = fields.String(validate=validate.Regexp(TOPIC_PATTERN, error="must be a topic id such as astana_talks"))
    source = fields.String(validate=validate.Length(1, 80), metadata={"description": "Source id."})
    q = fields.String(validate=validate.Length(1, 200), metadata={"description": 'Search: words (all must match), "a phrase", -excluded. Arabic spelling variants are unified.'})


EVENT_FIELDS = ("id", "title_en", "summary_en", "cameo", "plover", "status", "date", "place", "participants",
                "topics", "evidence", "quantities", "statements", "confidence", "codebook_version", "notes", "source")
STATEMENT_FIELDS = ("id", "speaker", "event", "event_link", "text_ar", "text_en", "translation", "mode", "attributed_via",
                    "topics", "cameo", "plover", "span", "evidence", "reported_on", "confidence", "codebook_version", "notes", "source")
PARTICIPANT_FIELDS = ("id", "name_en", "name_ar", "kind", "country", "aliases", "title_en", "title_ar", "identifiers",
                      "mentions", "mention_count", "event_count", "statement_count", "confidence", "codebook_version", "notes")
PLACE_FIELDS = ("id", "name_en", "name_ar", "country", "lat", "lon", "aliases", "kind", "identifiers", "mentions",
                "mention_count", "event_count", "confidence", "codebook_version", "notes")


def fields_param(choices):
    return CommaList(choices, "Sparse field set: only these fields in each record (id is always kept).", data_key="fields")


class EventListArgs(EventFilterArgs, PageArgs):
    sort = fields.String(load_default="date", validate=validate.OneOf(("date", "-date", "id", "-id")),
                         metadata={"description": "date, -date, id or -id; ties broken by id. Undated events sort first with date, last with -date."})
    fields_ = fields_param(EVENT_FIELDS)
    include = CommaList(("statements", "participants", "place"), "Embed related records in full.")


class StatementFilterArgs(DateArgs):
    speaker = record_id("Participant id of the speaker.")
    participant = fields.List(fields.String(validate=validate.Regexp(ID_PATTERN, error=ID_ERROR)),
                              metadata={"description": "Participant id (speaker); same as speaker, repeatable: statements by any of them."})
    event = record_id("Event id.")
    mode = fields.String(validate=validate.OneOf(STATEMENT_MODES))
    type = fields.String(validate=validate.Regexp(r"^[0-9]{2,4}$", error="must be a CAMEO code or prefix of 2 to 4 digits"),
                         metadata={"description": "CAMEO code or prefix."})
    topic = fields.String(validate=validate.Regexp(TOPIC_PATTERN, error="must be a topic id such as astana_talks"))
    source = fields.String(validate=validate.Length(1, 80))
    q = fields.String(validate=validate.Length(1, 200), metadata={"description": "Search (see /v1/search)."})


class StatementListArgs(StatementFilterArgs, PageArgs):
    sort = fields.String(load_default="date", validate=validate.OneOf(("date", "-date", "id", "-id")))
    fields_ = fields_param(STATEMENT_FIELDS)
    include = CommaList(("event", "speaker"), "Embed the full event or speaker record.")


class ParticipantListArgs(PageArgs):
    kind = fields.String(validate=validate.OneOf(PARTICIPANT_KINDS))
    country = fields.String(validate=validate.Regexp(r"^[A-Za-z]{3}$", error="must be an ISO 3166-1 alpha-3 code"))
    q = fields.String(validate=validate.Length(1, 200), metadata={"description": "Search names and aliases in any spelling."})
    sort = fields.String(load_default="id", validate=validate.OneOf(("id", "-id")))
    fields_ = fields_param(PARTICIPANT_FIELDS)


class PlaceListArgs(PageArgs):
    kind = fields.String(validate=validate.OneOf(PLACE_KINDS))
    country = fields.String(validate=validate.Regexp(r"^[A-Za-z]{3}$", error="must be an ISO 3166-1 alpha-3 code"))
    q = fields.String(validate=validate.Length(1, 200))
    sort = fields.String(load_default="id", validate=validate.OneOf(("id", "-id")))
    fields_ = fields_param(PLACE_FIELDS)


class SourceListArgs(PageArgs):
    sort = fields.String(load_default="id", validate=validate.OneOf(("id", "-id")))


class NoArgs(QuerySchema):
    """Endpoints that take no parameters still reject unknown ones."""


class SingleEventArgs(QuerySchema):
    fields_ = fields_param(EVENT_FIELDS)
    include = CommaList(("statements", "participants", "place"))


class SingleStatementArgs(QuerySchema):
    fields_ = fields_param(STATEMENT_FIELDS)
    include = CommaList(("event", "speaker"))


class SingleParticipantArgs(QuerySchema):
    fields_ = fields_param(PARTICIPANT_FIELDS)


class SinglePlaceArgs(QuerySchema):
    fields_ = fields_param(PLACE_FIELDS)


class SourceArgs(QuerySchema):
    highlight = record_id("Id of an event, statement, participant or place: its spans in this source are returned in data.highlights and marked in data.text_marked.")


def to_filters(args: dict) -> dict:
    """Parsed arguments without the paging/format keys, as the query layer takes them."""
    out = {k: v for k, v in args.items() if k not in ("limit", "cursor", "format", "sort", "fields_", "include") and v not in (None, [], False)}
    if "from_" in out:
        out["from"] = out.pop("from_")
    if isinstance(out.get("country"), str):
        out["country"] = out["country"].upper()
    for key, value in list(out.items()):
        if isinstance(value, dt.date):
            out[key] = value.isoformat()
    return out

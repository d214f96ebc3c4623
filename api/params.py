"""Query parameters: strict schemas shared by the resources.

Parsing goes through flask-smorest's ``@blp.arguments`` with :class:`StrictParser`,
so every parameter is in the OpenAPI document and every bad one is a 400
problem+json naming it. Unknown parameters and repeated single-valued ones are
errors, not silently ignored.
"""
from __future__ import annotations

import datetime as dt
import re
import time
from urllib.parse import unquote_to_bytes

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema
from flask import g
from webargs.flaskparser import FlaskParser

from models import filters as filter_tables
from models import gazetteer, queries, search

from . import database
from .errors import Problem, bad_parameter
from .param_fields import ITEM_PATTERNS, Many, count_param, flat, format_param, value_field

MAX_LIMIT = 500
DEFAULT_LIMIT = 50
MAX_PARAM_LENGTH = 1_000
#: cursors are base64url without padding
CURSOR_PATTERN = "^[A-Za-z0-9_-]+$"  # (an empty cursor is no cursor: a 400, not the first page)
CURSOR_ERROR = "is not a cursor this API issued (for the first page, leave cursor out)"


#: query strings up to this long have their parsed arguments kept (:class:`ParsedQueries`)
MEMO_QUERY_BYTES = 1_024
#: parsed query strings a process keeps
MEMO_ENTRIES = 4_096


class ParsedQueries:
    """Parsed arguments of the query strings seen recently, per schema.

    Parsing the same query string with the same schema always gives the same arguments (the
    schemas read nothing but the string: what depends on the data, ``q`` against the
    gazetteer, is done later by :func:`to_filters`), and a dashboard sends the same few dozen
    URLs over and over: the parse was a tenth of the CPU of one event by id. Only successful
    parses are kept (a bad query string is parsed, and refused, every time), each handed out
    as a copy, and at most :data:`MEMO_ENTRIES` of at most :data:`MEMO_QUERY_BYTES` bytes; when
    full, the memo starts again empty.

    A cursor is sent once, so a query string with one is kept under the string with its cursor
    taken out (:func:`without_cursor`), and the cursor put back in each copy: the pages of one
    listing share one parse (it was a twelfth of a deep page's CPU), and a client paging through a
    listing does not fill the memo with strings that never come back."""

    def __init__(self, entries: int = MEMO_ENTRIES):
        self.entries = entries
        self.parsed: dict[tuple, dict] = {}

    @staticmethod
    def key(schema, location: str | None, query_string: bytes) -> tuple | None:
        """The key of a query string (its cursor taken out: :func:`without_cursor`), or None when
        it is not kept."""
        return ParsedQueries.key_and_cursor(schema, location, query_string)[0]

    @staticmethod
    def key_and_cursor(schema, location: str | None, query_string: bytes) -> tuple[tuple | None, str | None]:
        """(:meth:`key`, the cursor it took out or None)."""
        if not isinstance(schema, Schema) or len(query_string) > MEMO_QUERY_BYTES:
            return None, None
        cursor = None
        if b"cursor" in query_string:
            query_string, cursor = without_cursor(query_string)
            if query_string is None:
                return None, None
        return (schema, location, query_string), cursor

    def get(self, key: tuple, cursor: str | None = None) -> dict | None:
        found = self.parsed.get(key)
        if found is None:
            return None
        args = _copy(found)
        if cursor is not None:
            args["cursor"] = cursor
        return args

    def put(self, key: tuple, args: dict) -> None:
        if len(self.parsed) >= self.entries:
            self.parsed = {}
        kept = _copy(args)
        if _CURSOR_TAKEN_OUT in key[2]:  # (the cursor of another spelling is part of the key: kept)
            kept.pop("cursor", None)
        self.parsed[key] = kept


#: the one ``cursor`` parameter of a query string, as issued (base64url: decoded, it is the same text;
#: \Z: $ would pass a final line feed)
_CURSOR_PART = re.compile(rb"(?:\A|&)cursor=(" + CURSOR_PATTERN.strip("^$").encode() + rb")(?=&|\Z)")
#: what stands for the cursor in a kept query string (a NUL: no query string that reaches a view
#: holds one, check_raw_query refuses it)
_CURSOR_TAKEN_OUT = b"\0"


def without_cursor(query_string: bytes) -> tuple[bytes | None, str | None]:
    """(the query string with its cursor's value taken out, the cursor) when it names ``cursor``
    exactly once, spelled plainly and with a value a cursor can have (:data:`CURSOR_PATTERN`, at
    most :data:`MAX_PARAM_LENGTH` characters); (the query string, None) when it names no cursor
    (the name may be percent-encoded: then it is parsed as it is); (None, None) otherwise (it
    is parsed every time, and refused or not as any other)."""
    found = list(_CURSOR_PART.finditer(query_string))
    mentions = query_string.count(b"cursor")
    if not found:
        return (query_string, None) if mentions == 0 else (None, None)
    if len(found) > 1 or mentions > 1 or len(found[0].group(1)) > MAX_PARAM_LENGTH:
        return None, None
    start, end = found[0].span(1)
    return query_string[:start] + _CURSOR_TAKEN_OUT + query_string[end:], found[0].group(1).decode()


def _copy(args: dict) -> dict:
    """Arguments as a view may change them: the dict and its lists are new, the values immutable."""
    return {name: list(value) if isinstance(value, list) else value for name, value in args.items()}


class StrictParser(FlaskParser):
    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": RAISE, "querystring": RAISE}
    DEFAULT_VALIDATION_STATUS = 400

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.memo = ParsedQueries()

    def parse(self, argmap, req=None, *, location=None, validate=None, **kwargs):
        """webargs' parse, with the arguments of a query string parsed before taken from
        :class:`ParsedQueries` (views that validate further, ``validate=``, are parsed each time)."""
        request = req if req is not None else self.get_default_request()
        key, cursor = (ParsedQueries.key_and_cursor(argmap, location, request.query_string)
                       if validate is None and location in ("query", "querystring") else (None, None))
        if key is not None and (found := self.memo.get(key, cursor)) is not None:
            return found
        args = super().parse(argmap, request, location=location, validate=validate, **kwargs)
        if key is not None and isinstance(args, dict):
            self.memo.put(key, args)
        return args

    def load_querystring(self, req, schema):
        """The parameters present, as a plain dict (each a list when its field takes several): marshmallow
        then looks each of the schema's fields up in it. webargs' proxy over werkzeug's MultiDict made
        every absent one raise and catch a werkzeug exception (a page's schema has some twenty fields)."""
        by_name, multiple = _fields_of(schema, self.KNOWN_MULTI_FIELDS)
        errors, too_many, present = {}, {}, {}
        # (NUL and bytes that are not UTF-8 were refused before any view ran: check_raw_query)
        for name, values in req.args.lists():
            field = by_name.get(name)
            if field is not None and len(values) > 1 and not isinstance(field, fields.List):
                errors.setdefault(name, [f"given {len(values)} times; give it once"])
            if any(len(value) > MAX_PARAM_LENGTH for value in values):
                errors.setdefault(name, [f"is longer than {MAX_PARAM_LENGTH} characters"])
            if isinstance(field, Many) and (count := len(field.split(values))) > field.max_items:
                # bounded up front, as a ``too-expensive`` problem, not found out the hard way
                too_many[name] = [f"has {count} values; the most is {field.max_items} (ask in several requests)"]
            present[name] = values if name in multiple else values[0]
        if errors:
            raise Problem(400, _detail(errors), errors)
        if too_many:
            too_many = {name: too_many[name] for name in by_name if name in too_many}  # in the schema's order
            raise Problem(400, "The request asks for more than one request may: "
                          + "; ".join(f"'{name}' {messages[0]}" for name, messages in too_many.items()),
                          too_many, slug="too-expensive")
        return present

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        messages = error.messages
        # webargs nests messages under the location
        if set(messages) <= {"query", "querystring"}:
            messages = next(iter(messages.values()), {}) if messages else {}
        errors = {}
        for name, value in messages.items():
            if name == "_schema":
                name = "query"
            errors[name] = [_as_clause(m) for m in flat(value)]
        raise Problem(400, _detail(errors), errors)


#: per schema (by id, holding the schema so that its id is not reused meanwhile): its fields by
#: parameter name, and the names that take several values (webargs' rule: a field's own
#: ``is_multiple``, else whether it is one of the parser's multi-value field types)
_FIELDS: dict[int, tuple] = {}


def _fields_of(schema, multi_types) -> tuple[dict, frozenset]:
    known = _FIELDS.get(id(schema))
    if known is None or known[0] is not schema:
        by_name = {field.data_key or attr: field for attr, field in schema.fields.items()}
        multiple = frozenset(name for name, field in by_name.items() if _takes_several(field, tuple(multi_types)))
        if len(_FIELDS) > 256:  # (views keep their schemas: more than this are made per request)
            _FIELDS.clear()
        known = _FIELDS[id(schema)] = (schema, by_name, multiple)
    return known[1], known[2]


def _takes_several(field, multi_types: tuple) -> bool:
    declared = getattr(field, "is_multiple", None)
    return declared if declared is not None else isinstance(field, multi_types)


def raw_query_problems(query_string: bytes) -> dict[str, str]:
    """Parameters whose raw bytes are not UTF-8 or hold a NUL, by (best-effort) name.

    Werkzeug decodes the query string leniently (bad bytes become U+FFFD), so the
    check runs on the bytes as sent; a correctly encoded U+FFFD is accepted.
    """
    problems: dict[str, str] = {}
    if not query_string:
        return problems
    for pair in query_string.split(b"&"):
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition(b"=")
        name_bytes = unquote_to_bytes(raw_name.replace(b"+", b" "))
        value_bytes = unquote_to_bytes(raw_value.replace(b"+", b" "))
        name = name_bytes.decode("utf-8", "replace").replace("\x00", "\\0")[:100] or "query"
        try:
            name_bytes.decode("utf-8")
            value_bytes.decode("utf-8")
        except UnicodeDecodeError:
            problems.setdefault(name, "is not valid UTF-8 (percent-encode the UTF-8 bytes of the text)")
            continue
        if b"\x00" in name_bytes or b"\x00" in value_bytes:
            problems.setdefault(name, "contains a NUL character")
    return problems


def check_raw_query(query_string: bytes) -> None:
    """A 400 naming each parameter with a NUL or with bytes that are not UTF-8.

    Runs before anything reads ``request.args``: werkzeug fails (a 500) on raw
    bytes that are not UTF-8, and PostgreSQL refuses NUL in text.
    """
    problems = raw_query_problems(query_string)
    if problems:
        errors = {name: [message] for name, message in problems.items()}
        raise Problem(400, _detail(errors), errors)


#: marshmallow's own messages begin as sentences ("Must be one of: …", "Not a valid boolean."); the
#: detail puts each after the parameter's name, as the project's own messages are written
_SENTENCE_STARTS = ("Must ", "Not ", "Missing ", "Length ", "Shorter ", "Longer ", "Invalid ", "Field ")


def _as_clause(message: str) -> str:
    """A message to follow a parameter's name ('limit' must be …)."""
    if message == "Unknown field.":
        return "unknown parameter; see /v1/openapi.json for the parameters of this endpoint"
    if message.startswith(_SENTENCE_STARTS):
        return message[0].lower() + message[1:].removesuffix(".")
    return message


def _detail(errors: dict) -> str:
    parts = [f"'{name}' {messages[0]}" for name, messages in errors.items()]
    return "Invalid query parameter(s): " + "; ".join(parts)


class QuerySchema(Schema):
    class Meta:
        unknown = RAISE
        ordered = True


class PageArgs(QuerySchema):
    limit = count_param(DEFAULT_LIMIT, 1, MAX_LIMIT, f"Records per page (1–{MAX_LIMIT}, default {DEFAULT_LIMIT}).")
    cursor = fields.String(validate=validate.Regexp(CURSOR_PATTERN, error=CURSOR_ERROR),
                           metadata={"description": "Opaque cursor from meta.next_cursor of the previous page."})
    format = format_param(("json", "csv", "ndjson"))


def filter_fields(table) -> dict:
    """The query parameters of a filter table, by attribute name (``from`` is ``from_``)."""
    out = {}
    for entry in table:
        attribute = entry.name + "_" if entry.name == "from" else entry.name
        key = {"data_key": entry.name} if attribute != entry.name else {}
        if entry.many:
            choices = isinstance(entry.value, tuple)
            pattern = "(?:" + "|".join(map(re.escape, entry.value)) + ")" if choices else ITEM_PATTERNS.get(entry.value)
            out[attribute] = Many(value_field(entry.value, ""), pattern, entry.description, entry.many, **key)
        else:
            out[attribute] = value_field(entry.value, entry.description, **key)
    return out


class DateOrder(QuerySchema):
    @validates_schema
    def ordered_dates(self, data, **kwargs):
        start, end = data.get("from_"), data.get("to")
        if start and end and start > end:
            raise ValidationError(f"is after 'to' ({end})", "from")


def filter_schema(name: str, table) -> type:
    """The parameter schema of a filter table (dates checked to be in order)."""
    return type(name, (DateOrder,), filter_fields(table))


EventFilterArgs = filter_schema("EventFilterArgs", filter_tables.EVENT_FILTERS)
StatementFilterArgs = filter_schema("StatementFilterArgs", filter_tables.STATEMENT_FILTERS)
ParticipantFilterArgs = filter_schema("ParticipantFilterArgs", filter_tables.PARTICIPANT_FILTERS)
PlaceFilterArgs = filter_schema("PlaceFilterArgs", filter_tables.PLACE_FILTERS)


class NoArgs(QuerySchema):
    """Endpoints that take no parameters still reject unknown ones."""


NOT_FILTERS = ("limit", "cursor", "format", "sort", "fields_", "include")


def to_filters(args: dict, own: tuple[str, ...] = ()) -> dict:
    """Parsed arguments without the paging, format and ``own`` keys, as the query layer takes
    them: dates as ISO strings, countries upper-case, ``q`` parsed (a 400 when it cannot be)."""
    out = {k: v for k, v in args.items() if k not in NOT_FILTERS and k not in own and v not in (None, [], False)}
    if "from_" in out:
        out["from"] = out.pop("from_")
    if out.get("country"):
        out["country"] = [code.upper() for code in out["country"]]
    for key, value in list(out.items()):
        if isinstance(value, dt.date):
            out[key] = value.isoformat()
    if "q" in out:
        out["q"] = search_query(out["q"])
    return out


def search_query(text: str) -> search.Query:
    """``q`` parsed (a 400 when it cannot be), knowing the entities its words name."""
    try:
        query = search.parse_query(text)
    except search.QueryError as error:
        raise bad_parameter("q", str(error)) from None
    started = time.monotonic()
    names = gazetteer.gazetteer_for(database.version(), queries.entity_names)
    database.excuse(time.monotonic() - started)  # (a build after a load is every request's, not this one's)
    g.ignored_words = query.ignored  # said in the answer's meta (api/envelope.py), whatever the endpoint
    query.prefix_terms = search.prefix_terms_for(database.version())
    return query.knowing(names)

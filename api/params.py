"""Query parameters: strict schemas shared by the resources.

Parsing goes through flask-smorest's ``@blp.arguments`` with :class:`StrictParser`,
so every parameter is in the OpenAPI document and every bad one is a 400
problem+json naming it. Unknown parameters and repeated single-valued ones are
errors, not silently ignored.
"""
from __future__ import annotations

import datetime as dt
import re
from urllib.parse import unquote_to_bytes

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema
from webargs.flaskparser import FlaskParser

from models import filters as filter_tables
from models import gazetteer, queries, search
from models.vocabulary import CAMEO_PATTERN, ID_PATTERN, SOURCE_ID_PATTERN, MAX_QUERY_LENGTH, TOPIC_PATTERN

from . import database
from .errors import Problem, bad_parameter

MAX_LIMIT = 500
DEFAULT_LIMIT = 50
MAX_PARAM_LENGTH = 1_000
#: the largest release number a parameter takes (documented, so no generated value overflows a column)
MAX_RELEASE = 999_999_999
#: free text (q, source): anything but NUL, which no backend stores (PostgreSQL refuses it in text)
NO_NUL = "^[^\\u0000]*$"
#: cursors are base64url without padding
CURSOR_PATTERN = "^[A-Za-z0-9_-]*$"
ID_ERROR = "must be a record id: lowercase letters, digits and '-', 2 to 80 characters"


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


#: the one ``cursor`` parameter of a query string, as issued (base64url: decoded, it is the same text)
_CURSOR_PART = re.compile(rb"(?:\A|&)cursor=([A-Za-z0-9_-]*)(?=&|\Z)")  # (\Z: $ would pass a final line feed)
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
            errors[name] = [_as_clause(m) for m in _flat(value)]
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


def _flat(value):
    if isinstance(value, dict):
        for inner in value.values():
            yield from _flat(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _flat(inner)
    else:
        yield str(value)


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


class CommaList(fields.List):
    """``a,b,c`` in one parameter (and repeatable), limited to ``choices``.

    Spaces around the commas and empty items are ignored. The OpenAPI document
    gives each item the exact grammar as a ``pattern``.
    """

    def __init__(self, choices, description: str = "", **kwargs):
        self.choices = tuple(choices)
        description = (description + " " if description else "") + "Comma-separated; any of: " + ", ".join(self.choices) + "."
        names = "(?:" + "|".join(re.escape(choice) for choice in self.choices) + ")"
        pattern = f"^[ ,]*(?:{names}(?: *,[ ,]*{names})*)?[ ,]*$"
        super().__init__(fields.String(metadata={"pattern": pattern}), metadata={"description": description}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        items = []
        for raw in super()._deserialize(value, attr, data, **kwargs):
            items.extend(part.strip(" ") for part in raw.split(",") if part.strip(" "))
        unknown = [item for item in items if item not in self.choices]
        if unknown:
            raise ValidationError(f"unknown value(s) {', '.join(unknown)}; allowed: {', '.join(self.choices)}")
        return list(dict.fromkeys(items))


#: the grammar of one value of each filter grammar, as a regular expression without anchors
ITEM_PATTERNS = {
    filter_tables.ID: ID_PATTERN.strip("^$"),
    filter_tables.SOURCE: SOURCE_ID_PATTERN.strip("^$"),
    filter_tables.ISO3: "[A-Za-z]{3}",
    filter_tables.CAMEO: CAMEO_PATTERN.strip("^$"),
    filter_tables.TOPIC: TOPIC_PATTERN.strip("^$"),
}


class Many(fields.List):
    """A repeatable filter: repeated (``status=a&status=b``) or comma-separated (``status=a,b``), at
    most ``max_items`` values in all, each validated by ``item``; the OpenAPI document gives the
    grammar of one parameter as a ``pattern`` and the bound as ``maxItems``."""

    def __init__(self, item: fields.Field, item_pattern: str | None, description: str, combine: str,
                 max_items: int = filter_tables.MAX_VALUES, **kwargs):
        self.item, self.max_items = item, max_items
        how = "events with all of them" if combine == filter_tables.ALL else "any of them (OR)"
        description = (f"{description} Repeat the parameter or separate values with commas: {how}; "
                       f"at most {max_items} values.").strip()
        # free text (a source id) is only free of NUL; the others are a comma-separated list of their grammar
        pattern = NO_NUL if item_pattern is None else f"^ *{item_pattern}(?: *, *{item_pattern})* *$"
        super().__init__(fields.String(metadata={"pattern": pattern}),
                         metadata={"description": description, "maxItems": max_items}, **kwargs)

    def split(self, values) -> list[str]:
        return [part.strip(" ") for raw in values for part in str(raw).split(",")]

    def _deserialize(self, value, attr, data, **kwargs):
        items = self.split(super()._deserialize(value, attr, data, **kwargs))
        if "" in items:  # `country=`, `status=a,,b`: as the documented pattern says, a value is never empty
            raise ValidationError("has an empty value; give values separated by single commas, e.g. a,b")
        if len(items) > self.max_items:
            raise ValidationError(f"has {len(items)} values; the most is {self.max_items}")
        errors, out = [], []
        for position, item in enumerate(items, 1):
            try:
                out.append(self.item.deserialize(item))
            except ValidationError as error:  # by position: a value is never echoed back
                errors.extend(f"value {position} of {len(items)}: {message}" for message in _flat(error.messages))
        if errors:
            raise ValidationError(errors)
        return list(dict.fromkeys(out))


class StrictInteger(fields.Integer):
    """A whole number written with the ASCII digits 0-9 only: not ٥, ５, 1_0, +5 or 1e3."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not re.fullmatch(r"[0-9]{1,12}", value):
            bounds = next((v for v in self.validators if isinstance(v, validate.Range)), None)
            within = f" from {bounds.min} to {bounds.max}" if bounds is not None else ""
            raise ValidationError(f"must be a whole number{within}, written with the digits 0-9")
        return super()._deserialize(value, attr, data, **kwargs)


class Day(fields.Date):
    """A calendar day written YYYY-MM-DD (Python also reads 20170118 and 2017-W03-3 as days; the
    API's answers and documentation write one form, and so do its parameters)."""

    default_error_messages = {"invalid": "must be a day of the calendar written YYYY-MM-DD, e.g. 2017-01-18"}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


def count_param(default: int, low: int, high: int, description: str):
    return StrictInteger(load_default=default, validate=validate.Range(low, high),
                         metadata={"description": description})


def text(max_length: int, description: str = "", **kwargs):
    """A free-text parameter: 1 to ``max_length`` characters, no NUL (the parser rejects NUL)."""
    metadata = {"pattern": NO_NUL, **({"description": description} if description else {})}
    return fields.String(validate=validate.Length(1, max_length), metadata=metadata, **kwargs)


def format_param(allowed: tuple[str, ...]):
    return fields.String(
        validate=validate.OneOf(allowed),
        metadata={"description": "Response format; also chosen by the Accept header. The other formats export the "
                                 "matching records, streamed: every one after `cursor`, or `limit` of them when it is "
                                 "given; `fields` chooses their members (CSV: their columns)."
                  if len(allowed) > 1 else "Response format (json only here)."},
    )


def record_id(description: str, **kwargs):
    return fields.String(validate=validate.Regexp(ID_PATTERN, error=ID_ERROR), metadata={"description": description}, **kwargs)


class QuerySchema(Schema):
    class Meta:
        unknown = RAISE
        ordered = True


class PageArgs(QuerySchema):
    limit = count_param(DEFAULT_LIMIT, 1, MAX_LIMIT, f"Records per page (1–{MAX_LIMIT}, default {DEFAULT_LIMIT}).")
    cursor = fields.String(validate=validate.Regexp(CURSOR_PATTERN, error="is not a cursor this API issued"),
                           metadata={"description": "Opaque cursor from meta.next_cursor of the previous page."})
    format = format_param(("json", "csv", "ndjson"))


def _value_field(grammar, description: str, **kwargs):
    """A marshmallow field for one value of a filter grammar (models/filters.py)."""
    metadata = {"description": description} if description else {}
    if isinstance(grammar, tuple):
        return fields.String(validate=validate.OneOf(grammar), metadata=metadata, **kwargs)
    if grammar == filter_tables.ID:
        return fields.String(validate=validate.Regexp(ID_PATTERN, error=ID_ERROR), metadata=metadata, **kwargs)
    if grammar == filter_tables.ISO3:
        return fields.String(validate=validate.Regexp(r"^[A-Za-z]{3}$", error="must be an ISO 3166-1 alpha-3 code, e.g. SYR"),
                             metadata=metadata, **kwargs)
    if grammar == filter_tables.CAMEO:
        return fields.String(validate=validate.Regexp(CAMEO_PATTERN, error="must be a CAMEO code or prefix of 2 to 4 digits, e.g. 04 or 042"),
                             metadata=metadata, **kwargs)
    if grammar == filter_tables.TOPIC:
        return fields.String(validate=validate.Regexp(TOPIC_PATTERN, error="must be a topic id such as astana_talks"),
                             metadata=metadata, **kwargs)
    if grammar == filter_tables.SOURCE:
        return fields.String(validate=validate.Regexp(SOURCE_ID_PATTERN, error="must be a source id, e.g. 000_59c438f4edc17540"),
                             metadata=metadata, **kwargs)
    if grammar == filter_tables.SEARCH:
        return text(MAX_QUERY_LENGTH, description, **kwargs)
    if grammar == filter_tables.DATE:
        return Day(metadata=metadata, **kwargs)
    if grammar == filter_tables.RELEASE:
        return StrictInteger(validate=validate.Range(0, MAX_RELEASE), metadata=metadata, **kwargs)
    return fields.Boolean(load_default=False, metadata=metadata, **kwargs)


def filter_fields(table) -> dict:
    """The query parameters of a filter table, by attribute name (``from`` is ``from_``)."""
    out = {}
    for entry in table:
        attribute = entry.name + "_" if entry.name == "from" else entry.name
        key = {"data_key": entry.name} if attribute != entry.name else {}
        if entry.many:
            choices = isinstance(entry.value, tuple)
            pattern = "(?:" + "|".join(map(re.escape, entry.value)) + ")" if choices else ITEM_PATTERNS.get(entry.value)
            out[attribute] = Many(_value_field(entry.value, ""), pattern, entry.description, entry.many, **key)
        else:
            out[attribute] = _value_field(entry.value, entry.description, **key)
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


def fields_param(choices):
    return CommaList(choices, "Sparse field set: only these fields in each record (id is always kept).", data_key="fields")


def sort_param(sorts: tuple[str, ...], default: str, description: str = ""):
    return fields.String(load_default=default, validate=validate.OneOf(sorts),
                         metadata={"description": description} if description else {})


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
    return query.knowing(gazetteer.gazetteer_for(database.version(), queries.entity_names))

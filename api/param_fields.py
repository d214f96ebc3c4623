"""The types of the API's query parameters: marshmallow fields with the project's grammars and
messages (whole numbers in ASCII digits, calendar days, comma lists, repeatable filters), from
which api/params.py builds the schemas of the resources.

Each field's message is a clause read after the parameter's name ("'limit' must be …") and says
the form that would do; the OpenAPI document gets each grammar as a ``pattern``.
"""
from __future__ import annotations

import re

from marshmallow import ValidationError, fields, validate

from models import filters as filter_tables
from models.vocabulary import CAMEO_PATTERN, ID_PATTERN, MAX_QUERY_LENGTH, SOURCE_ID_PATTERN, TOPIC_PATTERN

#: the largest release number a parameter takes (documented, so no generated value overflows a column)
MAX_RELEASE = 999_999_999
#: free text (q, source): anything but NUL, which no backend stores (PostgreSQL refuses it in text)
NO_NUL = "^[^\\u0000]*$"
ID_ERROR = "must be a record id: lowercase letters, digits and '-', 2 to 80 characters"


def flat(value):
    """Every message of a marshmallow error's (nested) messages, in order."""
    if isinstance(value, dict):
        for inner in value.values():
            yield from flat(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from flat(inner)
    else:
        yield str(value)


class CommaList(fields.List):
    """``a,b,c`` in one parameter (and repeatable), limited to ``choices``.

    Spaces around the commas and empty items are ignored, but a parameter that names nothing
    (``fields=``, ``include=,``) is a 400: it is not clear whether it means all or none. The
    OpenAPI document gives the exact grammar as a ``pattern``.
    """

    def __init__(self, choices, description: str = "", **kwargs):
        self.choices = tuple(choices)
        description = (description + " " if description else "") + "Comma-separated; any of: " + ", ".join(self.choices) + "."
        names = "(?:" + "|".join(re.escape(choice) for choice in self.choices) + ")"
        listed = f"{names}(?: *,[ ,]*{names})*"
        pattern = f"^[ ,]*{listed}[ ,]*$"
        super().__init__(fields.String(metadata={"pattern": pattern}), metadata={"description": description}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        items = []
        for raw in super()._deserialize(value, attr, data, **kwargs):
            named = [part.strip(" ") for part in raw.split(",") if part.strip(" ")]
            if not named:
                raise ValidationError(f"names nothing; give at least one of {', '.join(self.choices)}, or leave it out")
            items.extend(named)
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
                errors.extend(f"value {position} of {len(items)}: {message}" for message in flat(error.messages))
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


class OneRecordId(validate.Regexp):
    """A record id (its pattern documented as any Regexp's); a comma list of ids given where one is
    taken is told so, not that an id is malformed."""

    def __init__(self):
        super().__init__(ID_PATTERN, error=ID_ERROR)

    def __call__(self, value):
        if "," in value and all(self.regex.match(part) for part in value.split(",")):
            raise ValidationError("takes one record id, not a list; give one id (repeat the request for another)")
        return super().__call__(value)


def record_id(description: str, **kwargs):
    return fields.String(validate=OneRecordId(), metadata={"description": description}, **kwargs)


def value_field(grammar, description: str, **kwargs):
    """A marshmallow field for one value of a filter grammar (models/filters.py)."""
    metadata = {"description": description} if description else {}
    if isinstance(grammar, tuple):
        return fields.String(validate=validate.OneOf(grammar), metadata=metadata, **kwargs)
    if grammar == filter_tables.ID:
        return fields.String(validate=OneRecordId(), metadata=metadata, **kwargs)
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


def fields_param(choices):
    return CommaList(choices, "Sparse field set: only these fields in each record (id is always kept).", data_key="fields")


def sort_param(sorts: tuple[str, ...], default: str, description: str = ""):
    return fields.String(load_default=default, validate=validate.OneOf(sorts),
                         metadata={"description": description} if description else {})

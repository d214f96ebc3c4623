"""marshmallow *load* schemas for the hand-made fixture files.

These check each record on its own (types, enums, shapes), with the words of
models/vocabulary.py. What needs more than one record (references between
records, spans against the source text, the codebook) is checked by the reader
(models/load/reader.py), which knows the whole dataset.
"""
from __future__ import annotations

import datetime as dt

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from ..vocabulary import (
    ACTOR_CODE_KINDS,
    ACTOR_CODE_PATTERN,
    CAMEO_PATTERN,
    CONFIDENCE,
    DATE_PRECISIONS,
    EVENT_LINKS,
    EVENT_STATUSES,
    ID_PATTERN,
    INFERABLE,
    ISO3,
    PARTICIPANT_KINDS,
    PLOVER_TYPES,
    PLACE_KINDS,
    STATEMENT_MODES,
    TOPIC_PATTERN,
    TRANSLATIONS,
)


class Strict(Schema):
    class Meta:
        unknown = RAISE


#: what a value of each pattern must look like, said to the curator (marshmallow formats these
#: messages with the value as {input}: the patterns themselves, with their {1,79}, cannot be quoted)
ID_RULE = ("'{input}' is not an id: 2 to 80 lower-case letters a-z, digits and '-', beginning with a letter "
           "or digit (e.g. imad-khamis)")
CAMEO_RULE = "'{input}' is not a CAMEO code: 2 to 4 digits, such as 04 or 042 (the codebook lists them)"
TOPIC_RULE = "'{input}' is not a topic id: lower-case letters, digits and '_', such as astana_talks"
ROLE_RULE = "'{input}' is not a role id: lower-case letters, digits and '_', such as visitor or signatory"
#: a day as the fixtures write it (marshmallow's own message named neither the value nor the form)
DAY_ERRORS = {"invalid": "'{input}' is not a day: write a calendar date as YYYY-MM-DD (2017-01-18)"}
ACTOR_CODE_RULE = "'{input}' is not a CAMEO actor code: 1 to 4 blocks of 3 capital letters, such as SYRGOV"


def record_id(**kwargs):
    return fields.String(required=True, validate=validate.Regexp(ID_PATTERN, error=ID_RULE), **kwargs)


class SpanSchema(Strict):
    """``text == source_text[start:end]``. Written by hand as the text alone (with ``occurrence``
    or ``after`` when it occurs more than once), ``event-records check --fix`` adds the offsets;
    a load takes only spans that have them (models/load/reader.py)."""

    start = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=0),
                           metadata={"description": "Offset of the first character (Python str index)."})
    end = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=1),
                         metadata={"description": "Offset after the last character."})
    text = fields.String(required=True, validate=validate.Length(min=1),
                         metadata={"description": "Exactly the source's characters from start to end."})
    occurrence = fields.Integer(strict=True, validate=validate.Range(min=1), metadata={
        "description": "Without offsets: which match of text in the source (1 = the first)."})
    after = fields.String(validate=validate.Length(min=1), metadata={
        "description": "Without offsets: a nearby text that occurs once; the span is the first match after it."})

    @validates_schema
    def ordered(self, data, **kwargs):
        if (data["start"] is None) != (data["end"] is None):
            raise ValidationError("give start and end together, or neither (check --fix fills them in)", "end")
        if data["start"] is None:
            return
        if data["end"] <= data["start"]:
            raise ValidationError("end must be greater than start", "end")
        if data["end"] - data["start"] != len(data["text"]):
            raise ValidationError(
                f"end - start is {data['end'] - data['start']} but text has {len(data['text'])} characters", "text"
            )


class Identifiers(Strict):
    wikidata = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^Q[1-9][0-9]*$", error="must be a Wikidata item id: Q followed by digits (Q123), or null"))
    geonames = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^[1-9][0-9]*$", error="must be a GeoNames id: digits only (123), or null"))


class Curated(Strict):
    """Fields every record carries."""

    id = record_id()
    confidence = fields.String(required=True, validate=validate.OneOf(CONFIDENCE))
    codebook_version = fields.String(required=True)
    notes = fields.String(load_default=None, allow_none=True)


class InferredSchema(Strict):
    """One part of a record that is the coder's inference, not the text's words, and why."""

    field = fields.String(required=True, validate=validate.OneOf(INFERABLE))
    reason = fields.String(required=True, validate=validate.Length(min=1))


def inferred_list():
    return fields.List(fields.Nested(InferredSchema), load_default=list, metadata={
        "description": "The parts of the record (place, date, participants, …) that the coder inferred, each with the reason."})


def participant_ids(description: str):
    return fields.List(fields.String(validate=validate.Regexp(ID_PATTERN, error=ID_RULE)), load_default=list,
                       metadata={"description": description})


class RoleAtSourceSchema(Strict):
    """The participant's office or title at the time of this source (titles change)."""

    title_en = fields.String(required=True, validate=validate.Length(min=1))
    title_ar = fields.String(load_default=None, allow_none=True)
    as_of = fields.Date(required=True, error_messages=DAY_ERRORS, metadata={"description": "The day the source describes (its publication day)."})


class ParticipantSchema(Curated):
    name_en = fields.String(required=True, validate=validate.Length(min=1))
    name_ar = fields.String(required=True, validate=validate.Length(min=1))
    aliases = fields.List(fields.String(validate=validate.Length(min=1)), load_default=list)
    search_forms = fields.List(fields.String(validate=validate.Length(min=1)), load_default=list, metadata={
        "description": "Spellings and demonyms that find the participant but are not its names (السوري, Syrian)."})
    kind = fields.String(required=True, validate=validate.OneOf(PARTICIPANT_KINDS))
    title_en = fields.String(load_default=None, allow_none=True)
    title_ar = fields.String(load_default=None, allow_none=True)
    country = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(ISO3, error="must be ISO 3166-1 alpha-3"))
    identifiers = fields.Nested(Identifiers, load_default=lambda: {"wikidata": None, "geonames": None})
    mentions = fields.List(fields.Nested(SpanSchema), required=True)
    actor_code = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(ACTOR_CODE_PATTERN, error=ACTOR_CODE_RULE), metadata={
        "description": "CAMEO actor code (country or IGO code, then role codes: SYRGOV, IRNBUS, MED); each "
                       "3-letter block is in the codebook's actor codes."})
    role_at_source = fields.Nested(RoleAtSourceSchema, load_default=None, allow_none=True)


class PlaceSchema(Curated):
    name_en = fields.String(required=True, validate=validate.Length(min=1))
    name_ar = fields.String(required=True, validate=validate.Length(min=1))
    aliases = fields.List(fields.String(validate=validate.Length(min=1)), load_default=list)
    search_forms = fields.List(fields.String(validate=validate.Length(min=1)), load_default=list, metadata={
        "description": "Spellings and demonyms that find the place but are not its names (الإيرانية, Iranian)."})
    kind = fields.String(required=True, validate=validate.OneOf(PLACE_KINDS))
    country = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(ISO3, error="must be ISO 3166-1 alpha-3"))
    lat = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-90, 90))
    lon = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-180, 180))
    identifiers = fields.Nested(Identifiers, load_default=lambda: {"wikidata": None, "geonames": None})
    mentions = fields.List(fields.Nested(SpanSchema), load_default=list)

    @validates_schema
    def both_coordinates(self, data, **kwargs):
        if (data.get("lat") is None) != (data.get("lon") is None):
            raise ValidationError("give both lat and lon, or neither", "lon")


class DateSchema(Strict):
    start = fields.Date(load_default=None, allow_none=True, error_messages=DAY_ERRORS)
    end = fields.Date(load_default=None, allow_none=True, error_messages=DAY_ERRORS)
    precision = fields.String(required=True, validate=validate.OneOf(DATE_PRECISIONS))
    expression = fields.Nested(SpanSchema, load_default=None, allow_none=True)
    resolution = fields.String(required=True, validate=validate.Length(min=1))

    @validates_schema
    def consistent(self, data, **kwargs):
        start, end, precision = data.get("start"), data.get("end"), data["precision"]
        problem = _bounds_problem(start, end, precision) or _calendar_problem(start, end, precision)
        if problem:
            raise ValidationError(*problem)


def _bounds_problem(start, end, precision: str) -> tuple[str, str] | None:
    """(message, field) when the bounds given do not fit the precision."""
    if precision == "unknown":
        return ("precision 'unknown' takes no start or end", "precision") if start or end else None
    if precision == "range":
        if not (start or end):
            return ("a range needs a start, an end, or both", "start")
    elif not (start and end):
        return (f"precision '{precision}' needs both start and end", "start")
    if start and end and end < start:
        return ("end is before start", "end")
    return None


def _calendar_problem(start, end, precision: str) -> tuple[str, str] | None:
    """(message, field) when a day, month or year precision does not cover exactly that unit."""
    if precision == "day" and start != end:
        return ("precision 'day' needs start == end", "end")
    if precision == "month" and (start.day != 1 or (end + dt.timedelta(days=1)).month == end.month
                                 or (start.year, start.month) != (end.year, end.month)):
        return ("precision 'month' needs the first and last day of one month", "end")
    if precision == "year" and (start.timetuple()[1:3] != (1, 1) or end.timetuple()[1:3] != (12, 31)
                                or start.year != end.year):
        return ("precision 'year' needs 1 January and 31 December of one year", "end")
    return None


#: the Goldstein scale's bounds (cameo_goldstein.tsv: -10 for the most conflictual, +10)
GOLDSTEIN = validate.Range(min=-10, max=10, error="must be a Goldstein score, from -10 to 10 (as in cameo_goldstein.tsv)")


def plover_type_field(**kwargs):
    return fields.String(validate=validate.OneOf(PLOVER_TYPES, error="must be a PLOVER event type: {choices}"), **kwargs)


class PloverSchema(Strict):
    type = plover_type_field(required=True)
    mode = fields.String(load_default=None, allow_none=True)


class EventParticipantSchema(Strict):
    participant = record_id()
    role = fields.String(required=True)


class QuantitySchema(Strict):
    """A number the text reports about an event (e.g. 5 agreements signed)."""

    value = fields.Float(required=True)
    unit = fields.String(required=True, validate=validate.Length(min=1))
    span = fields.Nested(SpanSchema, required=True)


class EventSchema(Curated):
    title_en = fields.String(required=True, validate=validate.Length(min=1))
    summary_en = fields.String(required=True, validate=validate.Length(min=1))
    # the curator's own Arabic beside the English (not the source's words: those are the evidence);
    # searched like the English, so an Arabic query can find the one event a shared sentence reports
    title_ar = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1), metadata={
        "description": "The title in Arabic, written by the curator (as title_en is); null where not yet written."})
    summary_ar = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1), metadata={
        "description": "The summary in Arabic, written by the curator (as summary_en is); null where not yet written."})
    cameo = fields.String(required=True, validate=validate.Regexp(CAMEO_PATTERN, error=CAMEO_RULE))
    plover = fields.Nested(PloverSchema, load_default=None, allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(EVENT_STATUSES))
    date = fields.Nested(DateSchema, required=True)
    place = fields.String(load_default=None, allow_none=True)
    participants = fields.List(fields.Nested(EventParticipantSchema), required=True, metadata={
        "description": "Who takes part, with their roles; empty where the text names no one (a passive sentence)."})
    topics = fields.List(fields.String(validate=validate.Regexp(TOPIC_PATTERN, error=TOPIC_RULE)), load_default=list)
    evidence = fields.List(fields.Nested(SpanSchema), required=True, validate=validate.Length(min=1))
    quantities = fields.List(fields.Nested(QuantitySchema), load_default=list)
    source_actors = participant_ids("Participant ids of the acting side (who did it); empty where the text names none.")
    target_actors = participant_ids("Participant ids of the side acted upon (to whom); empty where the text names none. "
                                    "Sides on an equal footing are listed on both.")
    inferred = inferred_list()


class StatementSchema(Curated):
    speaker = record_id()
    event = fields.String(load_default=None, allow_none=True)
    event_link = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(EVENT_LINKS))
    span = fields.Nested(SpanSchema, required=True)
    text_en = fields.String(required=True, validate=validate.Length(min=1))
    translation = fields.String(required=True, validate=validate.OneOf(TRANSLATIONS))
    mode = fields.String(required=True, validate=validate.OneOf(STATEMENT_MODES))
    attributed_via = fields.List(fields.String(), load_default=list)
    cameo = fields.String(required=True, validate=validate.Regexp(CAMEO_PATTERN, error=CAMEO_RULE))
    topics = fields.List(fields.String(validate=validate.Regexp(TOPIC_PATTERN, error=TOPIC_RULE)), load_default=list)
    evidence = fields.List(fields.Nested(SpanSchema), load_default=list)
    addressees = participant_ids("Participant ids the statement is addressed to or acts upon, where the text names them.")
    date = fields.Nested(DateSchema, load_default=None, allow_none=True, metadata={
        "description": "When the words were said, where the text dates them (the reporting day is the source's)."})
    inferred = inferred_list()

    @validates_schema
    def link_needs_event(self, data, **kwargs):
        if (data.get("event") is None) != (data.get("event_link") is None):
            raise ValidationError("give event and event_link together, or neither", "event_link")


class SeedMetaSchema(Strict):
    publisher = fields.String(required=True)
    publisher_ar = fields.String(load_default=None, allow_none=True)
    published_at = fields.AwareDateTime(required=True, format="iso", error_messages={
        "invalid": "'{input}' is not a date and time: write it in ISO 8601 with its UTC offset, 2017-01-18T10:05:00+03:00",
        "invalid_awareness": "has no UTC offset: add the one the publisher's clock had, 2017-01-18T10:05:00+03:00"})
    language = fields.String(required=True, validate=validate.Regexp(r"^[a-z]{2,3}$", error="must be an ISO 639 language code in lower case, such as ar"))
    title = fields.String(required=True)
    url = fields.Url(load_default=None, allow_none=True)
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$", error="must be the sha256 of the seed text: 64 lower-case hex digits (sha256sum prints it)"))


class PloverOverrideSchema(Strict):
    reference_type = fields.String(load_default=None, allow_none=True)
    reference_mode = fields.String(load_default=None, allow_none=True)
    reason = fields.String(required=True, validate=validate.Length(min=1))


class CameoEntrySchema(Strict):
    code = fields.String(required=True, validate=validate.Regexp(CAMEO_PATTERN, error=CAMEO_RULE))
    label = fields.String(required=True)
    goldstein = fields.Float(load_default=None, allow_none=True, validate=GOLDSTEIN)
    plover_type = plover_type_field(load_default=None, allow_none=True)
    plover_mode = fields.String(load_default=None, allow_none=True)
    plover_context = fields.List(fields.String(validate=validate.Length(min=1)), load_default=list, metadata={
        "description": "PLOVER contexts of the code from cameo_to_plover.tsv (its plover_context, split at ';')."})
    plover_override = fields.Nested(PloverOverrideSchema, load_default=None, allow_none=True, metadata={
        "description": "Where plover_type/plover_mode differ from the draft CAMEO→PLOVER table: what it says and why not."})


class ActorCodeSchema(Strict):
    code = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Z]{3}$", error="'{input}' is not an actor block: three capital letters, such as IRN, GOV or MED"))
    kind = fields.String(required=True, validate=validate.OneOf(ACTOR_CODE_KINDS))
    label = fields.String(required=True, validate=validate.Length(min=1))


class TopicSchema(Strict):
    id = fields.String(required=True, validate=validate.Regexp(TOPIC_PATTERN, error=TOPIC_RULE))
    label = fields.String(required=True)
    description = fields.String(required=True)


class RoleSchema(Strict):
    id = fields.String(required=True, validate=validate.Regexp(TOPIC_PATTERN, error=ROLE_RULE))
    description = fields.String(required=True)


class CodebookSchema(Strict):
    version = fields.String(required=True)
    compatible_versions = fields.List(fields.String(), load_default=list, metadata={"description": (
        "Earlier versions whose records stay valid under this one, unchanged: a version that only added "
        "entries, or changed none a record relies on. Their codes, topics and roles are still checked "
        "against this codebook, as every record's are.")})
    cameo = fields.List(fields.Nested(CameoEntrySchema), required=True)
    topics = fields.List(fields.Nested(TopicSchema), required=True)
    roles = fields.List(fields.Nested(RoleSchema), required=True)
    actors = fields.List(fields.Nested(ActorCodeSchema), load_default=list, metadata={
        "description": "Every 3-letter block of the actor codes in use: countries, IGOs and roles, with their meaning."})


RECORD_SCHEMAS = {
    "participants": ParticipantSchema(),
    "places": PlaceSchema(),
    "events": EventSchema(),
    "statements": StatementSchema(),
}

"""marshmallow schemas of the public JSON contract.

The records themselves are rendered once at load time (models/documents.py) and
served as stored; these schemas describe them in the OpenAPI document, and the
test suite checks every stored document against them.
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from models.vocabulary import (CONFIDENCE, DATE_PRECISIONS, EVENT_STATUSES, PARTICIPANT_KINDS, PLACE_KINDS,
                               PLOVER_TYPES, STATEMENT_MODES, TRANSLATIONS)


class Base(Schema):
    class Meta:
        ordered = True


def nullable_str(description: str = ""):
    return fields.String(allow_none=True, metadata={"description": description} if description else {})


def one_of(values, description: str = "", **kwargs):
    """A string of a closed vocabulary: its values are the OpenAPI document's ``enum`` (the
    validator is never run on an answer; it documents what the answers hold)."""
    metadata = {"description": description} if description else {}
    return fields.String(validate=validate.OneOf(values), metadata=metadata, **kwargs)


class SpanSchema(Base):
    source = fields.String(required=True, metadata={"description": "Source id."})
    start = fields.Integer(required=True, metadata={"description": "Start offset (Python str index, inclusive)."})
    end = fields.Integer(required=True, metadata={"description": "End offset (exclusive)."})
    text = fields.String(required=True, metadata={"description": "Exactly source.text[start:end]."})


class CameoSchema(Base):
    code = fields.String(required=True)
    label = fields.String(required=True)
    root = fields.String(required=True)
    root_label = fields.String(required=True)
    goldstein = fields.Float(allow_none=True, metadata={"description": "Goldstein conflict-cooperation score (-10..10)."})
    quad_class = fields.Integer(metadata={"description": "GDELT QuadClass by the CAMEO root: 1 verbal cooperation (01–05), "
                                                         "2 material cooperation (06–09), 3 verbal conflict (10–14), "
                                                         "4 material conflict (15–20)."})


class PloverSchema(Base):
    type = one_of(PLOVER_TYPES, "The PLOVER event type.", required=True)
    mode = nullable_str()
    context = fields.List(fields.String(), metadata={
        "description": "PLOVER contexts of the CAMEO code where the reference gives them (diplomatic, economic, military, …)."})


class DateSchema(Base):
    start = nullable_str("First day (ISO date, inclusive) or null.")
    end = nullable_str("Last day (ISO date, inclusive) or null.")
    precision = one_of(DATE_PRECISIONS, "How precisely the text dates it.", required=True)
    expression = fields.Nested(SpanSchema, allow_none=True, metadata={"description": "The words of the source that give the date."})
    resolution = fields.String(required=True, metadata={"description": "How the date was read from the text."})


class ParticipantSummarySchema(Base):
    id = fields.String(required=True)
    name_en = fields.String(required=True)
    name_ar = fields.String(required=True)
    kind = one_of(PARTICIPANT_KINDS, required=True)
    country = nullable_str("ISO 3166-1 alpha-3.")
    actor_code = nullable_str("CAMEO actor code (e.g. SYRGOV, IRNBUS); its blocks are listed in the README's codebook tables.")


class InferredSchema(Base):
    field = fields.String(required=True, metadata={"description": "place, date, participants, source_actors, target_actors, "
                                                                  "speaker, addressees or event."})
    reason = fields.String(required=True)


class RoleAtSourceSchema(Base):
    source = fields.String(required=True)
    title_en = fields.String(required=True)
    title_ar = nullable_str()
    as_of = fields.String(required=True, metadata={"description": "ISO day the title holds for (the source's date)."})


class PlaceSummarySchema(Base):
    id = fields.String(required=True)
    name_en = fields.String(required=True)
    name_ar = fields.String(required=True)
    country = nullable_str()
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)


class RoleSchema(Base):
    participant = fields.Raw(required=True, metadata={"description": "Participant summary (with include=participants: the full record without its mentions, which are at /v1/participants/{id})."})
    role = fields.String(required=True)


class Curated(Base):
    confidence = one_of(CONFIDENCE, "The curator's confidence in the coding.", required=True)
    codebook_version = fields.String(required=True)
    notes = nullable_str("Curation choices where the text is ambiguous.")


class IdentifiersSchema(Base):
    wikidata = nullable_str()
    geonames = nullable_str()


def _first_release():
    """The release fields every record served carries, last (models/changes.py splices them in)."""
    return fields.Integer(allow_none=True, metadata={
        "description": "The release in which this record first appeared (since its last removal); see /v1/releases."})


def _last_release():
    return fields.Integer(allow_none=True, metadata={
        "description": "The release in which this record last changed; see /v1/changes."})


class QuantitySchema(Base):
    value = fields.Float(required=True)
    unit = fields.String(required=True)
    span = fields.Nested(SpanSchema, required=True)


class EventSchema(Curated):
    id = fields.String(required=True)
    title_en = fields.String()
    summary_en = fields.String()
    title_ar = nullable_str("The title in Arabic, the curator's (the source's own words are the evidence); null where not written.")
    summary_ar = nullable_str("The summary in Arabic, the curator's; null where not written.")
    cameo = fields.Nested(CameoSchema)
    plover = fields.Nested(PloverSchema, allow_none=True)
    status = one_of(EVENT_STATUSES, "Whether the text reports it as done, planned, ongoing or as background.")
    date = fields.Nested(DateSchema)
    place = fields.Raw(allow_none=True, metadata={"description": "Place summary or null (with include=place: the full record without its mentions)."})
    participants = fields.List(fields.Nested(RoleSchema))
    source_actors = fields.List(fields.Nested(ParticipantSummarySchema), metadata={
        "description": "The acting side (who did it); empty where the text names none."})
    target_actors = fields.List(fields.Nested(ParticipantSummarySchema), metadata={
        "description": "The side acted upon; sides on an equal footing are on both lists (one dyad each way)."})
    inferred = fields.List(fields.Nested(InferredSchema), metadata={"description": "What the coder inferred, and why."})
    topics = fields.List(fields.String())
    evidence = fields.List(fields.Nested(SpanSchema))
    quantities = fields.List(fields.Nested(QuantitySchema), metadata={"description": "Numbers the text reports (e.g. 5 agreements)."})
    statements = fields.List(fields.Raw(), metadata={"description": "Statement ids (full records with include=statements)."})
    source = fields.String()
    first_release = _first_release()
    last_release = _last_release()


class StatementSchema(Curated):
    id = fields.String(required=True)
    speaker = fields.Raw(metadata={"description": "Participant summary (with include=speaker: the full record without its mentions)."})
    event = fields.Raw(allow_none=True, metadata={"description": "Event id or null (the full record with include=event)."})
    event_link = nullable_str("explicit or inferred.")
    text_ar = fields.String(metadata={"description": "The verbatim Arabic words."})
    text_en = fields.String(metadata={"description": "English translation."})
    translation = one_of(TRANSLATIONS, "Who translated text_en.")
    mode = one_of(STATEMENT_MODES, "Quoted words (direct) or a reported clause (reported).")
    attributed_via = fields.List(fields.Nested(ParticipantSummarySchema))
    addressees = fields.List(fields.Nested(ParticipantSummarySchema), metadata={
        "description": "Whom the statement addresses or acts upon (its targets; the speaker is its source)."})
    topics = fields.List(fields.String())
    cameo = fields.Nested(CameoSchema)
    plover = fields.Nested(PloverSchema, allow_none=True)
    span = fields.Nested(SpanSchema)
    evidence = fields.List(fields.Nested(SpanSchema))
    reported_on = fields.String(metadata={"description": "Publication day of the source that reports it."})
    date = fields.Nested(DateSchema, allow_none=True, metadata={"description": "When the words were said, where the text dates them; else null."})
    inferred = fields.List(fields.Nested(InferredSchema))
    source = fields.String()
    first_release = _first_release()
    last_release = _last_release()


class ParticipantSchema(ParticipantSummarySchema, Curated):
    aliases = fields.List(fields.String())
    search_forms = fields.List(fields.String(), metadata={
        "description": "Spellings and demonyms that find it in search but are not its names (not mentions)."})
    title_en = nullable_str()
    title_ar = nullable_str()
    roles_at_sources = fields.List(fields.Nested(RoleAtSourceSchema), metadata={
        "description": "The title the participant held in each source, as of that source's day."})
    identifiers = fields.Nested(IdentifiersSchema)
    mentions = fields.List(fields.Nested(SpanSchema), metadata={"description": "Mentions in the sources (the first 200)."})
    mention_count = fields.Integer()
    event_count = fields.Integer()
    statement_count = fields.Integer()
    first_release = _first_release()
    last_release = _last_release()


class PlaceSchema(PlaceSummarySchema, Curated):
    aliases = fields.List(fields.String())
    search_forms = fields.List(fields.String(), metadata={
        "description": "Spellings and demonyms that find it in search but are not its names (not mentions)."})
    kind = one_of(PLACE_KINDS)
    identifiers = fields.Nested(IdentifiersSchema)
    mentions = fields.List(fields.Nested(SpanSchema))
    mention_count = fields.Integer()
    event_count = fields.Integer()
    first_release = _first_release()
    last_release = _last_release()


class SourceSchema(Base):
    id = fields.String(required=True)
    publisher = fields.String()
    publisher_ar = nullable_str()
    title = fields.String()
    published_at = fields.String(metadata={"description": "ISO 8601 with UTC offset."})
    language = fields.String()
    url = nullable_str()
    sha256 = fields.String()
    event_count = fields.Integer()
    statement_count = fields.Integer()
    first_release = _first_release()
    last_release = _last_release()


class HighlightSchema(Base):
    start = fields.Integer()
    end = fields.Integer()
    text = fields.String()
    role = fields.String()


class SourceTextSchema(SourceSchema):
    text = fields.String(metadata={"description": "The full source text, verbatim."})
    highlight = fields.Raw(allow_none=True, metadata={"description": "With ?highlight: {kind, id}."})
    highlights = fields.List(fields.Nested(HighlightSchema), metadata={"description": "With ?highlight: the record's spans in this source."})
    text_marked = nullable_str("With ?highlight: the text with <mark>…</mark> around the spans.")


class EventTypeSchema(CameoSchema):
    plover = fields.Nested(PloverSchema, allow_none=True)
    event_count = fields.Integer()
    statement_count = fields.Integer()


class MetaSchema(Base):
    dataset_version = fields.String(required=True, metadata={"description": "Changes whenever the loaded seeds or fixtures change."})
    release = fields.Integer(required=True, metadata={"description": "The newest release (see /v1/releases); 0 before the first."})


def ignored_words(**kwargs) -> fields.List:
    """``meta.ignored_words`` of an answer to ``q`` (api/envelope.py: meta)."""
    return fields.List(fields.String(), metadata={"description": (
        "With `q`: its plain words left out of the search as function words (of, the, في, مع …), as "
        "normalised; [] when none was. Quote a phrase to keep them in it.")}, **kwargs)


class QueriedMetaSchema(MetaSchema):
    """The meta of an endpoint that takes ``q``."""

    ignored_words = ignored_words()


class ListMetaSchema(MetaSchema):
    limit = fields.Integer()
    total = fields.Integer()
    next_cursor = nullable_str()


class SearchedListMetaSchema(QueriedMetaSchema, ListMetaSchema):
    """The meta of a collection that takes ``q``."""


class LinksSchema(Base):
    self = fields.String(required=True)
    next = nullable_str()


_envelopes: dict[str, type] = {}


def envelope(name: str, record_schema, many: bool, searched: bool = False):
    """The answer schema around a record schema (one class per name: the OpenAPI component);
    ``searched``: a collection that takes ``q``."""
    if name in _envelopes:
        return _envelopes[name]
    meta = (SearchedListMetaSchema if searched else ListMetaSchema) if many else MetaSchema
    attrs = {
        "data": fields.List(fields.Nested(record_schema), required=True) if many else fields.Nested(record_schema, required=True),
        "meta": fields.Nested(meta, required=True),
    }
    if many:
        attrs["links"] = fields.Nested(LinksSchema, required=True)
    _envelopes[name] = Base.from_dict(attrs, name=name)
    return _envelopes[name]


class ProblemSchema(Base):
    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    instance = fields.String(allow_none=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         metadata={"description": "Each bad parameter and what is wrong with it."})


SourceOne = envelope("SourceOne", SourceTextSchema, False)
EventTypePage = envelope("EventTypePage", EventTypeSchema, True)

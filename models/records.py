"""Peewee models: the tables the loader writes and the API reads.

Each served record keeps its public JSON representation in ``doc``, rendered once
at load time (see :mod:`models.documents`), so a request only selects and joins
strings. The other columns exist to filter, sort and count.
"""
from __future__ import annotations

from peewee import (
    BigIntegerField,
    CharField,
    DatabaseProxy,
    CompositeKey,
    FieldAlias,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)
from playhouse.shortcuts import ThreadSafeDatabaseMetadata

_alias_classes: dict[tuple[type, type], type] = {}


def _field_alias(cls, source, field):
    """peewee's FieldAlias.create, with its class made once per field type: peewee defines a new
    class on every attribute read of a model alias (``doc.sort_date``), and the search and count
    queries read dozens, which cost more than running them (issue 20)."""
    key = (cls, type(field))
    alias_class = _alias_classes.get(key)
    if alias_class is None:
        alias_class = _alias_classes.setdefault(key, type("_FieldAlias", key, {}))
    return alias_class(source, field)


FieldAlias.create = classmethod(_field_alias)

#: what every model is bound to; a request or a load binds it, per thread, to a real database
database = DatabaseProxy()

#: every foreign key is checked at commit: the loader writes a row once, when its document is
#: final, whatever order that puts it in (participants after the events that name them)
DEFERRED = "INITIALLY DEFERRED"


class BaseModel(Model):
    # ``Meta.clustered = True``: a table of small rows read by ranges of its composite primary key,
    # which an engine that can stores in key order (SQLite: WITHOUT ROWID), so that the key index is
    # the table: one B-tree instead of a table and its key's index (models/backends/sqlite.py)
    class Meta:
        database = database
        model_metadata_class = ThreadSafeDatabaseMetadata
        legacy_table_names = False
        clustered = False
        # ``Meta.day_ordered = True``: a table listed by (sort_date, id) whose rows an engine that
        # lets the loader choose their place stores newest day first, so that a page's rows are
        # neighbours (SQLite: models/backends/day_order.py)
        day_ordered = False


class DatasetMeta(BaseModel):
    """Key/value facts about the loaded dataset (version, load time, totals)."""

    key = CharField(primary_key=True)
    value = TextField()


class Source(BaseModel):
    id = CharField(primary_key=True)
    publisher = TextField()
    publisher_ar = TextField(null=True)
    title = TextField()
    published_at = CharField()
    language = CharField()
    sha256 = CharField()
    url = TextField(null=True)
    # hash of the seed and its fixture files: what an incremental load compares (models/load/plan.py)
    fingerprint = CharField()
    # a column is read by walking past the ones before it (overflow pages included): the
    # documents come before the source text, which can be long
    doc = TextField()
    text = TextField()


class CameoCode(BaseModel):
    code = CharField(primary_key=True)
    label = TextField()
    root = CharField()
    goldstein = FloatField(null=True)
    plover_type = CharField(null=True)
    plover_mode = CharField(null=True)
    doc = TextField()


class Topic(BaseModel):
    id = CharField(primary_key=True)
    label = TextField()
    description = TextField()


class Place(BaseModel):
    id = CharField(primary_key=True)
    name_en = TextField()
    name_ar = TextField()
    kind = CharField()
    country = CharField(null=True)
    lat = FloatField(null=True)
    lon = FloatField(null=True)
    embedded = TextField()  # doc without its mentions: what include=place embeds (before doc: see Source)
    doc = TextField()


class Participant(BaseModel):
    id = CharField(primary_key=True)
    name_en = TextField()
    name_ar = TextField()
    kind = CharField()
    country = CharField(null=True)
    summary = TextField()  # the short form inside every event and statement document
    # doc without its mentions: what include=participants / speaker embeds. Before doc, which
    # holds up to 200 mention spans: reading a column walks past the ones before it.
    embedded = TextField()
    doc = TextField()


class Event(BaseModel):
    id = CharField(primary_key=True)
    # no single-column index on a foreign key that leads a composite one (INDEXES, a primary key):
    # the composite serves the same lookups, and each extra index is written on every insert
    source = ForeignKeyField(Source, deferrable=DEFERRED, backref="events", index=False)
    title_en = TextField()
    cameo_code = CharField()
    cameo_root = CharField()
    plover_type = CharField(null=True)
    status = CharField()
    date_start = CharField(null=True)
    date_end = CharField(null=True)
    date_precision = CharField()
    # date_start, else date_end, else '' : a total order for keyset pagination
    sort_date = CharField()
    place = ForeignKeyField(Place, deferrable=DEFERRED, null=True, backref="events", index=False)
    goldstein = FloatField(null=True)  # the CAMEO code's, for dyad sums
    quad_class = IntegerField(null=True)  # 1-4 by the CAMEO root (models.vocabulary.quad_class)
    doc = TextField()
    # participants and places named in the evidence besides the event's own ("participant:id", …; JSON,
    # NULL when none): what the event's search row holds, so that it can be written again without
    # its source's files (models/load/incremental.py)
    also_named = TextField(null=True)

    class Meta:
        day_ordered = True


class EventParticipant(BaseModel):
    event = ForeignKeyField(Event, deferrable=DEFERRED, backref="participant_links", index=False)
    participant = ForeignKeyField(Participant, deferrable=DEFERRED, backref="event_links", index=False)
    role = CharField()
    position = IntegerField()

    class Meta:
        primary_key = CompositeKey("event", "participant", "role")
        clustered = True


class EventCountry(BaseModel):
    """Countries of an event's participants and place, precomputed for the country filter."""

    event = ForeignKeyField(Event, deferrable=DEFERRED, index=False)
    country = CharField()

    class Meta:
        primary_key = CompositeKey("country", "event")
        clustered = True


class EventTopic(BaseModel):
    event = ForeignKeyField(Event, deferrable=DEFERRED, index=False)
    topic = CharField()

    class Meta:
        primary_key = CompositeKey("topic", "event")
        clustered = True


class Statement(BaseModel):
    id = CharField(primary_key=True)
    source = ForeignKeyField(Source, deferrable=DEFERRED, backref="statements")
    speaker = ForeignKeyField(Participant, deferrable=DEFERRED, backref="statements", index=False)
    event = ForeignKeyField(Event, deferrable=DEFERRED, null=True, backref="statements", index=False)
    mode = CharField()
    cameo_code = CharField()
    cameo_root = CharField()
    # the reporting date (the source's publication day): statements sort by it
    sort_date = CharField()
    goldstein = FloatField(null=True)
    quad_class = IntegerField(null=True)
    doc = TextField()

    class Meta:
        day_ordered = True


class StatementTopic(BaseModel):
    statement = ForeignKeyField(Statement, deferrable=DEFERRED, index=False)
    topic = CharField()

    class Meta:
        primary_key = CompositeKey("topic", "statement")
        clustered = True


class EventDyad(BaseModel):
    """One directed (source actor, target actor) pair of an event; a side the text does not
    name is NULL (models/load/directed.py: dyads)."""

    event = ForeignKeyField(Event, deferrable=DEFERRED, backref="dyads", index=False)
    source_actor = ForeignKeyField(Participant, deferrable=DEFERRED, null=True, column_name="source_actor", index=False)
    target_actor = ForeignKeyField(Participant, deferrable=DEFERRED, null=True, column_name="target_actor", index=False)
    # the event's, copied: dyad counts under dates, sides and quad_class read this table alone
    date_start = CharField(null=True)
    date_end = CharField(null=True)
    sort_date = CharField()
    goldstein = FloatField(null=True)
    quad_class = IntegerField(null=True)


class StatementDyad(BaseModel):
    """One directed (speaker, addressee) pair of a statement; NULL addressee when it has none."""

    statement = ForeignKeyField(Statement, deferrable=DEFERRED, backref="dyads", index=False)
    source_actor = ForeignKeyField(Participant, deferrable=DEFERRED, null=True, column_name="source_actor", index=False)
    target_actor = ForeignKeyField(Participant, deferrable=DEFERRED, null=True, column_name="target_actor", index=False)


class EventDayCount(BaseModel):
    """Events per day and value of a dimension, with running totals (see models/daycounts.py)."""

    dimension = CharField()  # '' (all events), cameo_root, status, plover, precision, country
    edge = CharField()  # lo / hi / anchor / undated
    value = CharField()  # '' : none
    day = CharField()
    n = IntegerField()
    ranged = IntegerField()  # anchor rows: of the n events, those not dated to the day
    cum = IntegerField()  # n summed over this (dimension, edge, value) up to this day

    class Meta:
        primary_key = CompositeKey("dimension", "edge", "value", "day")
        clustered = True


class DyadCount(BaseModel):
    """Complete event dyads (both sides named) summed per date interval, pair and QuadClass, for
    /v1/stats/dyads (models/dyadcounts.py). ``''`` stands for an open or unknown date."""

    date_start = CharField()
    date_end = CharField()
    source_actor = CharField()
    target_actor = CharField()
    quad_class = IntegerField()  # 0: none
    # with both dates, the bit length of the interval's length in days (0: one day; c: at most
    # 2**c - 1 days), else NULL: how far before ``from`` an event of the class can start and reach it
    span_class = IntegerField(null=True)
    n = IntegerField()  # events
    # their Goldstein scores summed, in ten-thousandths (the precision the API shows; a missing score
    # counts 0): an integer, so that an incremental load's additions and removals stay exact
    goldstein_e4 = BigIntegerField()

    class Meta:
        primary_key = CompositeKey("date_start", "date_end", "source_actor", "target_actor", "quad_class")
        clustered = True


class SourceEntity(BaseModel):
    """One source's entry for a participant or place, as its fixture file gives it.

    The served participant merges the entries of every source that lists it; an
    incremental load re-merges from these rows (sources it does not re-read) and the
    files (sources it does), so the merge never needs the unchanged sources' files.
    ``mentions`` holds the first ``documents.MENTIONS_INLINE`` spans (what a merged
    document can show), ``mention_count`` all of them.
    """

    source = CharField()
    kind = CharField()  # participants / places
    entity = CharField()
    record = TextField()  # the validated entry without its mentions (JSON)
    #: a digest of ``record``: most sources give a participant the same entry, and an incremental
    #: load merges each text once, counting the other sources' mentions from the index alone
    record_digest = CharField()
    mentions = TextField()  # [[start, end, text], …] (JSON)
    mention_count = IntegerField()

    class Meta:
        primary_key = CompositeKey("source", "kind", "entity")


#: Bump when a table, the shape of a stored document (documents are rendered at load), where a
#: load puts the rows (Meta.day_ordered) or the terms the search index holds (models/text.py,
#: models/stemming.py: queries are made of the same terms) change: the next load rebuilds
#: everything, and a PostgreSQL reload re-creates the tables instead of emptying them. (16: rows
#: by day; 17: على, ؤ and ئ as ء, ی and ک, a conjunction and a preposition before three letters,
#: breaks between the texts of a phrase's body; 18: لل-words also as ال-words, the س of a nisba word
#: kept by the stemmer)
SCHEMA_VERSION = "18"

TABLES = [
    DatasetMeta,
    Source,
    CameoCode,
    Topic,
    Place,
    Participant,
    Event,
    EventParticipant,
    EventCountry,
    EventTopic,
    Statement,
    StatementTopic,
    EventDayCount,
    DyadCount,
    SourceEntity,
    EventDyad,
    StatementDyad,
]

#: the dyad counts in pair order, covering what a date range and the sides ask of them
DYAD_PAIR_ORDER = ("source_actor", "target_actor", "date_start", "date_end", "quad_class", "n", "goldstein_e4")

# Secondary indexes are built after the bulk insert (cheaper than maintaining them row by row), but
# for those that lead with a foreign key, which the engine needs while loading (models/load:
# create_indexes). A foreign key has no index of its own (``index=False``) where one of these leads
# with it.
INDEXES = [
    # the listing's order, and the dates a ``from``/``to`` page filters by read from the index too
    # (a page with ``to=`` looked each candidate's date_start up in the table: 0.11 of 0.14 ms of its keys)
    (Event, ("sort_date", "id", "date_start", "date_end"), False),
    (Event, ("cameo_code", "sort_date", "id"), False),
    (Event, ("status", "sort_date", "id"), False),
    (Event, ("plover_type", "sort_date", "id"), False),
    (Event, ("place", "sort_date", "id"), False),
    (Event, ("source", "sort_date", "id"), False),
    # events known only by their end, newest first (date_start IS NULL is one range of it), and
    # date-filtered counts the day counts cannot answer, index-only
    (Event, ("date_start", "sort_date", "id", "date_end"), False),
    (Event, ("sort_date", "date_precision"), False),  # timelines bucket by date and flag ranges
    (EventParticipant, ("participant", "event"), False),
    (EventCountry, ("event",), False),
    (EventTopic, ("event",), False),
    (Statement, ("sort_date", "id"), False),
    (Statement, ("speaker", "sort_date", "id"), False),
    (Statement, ("event",), False),
    (StatementTopic, ("statement",), False),
    (Participant, ("country",), False),
    # an entity's entries in source order, with what an incremental load merges, index-only
    (SourceEntity, ("kind", "entity", "source", "mention_count", "record_digest"), False),
    (EventDyad, ("source_actor", "target_actor", "event"), False),
    (EventDyad, ("target_actor", "event"), False),
    (EventDyad, ("event",), False),
    (EventDyad, ("sort_date", "source_actor", "target_actor"), False),
    # dyad counts read index-only: by start (and end-only rows, start ''), by end for open ends, by
    # length and start for the intervals that began before ``from`` (models/dyadcounts.py)
    (DyadCount, ("date_start", "date_end", "source_actor", "target_actor", "quad_class", "n", "goldstein_e4"), False),
    (DyadCount, ("date_end", "date_start", "source_actor", "target_actor", "quad_class", "n", "goldstein_e4"), False),
    (DyadCount, ("span_class", "date_start", "date_end", "source_actor", "target_actor", "quad_class", "n",
                 "goldstein_e4"), False),
    # a long range read whole in pair order: the pairs summed as they come, without a sort
    (DyadCount, DYAD_PAIR_ORDER, False),
    (StatementDyad, ("source_actor", "target_actor", "statement"), False),
    (StatementDyad, ("target_actor", "statement"), False),
    (StatementDyad, ("statement",), False),
]


def index_name(model, columns: tuple[str, ...]) -> str:
    """The name of the secondary index of ``model`` on ``columns`` (an INDEXES entry)."""
    return "_".join([model._meta.table_name, *columns])[:60] + "_idx"

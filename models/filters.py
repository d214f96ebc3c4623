"""The filters of each collection, one table per resource: name → condition.

A filter is one :class:`Filter`: its query-parameter name, the grammar of its
value (api/params.py turns it into a parameter with its validation and its
OpenAPI description), and the condition it adds to the listing's WHERE. Adding a
filter to a collection is one entry here (and its test); dates and search are
entries too, though a listing may read them a cheaper way (models/queries.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from peewee import SQL, fn

from . import search
from .records import Event, EventCountry, EventParticipant, EventTopic, Participant, Place, Statement, StatementTopic
from .vocabulary import EVENT_STATUSES, PARTICIPANT_KINDS, PLACE_KINDS, PLOVER_TYPES, STATEMENT_MODES

#: value grammars (api/params.py maps each to a validated parameter); a tuple is a set of choices
ID, IDS, ISO3, CAMEO, TOPIC, TEXT, SEARCH, DATE, FLAG = (
    "id", "ids", "iso3", "cameo", "topic", "text", "search", "date", "flag")


@dataclass(frozen=True)
class Filter:
    name: str
    value: str | tuple[str, ...]
    where: Callable[[Any], Any] | None  # value -> condition; None: the listing reads it (dates)
    description: str = ""


def _cameo_prefix(column, prefix: str):
    return (column == prefix) | column.startswith(prefix) if len(prefix) < 4 else column == prefix


def _all_participants(ids: list[str]):
    # IN over the (participant, event) index: SQLite plans it far better than a correlated EXISTS
    terms = [Event.id.in_(EventParticipant.select(EventParticipant.event).where(EventParticipant.participant == pid))
             for pid in ids]
    condition = terms[0]
    for term in terms[1:]:
        condition &= term
    return condition


def _event_country(code: str):
    # a probe of the (country, event) key per event read: a page newest first stops after a
    # few rows, where IN would first collect every event of the country
    return fn.EXISTS(EventCountry.select(SQL("1")).where((EventCountry.country == code) & (EventCountry.event == Event.id)))


def _matching(model, kind: str):
    return lambda query: model.id.in_(search.matching_ids(query, kind))


EVENT_FILTERS = (
    Filter("participant", IDS, _all_participants, "Participant id; repeat for events with all of them."),
    Filter("country", ISO3, _event_country, "ISO 3166-1 alpha-3 of a participant or of the place."),
    Filter("place", ID, lambda v: Event.place == v, "Place id."),
    Filter("type", CAMEO, lambda v: _cameo_prefix(Event.cameo_code, v),
           "CAMEO code or prefix: 04 matches 040–046 and their sub-codes."),
    Filter("plover", PLOVER_TYPES, lambda v: Event.plover_type == v, "PLOVER event type."),
    Filter("status", EVENT_STATUSES, lambda v: Event.status == v),
    Filter("topic", TOPIC, lambda v: Event.id.in_(EventTopic.select(EventTopic.event).where(EventTopic.topic == v))),
    Filter("source", TEXT, lambda v: Event.source == v, "Source id."),
    Filter("q", SEARCH, _matching(Event, "event"),
           'Search: words (all must match), "a phrase", -excluded. Arabic spelling variants are unified.'),
    Filter("from", DATE, None, "Earliest date (ISO, inclusive). Records whose date interval overlaps [from, to] match."),
    Filter("to", DATE, None, "Latest date (ISO, inclusive)."),
    Filter("include_undated", FLAG, None, "With from/to: also return records of unknown date."),
)

STATEMENT_FILTERS = (
    Filter("speaker", ID, lambda v: Statement.speaker == v, "Participant id of the speaker."),
    Filter("participant", IDS, lambda ids: Statement.speaker.in_(ids),
           "Participant id (speaker); repeatable: statements by any of them."),
    Filter("event", ID, lambda v: Statement.event == v, "Event id."),
    Filter("mode", STATEMENT_MODES, lambda v: Statement.mode == v),
    Filter("type", CAMEO, lambda v: _cameo_prefix(Statement.cameo_code, v), "CAMEO code or prefix."),
    Filter("topic", TOPIC, lambda v: Statement.id.in_(
        StatementTopic.select(StatementTopic.statement).where(StatementTopic.topic == v))),
    Filter("source", TEXT, lambda v: Statement.source == v, "Source id."),
    Filter("q", SEARCH, _matching(Statement, "statement"), "Search (see /v1/search)."),
    Filter("from", DATE, lambda v: Statement.sort_date >= v, "Earliest reporting day (ISO, inclusive)."),
    Filter("to", DATE, lambda v: Statement.sort_date <= v, "Latest reporting day (ISO, inclusive)."),
    Filter("include_undated", FLAG, None, "Accepted for symmetry with /v1/events; every statement has a reporting day."),
)

PARTICIPANT_FILTERS = (
    Filter("kind", PARTICIPANT_KINDS, lambda v: Participant.kind == v),
    Filter("country", ISO3, lambda v: Participant.country == v, "ISO 3166-1 alpha-3."),
    Filter("q", SEARCH, _matching(Participant, "participant"), "Search names and aliases in any spelling."),
)

PLACE_FILTERS = (
    Filter("kind", PLACE_KINDS, lambda v: Place.kind == v),
    Filter("country", ISO3, lambda v: Place.country == v, "ISO 3166-1 alpha-3."),
    Filter("q", SEARCH, _matching(Place, "place"), "Search names and aliases in any spelling."),
)


def conditions(table: tuple[Filter, ...], values: dict) -> list:
    """The WHERE terms of ``values`` (parsed filter values by name) under ``table``."""
    return [entry.where(values[entry.name]) for entry in table if entry.where is not None and entry.name in values]

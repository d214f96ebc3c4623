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

from . import changes, search
from .records import (Event, EventCountry, EventDyad, EventParticipant, EventTopic, Participant, Place, Source, Statement,
                      StatementDyad, StatementTopic)
from .vocabulary import EVENT_STATUSES, PARTICIPANT_KINDS, PLACE_KINDS, PLOVER_TYPES, QUAD_CLASSES, STATEMENT_MODES

#: value grammars (api/params.py maps each to a validated parameter); a tuple is a set of choices
ID, SOURCE, ISO3, CAMEO, TOPIC, SEARCH, DATE, FLAG, RELEASE = (
    "id", "source", "iso3", "cameo", "topic", "search", "date", "flag", "release")
#: how the values of a repeatable filter combine (repeated, or comma-separated in one parameter)
ANY, ALL = "any", "all"
#: the most values one repeatable filter takes (more is a 400: a request's cost is bounded up front)
MAX_VALUES = 20


@dataclass(frozen=True)
class Filter:
    name: str
    value: str | tuple[str, ...]
    where: Callable[[Any], Any] | None  # value (a list when ``many``) -> condition; None: the listing reads it
    description: str = ""
    many: str | None = None  # ANY (OR within the filter) or ALL; None: one value
    #: a filter that, given together with ``partner``, makes one condition with it: (partner name,
    #: (own values, partner values) -> condition); the partner's own condition is then not added
    joint: tuple[str, Callable[[Any, Any], Any]] | None = None


def _in(column, values: list):
    return column == values[0] if len(values) == 1 else column.in_(values)


def _cameo_prefixes(column, prefixes: list[str]):
    condition = None
    for prefix in prefixes:
        term = (column == prefix) | column.startswith(prefix) if len(prefix) < 4 else column == prefix
        condition = term if condition is None else condition | term
    return condition


def _all_participants(ids: list[str]):
    """Events with every one of ``ids``: one set condition whatever their number."""
    ids = list(dict.fromkeys(ids))
    links = EventParticipant.select(EventParticipant.event)
    if len(ids) == 1:  # IN over the (participant, event) index: SQLite plans it far better than EXISTS
        return Event.id.in_(links.where(EventParticipant.participant == ids[0]))
    return Event.id.in_(links.where(EventParticipant.participant.in_(ids)).group_by(EventParticipant.event)
                        .having(fn.COUNT(fn.DISTINCT(EventParticipant.participant)) == len(ids)))


def _event_countries(codes: list[str]):
    # a probe of the (country, event) key per event read: a page newest first stops after a
    # few rows, where IN would first collect every event of the country
    return fn.EXISTS(EventCountry.select(SQL("1")).where(_in(EventCountry.country, codes)
                                                        & (EventCountry.event == Event.id)))


def _topics(link, owner, column):
    return lambda topics: column.in_(link.select(owner).where(_in(link.topic, topics)))


#: quad_class values as the parameter takes them
QUAD_CLASS_VALUES = tuple(str(number) for number, *_ in QUAD_CLASSES)


def _quad_classes(column):
    return lambda values: _in(column, [int(v) for v in values])


def _dyads(owner, link, record_column):
    """Conditions on a record's directed pairs: its source actors, its target actors, or (both
    given) one directed dyad: a pair (source, target) of the record, not two separate sides."""
    def records(condition):
        return owner.id.in_(link.select(record_column).where(condition))

    def sources(ids):
        return records(_in(link.source_actor, ids))

    def targets(ids):
        return records(_in(link.target_actor, ids))

    def pair(source_ids, target_ids):
        return records(_in(link.source_actor, source_ids) & _in(link.target_actor, target_ids))

    return sources, targets, pair


_event_sources, _event_targets, _event_pair = _dyads(Event, EventDyad, EventDyad.event)
_statement_sources, _statement_targets, _statement_pair = _dyads(Statement, StatementDyad, StatementDyad.statement)
_DYAD_HELP = ("Participant id of the {side} side; repeatable (any of them). With {other}: one directed dyad "
              "(records with a pair source → target), not two separate sides.")


def _matching(model, kind: str):
    return lambda query: model.id.in_(search.matching_ids(query, kind))


def _updated_since(model, kind: str) -> Filter:
    return Filter("updated_since", RELEASE, lambda release: changes.updated_since(model, kind, release),
                  "Only records added or changed after this release (see /v1/releases; removals are in /v1/changes).")


EVENT_FILTERS = (
    Filter("participant", ID, _all_participants, "Participant id; repeat (or separate with commas) for events "
           "with all of them.", ALL),
    Filter("country", ISO3, _event_countries, "ISO 3166-1 alpha-3 of a participant or of the place.", ANY),
    Filter("place", ID, lambda v: _in(Event.place, v), "Place id.", ANY),
    Filter("type", CAMEO, lambda v: _cameo_prefixes(Event.cameo_code, v),
           "CAMEO code or prefix: 04 matches 040–046 and their sub-codes.", ANY),
    Filter("plover", PLOVER_TYPES, lambda v: _in(Event.plover_type, v), "PLOVER event type.", ANY),
    Filter("status", EVENT_STATUSES, lambda v: _in(Event.status, v), "Event status.", ANY),
    Filter("topic", TOPIC, _topics(EventTopic, EventTopic.event, Event.id), "Topic id.", ANY),
    Filter("source", SOURCE, lambda v: _in(Event.source, v), "Source id.", ANY),
    Filter("source_actor", ID, _event_sources, _DYAD_HELP.format(side="acting (source)", other="target_actor"), ANY,
           joint=("target_actor", _event_pair)),
    Filter("target_actor", ID, _event_targets, _DYAD_HELP.format(side="acted-upon (target)", other="source_actor"), ANY),
    Filter("quad_class", QUAD_CLASS_VALUES, _quad_classes(Event.quad_class),
           "QuadClass: 1 verbal cooperation, 2 material cooperation, 3 verbal conflict, 4 material conflict.", ANY),
    Filter("q", SEARCH, _matching(Event, "event"),
           'Search: words (all must match), "a phrase", -excluded. Arabic spelling variants are unified.'),
    Filter("from", DATE, None, "Earliest date (ISO, inclusive). Records whose date interval overlaps [from, to] match."),
    Filter("to", DATE, None, "Latest date (ISO, inclusive)."),
    Filter("include_undated", FLAG, None, "With from/to: also return records of unknown date."),
    _updated_since(Event, "event"),
)

STATEMENT_FILTERS = (
    Filter("speaker", ID, lambda v: Statement.speaker == v, "Participant id of the speaker."),
    Filter("participant", ID, lambda ids: _in(Statement.speaker, ids),
           "Participant id (speaker); repeatable: statements by any of them.", ANY),
    Filter("event", ID, lambda v: Statement.event == v, "Event id."),
    Filter("mode", STATEMENT_MODES, lambda v: _in(Statement.mode, v), "direct or reported.", ANY),
    Filter("type", CAMEO, lambda v: _cameo_prefixes(Statement.cameo_code, v), "CAMEO code or prefix.", ANY),
    Filter("topic", TOPIC, _topics(StatementTopic, StatementTopic.statement, Statement.id), "Topic id.", ANY),
    Filter("source", SOURCE, lambda v: _in(Statement.source, v), "Source id.", ANY),
    Filter("source_actor", ID, _statement_sources, _DYAD_HELP.format(side="speaking (source)", other="target_actor"),
           ANY, joint=("target_actor", _statement_pair)),
    Filter("target_actor", ID, _statement_targets, _DYAD_HELP.format(side="addressed (target)", other="source_actor"),
           ANY),
    Filter("quad_class", QUAD_CLASS_VALUES, _quad_classes(Statement.quad_class),
           "QuadClass: 1 verbal cooperation, 2 material cooperation, 3 verbal conflict, 4 material conflict.", ANY),
    Filter("q", SEARCH, _matching(Statement, "statement"), "Search (see /v1/search)."),
    Filter("from", DATE, lambda v: Statement.sort_date >= v, "Earliest reporting day (ISO, inclusive)."),
    Filter("to", DATE, lambda v: Statement.sort_date <= v, "Latest reporting day (ISO, inclusive)."),
    Filter("include_undated", FLAG, None, "Accepted for symmetry with /v1/events; every statement has a reporting day."),
    _updated_since(Statement, "statement"),
)

PARTICIPANT_FILTERS = (
    Filter("kind", PARTICIPANT_KINDS, lambda v: _in(Participant.kind, v), "person, organization, country or group.",
           ANY),
    Filter("country", ISO3, lambda v: _in(Participant.country, v), "ISO 3166-1 alpha-3.", ANY),
    Filter("q", SEARCH, _matching(Participant, "participant"), "Search names and aliases in any spelling."),
    _updated_since(Participant, "participant"),
)

PLACE_FILTERS = (
    Filter("kind", PLACE_KINDS, lambda v: _in(Place.kind, v), "city, country or region.", ANY),
    Filter("country", ISO3, lambda v: _in(Place.country, v), "ISO 3166-1 alpha-3.", ANY),
    Filter("q", SEARCH, _matching(Place, "place"), "Search names and aliases in any spelling."),
    _updated_since(Place, "place"),
)

SOURCE_FILTERS = (_updated_since(Source, "source"),)


def as_list(value) -> list:
    """The values of a repeatable filter (one value given alone counts as a list of one)."""
    return value if isinstance(value, list) else [value]


def conditions(table: tuple[Filter, ...], values: dict) -> list:
    """The WHERE terms of ``values`` (parsed filter values by name) under ``table``; a filter
    given with its joint partner makes one term with it."""
    def value(entry):
        return as_list(values[entry.name]) if entry.many else values[entry.name]

    by_name = {entry.name: entry for entry in table}
    terms, joined = [], set()
    for entry in table:
        if entry.where is None or entry.name not in values or entry.name in joined:
            continue
        if entry.joint is not None and entry.joint[0] in values:
            partner = by_name[entry.joint[0]]
            terms.append(entry.joint[1](value(entry), value(partner)))
            joined.add(partner.name)
        else:
            terms.append(entry.where(value(entry)))
    return terms

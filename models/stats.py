"""Dashboard queries: labels of counted values and the actor network (counts: models/counts.py).

Every count is computed by the database (GROUP BY over the narrow columns and
link tables); no stored document is read. Python only turns the grouped rows
(one per day or month and value) into calendar buckets, and attaches labels.
Knows nothing about HTTP; the API layer (``api/v1/stats.py``) formats the results.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from peewee import SQL, Case, Select, fn

from . import backends
from .queries import event_select
from .records import (
    CameoCode,
    Event,
    EventParticipant,
    Participant,
    Place,
    Source,
    Statement,
    Topic,
)

# --------------------------------------------------------------------------- shared


def _matching(filters: dict):
    """A subquery of the ids of the events under ``filters``, or None when nothing is filtered."""
    return event_select(filters, columns=(Event.id,)) if filters else None


#: the column that labels a facet or group value of each kind that has one: English, and Arabic
LABELS = {
    "cameo_root": CameoCode.label,
    "cameo": CameoCode.label,
    "participant": Participant.name_en,
    "place": Place.name_en,
    "topic": Topic.label,
    "source": Source.title,
}
ARABIC_LABELS = {"participant": Participant.name_ar, "place": Place.name_ar}


def labels(kind: str, values) -> dict:
    """Human labels of facet / group values: CAMEO labels, names, topic labels.

    Values without a label of their own (status, country codes, precision,
    PLOVER types) are their own label.
    """
    values = [v for v in dict.fromkeys(values) if v is not None]
    found = _column_of(LABELS[kind], values) if kind in LABELS else {}
    return {value: found.get(value, str(value)) for value in values}


def arabic_labels(kind: str, values) -> dict:
    """The Arabic names of participant and place values (the others have none: {})."""
    values = [v for v in dict.fromkeys(values) if v is not None]
    return _column_of(ARABIC_LABELS[kind], values) if kind in ARABIC_LABELS else {}


def _column_of(column, values: list) -> dict:
    """``column`` of the rows of its table whose primary key is one of ``values``, by key."""
    model = column.model
    key = model._meta.primary_key
    found = {}
    for start in range(0, len(values), 500):  # stay below every backend's bound-parameter limit
        found.update(model.select(key, column).where(key.in_(values[start:start + 500])).tuples())
    return found


# --------------------------------------------------------------------------- network


@dataclass
class Network:
    nodes: list[dict]  # id, name_en, name_ar, kind, country, events
    edges: list[dict]  # source, target, weight, statement_events, events (ids, at most edge_events)
    actors_total: int  # actors before the node limit
    events: int  # events under the filters


def _in_matching(column, matching):
    """``column IN (SELECT id FROM matching)``, or no condition when nothing is filtered."""
    return True if matching is None else column.in_(Select([matching], [matching.c.id]))


def _speaker_only(matching, shown: list[str] | None = None):
    """(event, actor) of the speakers of statements linked to a matching event who are not
    among that event's participants, once each."""
    query = (Statement.select(Statement.event.alias("event"), Statement.speaker.alias("actor"))
             .where(Statement.event.is_null(False)
                    & ~fn.EXISTS(EventParticipant.select(SQL("1")).where(
                        (EventParticipant.event == Statement.event) & (EventParticipant.participant == Statement.speaker)))
                    & _in_matching(Statement.event, matching))
             .distinct())
    if shown is not None:
        query = query.where(Statement.speaker.in_(shown))
    return query


def _with(query, matching):
    return query if matching is None else query.with_cte(matching)


def _actor_counts(matching) -> tuple[dict[str, int], int]:
    """Matching events per actor (as participant, any role, once; or as speaker only), and
    the number of matching events: one query, so the filters are evaluated once."""
    links = (EventParticipant.select(EventParticipant.participant, fn.COUNT(fn.DISTINCT(EventParticipant.event)))
             .where(_in_matching(EventParticipant.event, matching)).group_by(EventParticipant.participant))
    spoken = _speaker_only(matching).alias("x")
    speakers = Select([spoken], [spoken.c.actor, fn.COUNT(SQL("*"))]).group_by(spoken.c.actor)
    if matching is None:
        everything = Event.select(SQL("NULL"), fn.COUNT(SQL("*")))
    else:
        everything = Select([matching], [SQL("NULL"), fn.COUNT(SQL("*"))])
    counts: dict[str, int] = defaultdict(int)
    events = 0
    for actor, n in _with(links.union_all(speakers).union_all(everything), matching).bind(Event._meta.database).tuples():
        if actor is None:
            events = n
        else:
            counts[actor] += n
    return counts, events


def _pairs(matching, shown: list[str] | None):
    """(source, target, event, via) for each pair of actors of a matching event, source < target.

    ``via`` is 1 when one of the two is an actor only as a speaker. An actor is a
    participant of an event or a speaker only, never both, so each (pair, event)
    comes from one of the three branches (twice if a participant has two roles:
    count distinct events).
    """
    a, b = EventParticipant.alias("a"), EventParticipant.alias("b")
    both = (a.select(a.participant.alias("source"), b.participant.alias("target"), a.event.alias("event"), SQL("0").alias("via"))
            .join(b, on=((b.event == a.event) & (b.participant > a.participant)))
            .where(_in_matching(a.event, matching)))
    if shown is not None:
        if matching is not None:
            # ``x || ''`` keeps SQLite from turning the IN list into one index probe per shown
            # actor and matching event; it then reads each matching event's participants once
            both = both.where(a.participant.concat("").in_(shown) & b.participant.concat("").in_(shown))
        else:
            both = both.where(a.participant.in_(shown) & b.participant.in_(shown))

    x = _speaker_only(matching, shown).alias("x")
    c = EventParticipant.alias("c")
    low = Case(None, [(x.c.actor < c.participant, x.c.actor)], c.participant)
    high = Case(None, [(x.c.actor < c.participant, c.participant)], x.c.actor)
    mixed = (Select([x], [low.alias("source"), high.alias("target"), x.c.event.alias("event"), SQL("1").alias("via")])
             .join(c, on=((c.event == x.c.event) & (c.participant != x.c.actor))))
    if shown is not None:
        mixed = mixed.where(c.participant.concat("").in_(shown))

    y, z = _speaker_only(matching, shown).alias("y"), _speaker_only(matching, shown).alias("z")
    spoken = (Select([y], [y.c.actor.alias("source"), z.c.actor.alias("target"), y.c.event.alias("event"), SQL("1").alias("via")])
              .join(z, on=((z.c.event == y.c.event) & (z.c.actor > y.c.actor))))
    return both.union_all(mixed).union_all(spoken).alias("pairs")


def network(filters: dict, limit: int = 100, min_weight: int = 1, edge_events: int = 10) -> Network:
    """The co-participation graph of the events under ``filters``: counts, names, edges (3 queries).

    The actors of an event are its participants (any role) and the speakers of
    the statements linked to it. Nodes are the ``limit`` actors with the most
    matching events (ties by id), ``events`` being that number. An edge joins
    two shown actors of at least ``min_weight`` common events; ``weight`` counts
    those events, ``statement_events`` how many of them join the pair only
    because one of the two spoke in a statement linked to the event, and
    ``events`` lists the first ``edge_events`` of their ids (in id order).
    """
    db = Event._meta.database
    # the matching ids as a CTE: each query below refers to it several times, and a CTE used
    # more than once is computed once (SQLite >= 3.35, PostgreSQL >= 12)
    matching = _matching(filters).cte("matching", columns=("id",)) if filters else None
    counts, events = _actor_counts(matching)
    per_actor = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    top = per_actor[:limit]
    shown = [pid for pid, _ in top]
    people = {}
    for start in range(0, len(shown), 500):
        people.update((row[0], row) for row in Participant.select(
            Participant.id, Participant.name_en, Participant.name_ar, Participant.kind, Participant.country)
            .where(Participant.id.in_(shown[start:start + 500])).tuples())
    nodes = [{"id": pid, "name_en": people[pid][1], "name_ar": people[pid][2], "kind": people[pid][3],
              "country": people[pid][4], "events": n} for pid, n in top if pid in people]

    edges: list[dict] = []
    if len(nodes) > 1:
        p = _pairs(matching, shown if len(shown) < len(per_actor) else None)
        weight = fn.COUNT(fn.DISTINCT(p.c.event))
        columns = [p.c.source, p.c.target, weight, fn.COUNT(fn.DISTINCT(Case(None, [(p.c.via == 1, p.c.event)])))]
        if edge_events:
            # every shared id, comma-joined (ids never hold a comma); the first few are kept below
            columns.append(backends.of(db).string_agg(p.c.event))
        query = _with(Select([p], columns).group_by(p.c.source, p.c.target).having(weight >= min_weight), matching)
        for source, target, n, spoken, *ids in query.bind(db).tuples():
            edges.append({"source": source, "target": target, "weight": n, "statement_events": spoken,
                          "events": sorted(ids[0].split(","))[:edge_events] if ids and ids[0] else []})
        edges.sort(key=lambda e: (-e["weight"], e["source"], e["target"]))
    return Network(nodes, edges, len(per_actor), events)

"""Dashboard queries: facet counts, time series and the actor network.

Every count is computed by the database (GROUP BY over the narrow columns and
link tables); no stored document is read. Python only turns the grouped rows
(one per day or month and value) into calendar buckets, and attaches labels.
Knows nothing about HTTP; the API layer (``api/v1/stats.py``) formats the results.
"""
from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from peewee import JOIN, SQL, Case, Select, fn

from . import daycounts
from .db import backend_name
from .queries import count, event_select, event_total
from .records import (
    CameoCode,
    Event,
    EventCountry,
    EventParticipant,
    EventTopic,
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


def labels(kind: str, values) -> dict:
    """Human labels of facet / group values: CAMEO labels, names, topic labels.

    Values without a label of their own (status, country codes, precision,
    PLOVER types) are their own label.
    """
    values = [v for v in dict.fromkeys(values) if v is not None]
    if not values:
        return {}
    lookups = {
        "cameo_root": (CameoCode, CameoCode.code, CameoCode.label),
        "cameo": (CameoCode, CameoCode.code, CameoCode.label),
        "participant": (Participant, Participant.id, Participant.name_en),
        "place": (Place, Place.id, Place.name_en),
        "topic": (Topic, Topic.id, Topic.label),
        "source": (Source, Source.id, Source.title),
    }
    if kind not in lookups:
        return {value: str(value) for value in values}
    model, key, label = lookups[kind]
    found = {}
    for start in range(0, len(values), 500):  # stay below every backend's bound-parameter limit
        chunk = values[start:start + 500]
        found.update(model.select(key, label).where(key.in_(chunk)).tuples())
    return {value: found.get(value, str(value)) for value in values}


# --------------------------------------------------------------------------- facets


FACETS = ("cameo_root", "cameo", "status", "plover", "country", "participant", "topic", "place", "precision", "source")
# facets an event can have several values of, through a link table
MULTI_VALUED = {
    "participant": (EventParticipant, EventParticipant.participant),
    "country": (EventCountry, EventCountry.country),
    "topic": (EventTopic, EventTopic.topic),
}
SINGLE_VALUED = {
    "cameo_root": Event.cameo_root,
    "cameo": Event.cameo_code,
    "status": Event.status,
    "plover": Event.plover_type,
    "place": Event.place,
    "precision": Event.date_precision,
    "source": Event.source,
}


@dataclass
class FacetResult:
    values: list[tuple[str, int]]  # (value, events), most frequent first, ties by value
    missing: int  # matching events without any value for the facet


def _rolled_up(facet: str, rows):
    """CAMEO roots are counted by code (an index covers it) and summed per root here."""
    if facet != "cameo_root":
        return rows
    sums: dict = defaultdict(int)
    for code, *rest, n in rows:
        sums[(code[:2] if code else None, *rest)] += n
    return [(*key, n) for key, n in sums.items()]


def facet_counts(filters: dict, facet: str, day_counts: bool = True) -> FacetResult:
    """Events under ``filters`` per value of ``facet``: one or two GROUP BY queries.

    Each event counts once per value (a participant with two roles in one event
    counts once), so for a multi-valued facet the counts can add up to more than
    the number of events. Events without a value are counted apart (``missing``).
    Read from the day counts (models/daycounts.py) when they can answer;
    ``day_counts=False`` counts the rows anyway (the tests compare both ways).
    """
    precomputed = daycounts.facet(filters, facet) if day_counts else None
    if precomputed is not None:
        values, missing = precomputed
        values.sort(key=lambda pair: (-pair[1], str(pair[0])))
        return FacetResult(values, missing)
    star = fn.COUNT(SQL("*"))
    if facet in MULTI_VALUED:
        table, column = MULTI_VALUED[facet]
        if not filters:  # the link table alone answers, from its indexes
            n = fn.COUNT(fn.DISTINCT(table.event)) if facet == "participant" else star
            rows = list(table.select(column, n).group_by(column).tuples())
            linked = table.select(fn.COUNT(fn.DISTINCT(table.event))).scalar() or 0
            rows.append((None, count(Event.select(Event.id)) - linked))
        else:
            # a LEFT JOIN from the matching events keeps the ones without a link, as a NULL group
            n = fn.COUNT(fn.DISTINCT(Event.id)) if facet == "participant" else star
            rows = (event_select(filters, columns=(column, n))
                    .join(table, JOIN.LEFT_OUTER, on=(table.event == Event.id))
                    .group_by(column).tuples())
    else:
        column = Event.cameo_code if facet == "cameo_root" else SINGLE_VALUED[facet]
        rows = _rolled_up(facet, event_select(filters, columns=(column, star)).group_by(column).tuples())
    missing = 0
    values = []
    for value, n in rows:
        if value is None:
            missing += n
        elif n:
            values.append((value, n))
    values.sort(key=lambda pair: (-pair[1], str(pair[0])))
    return FacetResult(values, missing)


# --------------------------------------------------------------------------- timeline


INTERVALS = ("day", "week", "month", "year")
TIMELINE_GROUPS = ("cameo_root", "status", "participant", "topic")
MAX_BUCKETS = 2_000
DATE_FILTERS = ("from", "to", "include_undated")


class TooManyBuckets(ValueError):
    """The range holds more buckets of the interval than :data:`MAX_BUCKETS`."""


def bucket_start(day: dt.date, interval: str) -> dt.date:
    if interval == "day":
        return day
    if interval == "week":  # ISO weeks start on Monday
        return day - dt.timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def bucket_end(start: dt.date, interval: str) -> dt.date:
    if interval == "day":
        return start
    if interval == "week":
        return start + dt.timedelta(days=6) if start <= dt.date.max - dt.timedelta(days=6) else dt.date.max
    if interval == "month":
        return start.replace(day=calendar.monthrange(start.year, start.month)[1])
    return start.replace(month=12, day=31)


def next_bucket(start: dt.date, interval: str) -> dt.date | None:
    end = bucket_end(start, interval)
    return None if end == dt.date.max else end + dt.timedelta(days=1)


def bucket_count(first: dt.date, last: dt.date, interval: str) -> int:
    a, b = bucket_start(first, interval), bucket_start(last, interval)
    if interval == "day":
        return (b - a).days + 1
    if interval == "week":
        return (b - a).days // 7 + 1
    if interval == "month":
        return (b.year * 12 + b.month) - (a.year * 12 + a.month) + 1
    return b.year - a.year + 1


@dataclass
class Bucket:
    start: dt.date
    end: dt.date
    count: int = 0
    ranged: int = 0
    groups: dict = field(default_factory=dict)


@dataclass
class Timeline:
    interval: str
    first: dt.date | None  # the range counted (None: nothing dated matched)
    last: dt.date | None
    buckets: list[Bucket]
    total: int  # events counted in the buckets
    ranged: int  # of which not dated to the day
    undated: int  # events under the filters with no date at all (in no bucket)
    group_by: str | None = None
    groups: list[tuple[str, int]] = field(default_factory=list)  # the groups shown, most frequent first
    groups_total: int = 0  # distinct group values in the range


def _anchor(query, first: str | None, last: str | None):
    """Dated events whose anchor date (``sort_date``: start, else end) lies in [first, last]."""
    query = query.where(Event.sort_date != "")
    if first:
        query = query.where(Event.sort_date >= first)
    if last:
        query = query.where(Event.sort_date <= last)
    return query


def timeline_span(filters: dict) -> tuple[str, str] | None:
    """(earliest, latest) anchor date of the dated events under ``filters`` (no date filters)."""
    row = (event_select(filters, columns=(fn.MIN(Event.sort_date), fn.MAX(Event.sort_date)))
           .where(Event.sort_date != "").tuples().first())
    return (row[0], row[1]) if row and row[0] else None


def undated_count(filters: dict) -> int:
    return count(event_select(filters, columns=(Event.id,)).where(Event.sort_date == ""))


def _bucket_key(interval: str):
    """The anchor date, or its month / year prefix (``YYYY-MM``, ``YYYY``): fewer rows to group."""
    if interval == "month":
        return fn.SUBSTR(Event.sort_date, SQL("1"), SQL("7"))  # literals: PostgreSQL matches the GROUP BY by text
    if interval == "year":
        return fn.SUBSTR(Event.sort_date, SQL("1"), SQL("4"))
    return Event.sort_date


class _BucketOf(dict):
    """Bucket start of a grouping key (``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``), memoised."""

    def __init__(self, interval: str):
        super().__init__()
        self.interval = interval

    def __missing__(self, key: str) -> dt.date:
        if len(key) == 4:
            day = dt.date(int(key), 1, 1)
        elif len(key) == 7:
            day = dt.date(int(key[:4]), int(key[5:7]), 1)
        else:
            day = bucket_start(dt.date.fromisoformat(key), self.interval)
        self[key] = day
        return day


def timeline_rows(filters: dict, interval: str, first: str | None, last: str | None):
    """(anchor date, precision, events) of the dated events under ``filters`` anchored in [first, last]."""
    key = Event.sort_date  # few rows per day: cheaper than grouping by an expression
    query = event_select(filters, columns=(key, Event.date_precision, fn.COUNT(SQL("*"))))
    return _anchor(query, first, last).group_by(key, Event.date_precision).tuples()


def timeline_group_rows(filters: dict, interval: str, first: str | None, last: str | None, group: str,
                        limit: int):
    """(bucket key, group value, events) of the dated events under ``filters`` anchored in
    [first, last], for the ``limit`` values with the most events, and the number of values.

    A participant or topic grouping can hold millions of (day, value) pairs: the database
    ranks the values and returns only the rows of the top ones.
    """
    if group not in MULTI_VALUED:  # a few values (statuses, CAMEO roots): every row
        column = Event.cameo_code if group == "cameo_root" else SINGLE_VALUED[group]
        query = event_select(filters, columns=(Event.sort_date, column, fn.COUNT(SQL("*"))))
        rows = _anchor(query, first, last).group_by(Event.sort_date, column).tuples()
        if group == "cameo_root":
            rows = [(k, value, n) for value, k, n in _rolled_up(group, ((v, k, n) for k, v, n in rows))]
        rows = list(rows)
        return rows, len({value for _, value, _ in rows})
    key = _bucket_key(interval)
    table, column = MULTI_VALUED[group]
    n = fn.COUNT(fn.DISTINCT(Event.id)) if group == "participant" else fn.COUNT(SQL("*"))
    # CROSS JOIN + WHERE is an inner join; on SQLite it also keeps the events as the outer
    # loop, read from the (sort_date, id) index, instead of one table lookup per link row
    counts = (_anchor(event_select(filters, columns=(key, column, n)), first, last)
              .join(table, JOIN.CROSS).where(table.event == Event.id)
              .group_by(key, column).cte("grouped", columns=("k", "v", "n")))
    top = (Select([counts], [counts.c.v]).group_by(counts.c.v)
           .order_by(fn.SUM(counts.c.n).desc(), counts.c.v).limit(limit))
    rows = Select([counts], [counts.c.k, counts.c.v, counts.c.n]).where(counts.c.v.in_(top))
    distinct = Select([counts], [SQL("NULL"), SQL("NULL"), fn.COUNT(fn.DISTINCT(counts.c.v))])
    result, values = [], 0
    for k, value, n in rows.union_all(distinct).with_cte(counts).bind(Event._meta.database).tuples():
        if k is None:
            values = n
        else:
            result.append((k, value, n))
    return result, values


def timeline(filters: dict, interval: str, first: dt.date | None = None, last: dt.date | None = None,
             group_by: str | None = None, group_limit: int = 20, max_buckets: int = MAX_BUCKETS,
             day_counts: bool = True) -> Timeline:
    """Events per calendar bucket, zero-filled from ``first`` to ``last`` (inclusive).

    An event is counted once, in the bucket of its anchor date: ``date.start``,
    or ``date.end`` when the start is open. Events whose precision is not
    ``day`` (month, year, range) are counted the same way and tallied in
    ``ranged``. Events with no date at all are only tallied in ``undated``.
    ``first``/``last`` bound the anchor date; when absent they default to the
    earliest/latest anchor of the matching events. Date filters in ``filters``
    are ignored (``first``/``last`` take their place).

    Raises :class:`TooManyBuckets` before any bucket is built if the range has
    more than ``max_buckets``. Read from the day counts when they can answer
    (``day_counts=False`` counts the rows anyway).
    """
    filters = {k: v for k, v in filters.items() if k not in DATE_FILTERS}
    # only the bounds asked for go into the SQL: a bound that is the data's own span selects
    # nothing less, and it would steer SQLite to the sort_date index instead of a covering one
    low = first.isoformat() if first else None
    high = last.isoformat() if last else None
    precomputed = daycounts.timeline_dimension(filters, group_by) if day_counts else None
    undated = undated_count(filters) if precomputed is None else daycounts.undated(precomputed)
    if first is None or last is None:
        span = timeline_span(filters) if precomputed is None else daycounts.anchor_span(precomputed)
        if span is None:
            first = first or last
            last = last or first
        else:
            earliest, latest = dt.date.fromisoformat(span[0]), dt.date.fromisoformat(span[1])
            if first is None:
                first = min(earliest, last) if last else earliest
            if last is None:
                last = max(latest, first)
    if first is None:  # nothing dated and no range asked: no buckets
        return Timeline(interval, None, None, [], 0, 0, undated, group_by)
    n = bucket_count(first, last, interval)
    if n > max_buckets:
        raise TooManyBuckets(f"{first.isoformat()} to {last.isoformat()} is {n} {interval} buckets; the most is {max_buckets}")

    buckets: list[Bucket] = []
    start = bucket_start(first, interval)
    while start is not None and start <= last:
        buckets.append(Bucket(start, bucket_end(start, interval)))
        start = next_bucket(start, interval)
    index = {bucket.start: bucket for bucket in buckets}
    bucket_of = _BucketOf(interval)

    total = ranged = 0
    if precomputed is None:
        rows = ((key, n, n if precision != "day" else 0) for key, precision, n in timeline_rows(filters, interval, low, high))
    else:
        rows = daycounts.anchors(precomputed, low, high, interval)
    for key, n, not_to_the_day in rows:
        bucket = index[bucket_of[key]]
        bucket.count += n
        total += n
        bucket.ranged += not_to_the_day
        ranged += not_to_the_day
    result = Timeline(interval, first, last, buckets, total, ranged, undated, group_by)
    if group_by:
        per_bucket: dict[dt.date, dict] = defaultdict(lambda: defaultdict(int))
        totals: dict[str, int] = defaultdict(int)
        if precomputed is None:
            rows, result.groups_total = timeline_group_rows(filters, interval, low, high, group_by, group_limit)
        else:
            rows = list(daycounts.group_anchors(group_by, low, high))
            result.groups_total = len({value for _, value, n in rows if n})
        for key, value, n in rows:
            per_bucket[bucket_of[key]][value] += n
            totals[value] += n
        ranked = sorted(totals.items(), key=lambda pair: (-pair[1], str(pair[0])))
        result.groups = ranked[:group_limit]
        for bucket in buckets:
            counts = per_bucket.get(bucket.start, {})
            bucket.groups = {value: counts.get(value, 0) for value, _ in result.groups}
    return result


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
            columns.append(fn.GROUP_CONCAT(fn.DISTINCT(p.c.event)) if backend_name(db) == "sqlite"
                           else fn.STRING_AGG(fn.DISTINCT(p.c.event), ","))
        query = _with(Select([p], columns).group_by(p.c.source, p.c.target).having(weight >= min_weight), matching)
        for source, target, n, spoken, *ids in query.bind(db).tuples():
            edges.append({"source": source, "target": target, "weight": n, "statement_events": spoken,
                          "events": sorted(ids[0].split(","))[:edge_events] if ids and ids[0] else []})
        edges.sort(key=lambda e: (-e["weight"], e["source"], e["target"]))
    return Network(nodes, edges, len(per_actor), events)

"""Dashboard queries: facet counts, time series and the actor network.

Every count is computed by the database (GROUP BY over the narrow columns and
link tables); no stored document is read. Python only turns at most one row per
(date, group) into calendar buckets and attaches labels to the values returned.
Knows nothing about HTTP; the API layer (``api/v1/stats.py``) formats the results.
"""
from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from peewee import JOIN, SQL, Case, Select, Table, fn

from .queries import count, event_select
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


def _restricted(query, column, filters: dict):
    matching = _matching(filters)
    return query if matching is None else query.where(column.in_(matching))


def event_total(filters: dict) -> int:
    return count(event_select(filters, columns=(Event.id,)))


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


def facet_counts(filters: dict, facet: str) -> FacetResult:
    """Events under ``filters`` per value of ``facet``: one or two GROUP BY queries.

    Each event counts once per value (a participant with two roles in one event
    counts once), so for a multi-valued facet the counts can add up to more than
    the number of events. Events without a value are counted apart (``missing``).
    """
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
    """What the SQL groups by: the anchor date, or its month / year prefix (fewer rows to fetch)."""
    if interval == "month":
        return fn.SUBSTR(Event.sort_date, 1, 7)
    if interval == "year":
        return fn.SUBSTR(Event.sort_date, 1, 4)
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
    """(bucket key, precision, events) of the dated events under ``filters`` anchored in [first, last]."""
    key = _bucket_key(interval)
    query = event_select(filters, columns=(key, Event.date_precision, fn.COUNT(SQL("*"))))
    return _anchor(query, first, last).group_by(key, Event.date_precision).tuples()


def timeline_group_rows(filters: dict, interval: str, first: str | None, last: str | None, group: str):
    """(bucket key, group value, events) of the dated events under ``filters`` anchored in [first, last]."""
    key = _bucket_key(interval)
    if group in MULTI_VALUED:
        table, column = MULTI_VALUED[group]
        n = fn.COUNT(fn.DISTINCT(Event.id)) if group == "participant" else fn.COUNT(SQL("*"))
        # CROSS JOIN + WHERE is an inner join; on SQLite it also keeps the events as the outer
        # loop, read from the (sort_date, id) index, instead of one table lookup per link row
        query = (event_select(filters, columns=(key, column, n))
                 .join(table, JOIN.CROSS).where(table.event == Event.id))
    else:
        column = Event.cameo_code if group == "cameo_root" else SINGLE_VALUED[group]
        query = event_select(filters, columns=(key, column, fn.COUNT(SQL("*"))))
    rows = _anchor(query, first, last).group_by(key, column).tuples()
    if group == "cameo_root":
        return [(k, value, n) for value, k, n in _rolled_up(group, ((v, k, n) for k, v, n in rows))]
    return rows


def timeline(filters: dict, interval: str, first: dt.date | None = None, last: dt.date | None = None,
             group_by: str | None = None, group_limit: int = 20, max_buckets: int = MAX_BUCKETS) -> Timeline:
    """Events per calendar bucket, zero-filled from ``first`` to ``last`` (inclusive).

    An event is counted once, in the bucket of its anchor date: ``date.start``,
    or ``date.end`` when the start is open. Events whose precision is not
    ``day`` (month, year, range) are counted the same way and tallied in
    ``ranged``. Events with no date at all are only tallied in ``undated``.
    ``first``/``last`` bound the anchor date; when absent they default to the
    earliest/latest anchor of the matching events. Date filters in ``filters``
    are ignored (``first``/``last`` take their place).

    Raises :class:`TooManyBuckets` before any bucket is built if the range has
    more than ``max_buckets``.
    """
    filters = {k: v for k, v in filters.items() if k not in DATE_FILTERS}
    undated = undated_count(filters)
    if first is None or last is None:
        span = timeline_span(filters)
        if span is None:
            first = first or last
            last = last or first
        else:
            low, high = dt.date.fromisoformat(span[0]), dt.date.fromisoformat(span[1])
            if first is None:
                first = min(low, last) if last else low
            if last is None:
                last = max(high, first)
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

    low, high = first.isoformat(), last.isoformat()
    total = ranged = 0
    for key, precision, n in timeline_rows(filters, interval, low, high):
        bucket = index[bucket_of[key]]
        bucket.count += n
        total += n
        if precision != "day":
            bucket.ranged += n
            ranged += n
    result = Timeline(interval, first, last, buckets, total, ranged, undated, group_by)
    if group_by:
        per_bucket: dict[dt.date, dict] = defaultdict(lambda: defaultdict(int))
        totals: dict[str, int] = defaultdict(int)
        for key, value, n in timeline_group_rows(filters, interval, low, high, group_by):
            per_bucket[bucket_of[key]][value] += n
            totals[value] += n
        ranked = sorted(totals.items(), key=lambda pair: (-pair[1], str(pair[0])))
        result.groups = ranked[:group_limit]
        result.groups_total = len(ranked)
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


def _actors(filters: dict):
    """CTE ``actors(event, actor, via)``: who takes part in each event under ``filters``.

    An actor of an event is one of its participants (any role) or the speaker of
    a statement linked to it; ``via`` is 1 when the actor is only a speaker.
    """
    links = EventParticipant.select(EventParticipant.event.alias("event"),
                                    EventParticipant.participant.alias("actor"), SQL("0").alias("via"))
    speakers = (Statement.select(Statement.event.alias("event"), Statement.speaker.alias("actor"), SQL("1").alias("via"))
                .where(Statement.event.is_null(False)))
    links = _restricted(links, EventParticipant.event, filters)
    speakers = _restricted(speakers, Statement.event, filters)
    union = links.union_all(speakers).alias("u")
    return (Select([union], [union.c.event, union.c.actor, fn.MIN(union.c.via).alias("via")])
            .group_by(union.c.event, union.c.actor)
            .cte("actors", columns=("event", "actor", "via")))


def network(filters: dict, limit: int = 100, min_weight: int = 1, edge_events: int = 10) -> Network:
    """The co-participation graph of the events under ``filters``: three queries.

    Nodes are the ``limit`` actors with the most events (ties by id); ``events``
    is how many matching events each is an actor of (see :func:`_actors`).
    An edge joins two shown actors of at least ``min_weight`` common events;
    ``weight`` counts those events, ``statement_events`` how many of them link
    the pair only because one of the two spoke in a statement linked to the
    event, and ``events`` lists the first ``edge_events`` of their ids.
    """
    db = Event._meta.database
    actors = _actors(filters)
    per_actor = list(Select([actors], [actors.c.actor, fn.COUNT(SQL("*"))])
                     .group_by(actors.c.actor).with_cte(actors).bind(db).tuples())
    per_actor.sort(key=lambda pair: (-pair[1], pair[0]))
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
        a, b = Table("actors").alias("a"), Table("actors").alias("b")
        only_spoken = Case(None, [((a.c.via + b.c.via) > 0, 1)], 0)
        partition = [a.c.actor, b.c.actor]
        pairs = (Select([a], [
                    a.c.actor.alias("source"), b.c.actor.alias("target"), a.c.event.alias("event"),
                    fn.COUNT(SQL("*")).over(partition_by=partition).alias("weight"),
                    fn.SUM(only_spoken).over(partition_by=partition).alias("statement_events"),
                    fn.ROW_NUMBER().over(partition_by=partition, order_by=[a.c.event]).alias("position")])
                 .join(b, on=((a.c.event == b.c.event) & (a.c.actor < b.c.actor))))
        if len(shown) < len(per_actor):
            pairs = pairs.where(a.c.actor.in_(shown) & b.c.actor.in_(shown))
        p = pairs.alias("pairs")
        query = (Select([p], [p.c.source, p.c.target, p.c.weight, p.c.statement_events, p.c.event])
                 .where((p.c.weight >= min_weight) & (p.c.position <= max(edge_events, 1)))
                 .order_by(p.c.source, p.c.target, p.c.position)
                 .with_cte(actors).bind(db))
        current = None
        for source, target, weight, statement_events, event in query.tuples():
            if current is None or (current["source"], current["target"]) != (source, target):
                current = {"source": source, "target": target, "weight": weight,
                           "statement_events": int(statement_events or 0), "events": []}
                edges.append(current)
            if len(current["events"]) < edge_events:
                current["events"].append(event)
        edges.sort(key=lambda e: (-e["weight"], e["source"], e["target"]))
    return Network(nodes, edges, len(per_actor), event_total(filters))

"""Directed dyads: counts and Goldstein sums per (source actor, target actor) pair, and the
directed actor network (who acts on whom), computed by the database.

A record's dyads are its rows in ``event_dyad`` / ``statement_dyad`` (written by the loader
from source_actors × target_actors, see models/load/directed.py); a pair is counted once per
record. Only complete pairs (both sides named) are dyads here: a side named alone is still
found by the ``source_actor`` / ``target_actor`` filters.
"""
from __future__ import annotations

import datetime as dt
import heapq
import json
from collections import defaultdict
from dataclasses import dataclass, field

from peewee import SQL, Select, fn

from . import dyadcounts
from .buckets import MAX_BUCKETS, BucketOf, buckets_between
from .counts import _bucket_key
from .filters import STATEMENT_FILTERS, as_list, conditions
from .queries import event_select, overlaps
from .records import Event, EventDyad, Participant, Statement, StatementDyad


@dataclass
class Dyad:
    source: str
    target: str
    count: int
    goldstein_sum: float
    series: dict = field(default_factory=dict)  # bucket start (date) -> events

    @property
    def goldstein_mean(self) -> float | None:
        # from the sum as shown (4 decimals): the digits past them are float noise that depends on
        # the order of addition, and a mean such as 49.9 / 16 = 3.11875 would round by that noise
        return round(round(self.goldstein_sum, 4) / self.count, 4) if self.count else None


def _complete(link, filters: dict):
    """Pairs with both sides named, and (with source_actor / target_actor) the sides asked for:
    the filters select the records, and of their pairs only the ones they name are counted."""
    condition = link.source_actor.is_null(False) & link.target_actor.is_null(False)
    for name, column in (("source_actor", link.source_actor), ("target_actor", link.target_actor)):
        if filters.get(name):
            condition &= column.in_(as_list(filters[name]))
    return condition


def _dyad_rows(filters: dict, columns):
    """The complete pairs of the matching events, with ``columns``: from the dyad table alone when
    the filters allow, else through the events the filters select."""
    if dyadcounts.answers(filters):
        query = EventDyad.select(*columns).where(_complete(EventDyad, filters))
        if filters.get("quad_class"):
            query = query.where(EventDyad.quad_class.in_([int(v) for v in as_list(filters["quad_class"])]))
        if "from" in filters or "to" in filters:
            query = query.where(overlaps(EventDyad, filters.get("from"), filters.get("to"),
                                         filters.get("include_undated", False)))
        return query
    return (event_select(filters, columns=columns).join(EventDyad, on=(EventDyad.event == Event.id))
            .where(_complete(EventDyad, filters)))


def _pair_rows(filters: dict, dyad_counts: bool) -> list[tuple]:
    """(source, target, events, Goldstein sum) of every pair with matching events."""
    if dyad_counts and dyadcounts.answers(filters):
        return dyadcounts.pair_totals(filters)
    # each score as its decimal (PostgreSQL keeps the column in single precision: summed as such,
    # 113 scores of one decimal came to 303.7999), as the dyad counts sum them in ten-thousandths
    score = fn.ROUND(fn.COALESCE(EventDyad.goldstein, 0).cast("NUMERIC"), SQL("4"))
    n, total = fn.COUNT(SQL("*")), fn.SUM(score)
    query = (_dyad_rows(filters, (EventDyad.source_actor, EventDyad.target_actor, n, total))
             .group_by(EventDyad.source_actor, EventDyad.target_actor))
    return [(s, t, c, float(g or 0)) for s, t, c, g in query.tuples()]


def _rank(row: tuple):
    return -row[2], row[0], row[1]


def event_dyads(filters: dict, dyad_counts: bool = True) -> list[Dyad]:
    """Matching events per directed pair, with the sum of their Goldstein scores; most events
    first (ties by source, target). Adding ``source_actor=s&target_actor=t`` to the same
    filters lists exactly ``count`` events. Read from the load-time dyad counts when they
    answer the filters (``dyad_counts=False`` counts the rows anyway: tests compare)."""
    return [Dyad(*row) for row in sorted(_pair_rows(filters, dyad_counts), key=_rank)]


def top_dyads(filters: dict, limit: int, dyad_counts: bool = True) -> tuple[list[Dyad], int]:
    """The first ``limit`` of :func:`event_dyads`, and how many pairs there are in all."""
    if dyad_counts and dyadcounts.answers(filters):
        rows, found = dyadcounts.top_pair_totals(filters, limit)
    else:
        rows = _pair_rows(filters, dyad_counts)
        found = len(rows)
    return [Dyad(*row) for row in heapq.nsmallest(limit, rows, key=_rank)], found


def dyad_series(filters: dict, dyads: list[Dyad], interval: str, first: str | None, last: str | None,
                dyad_counts: bool = True, max_buckets: int = MAX_BUCKETS):
    """Fill each dyad's ``series`` (events per bucket of their anchor date, every bucket of the
    range present, zeros included); returns the buckets, or [] when nothing dated matched.
    Raises TooManyBuckets (before reading a row when the range is given) past ``max_buckets``."""
    if first and last:
        buckets_between(dt.date.fromisoformat(first), dt.date.fromisoformat(last), interval, max_buckets)
    rows = _series_rows(filters, interval, first, last, dyad_counts)
    bucket_of = BucketOf(interval)
    days = [bucket_of[k] for _, _, k, _ in rows]
    low = dt.date.fromisoformat(first) if first else (min(days) if days else None)
    high = dt.date.fromisoformat(last) if last else (max(days) if days else None)
    if low is None or high is None:
        return []
    buckets = buckets_between(low, high, interval, max_buckets)
    by_pair = {(d.source, d.target): d for d in dyads}
    for dyad in dyads:
        dyad.series = {b.start: 0 for b in buckets}
    for source, target, k, n in rows:
        dyad = by_pair.get((source, target))
        if dyad is not None:
            dyad.series[bucket_of[k]] = dyad.series.get(bucket_of[k], 0) + n
    return buckets


def _series_rows(filters: dict, interval: str, first: str | None, last: str | None, dyad_counts: bool) -> list:
    """(source, target, bucket key, events) of every pair with a dated event in [first, last]."""
    if dyad_counts and dyadcounts.answers(filters) and (first, last) == (filters.get("from"), filters.get("to")):
        # an anchor in [from, to] is an overlap of [from, to]: the anchors alone select the rows
        return dyadcounts.anchor_rows(filters, lambda column: _bucket_key(interval, column), first, last)
    key = _bucket_key(interval, EventDyad.sort_date)
    query = (_dyad_rows(filters, (EventDyad.source_actor, EventDyad.target_actor, key, fn.COUNT(SQL("*"))))
             .where(EventDyad.sort_date != ""))
    if first:
        query = query.where(EventDyad.sort_date >= first)
    if last:
        query = query.where(EventDyad.sort_date <= last)
    return list(query.group_by(EventDyad.source_actor, EventDyad.target_actor, key).tuples())


def _statements(filters: dict, columns):
    """Statements under the statement filters in ``filters`` (the event-only ones are ignored)."""
    names = {entry.name for entry in STATEMENT_FILTERS}
    terms = conditions(STATEMENT_FILTERS, {k: v for k, v in filters.items() if k in names})
    query = Statement.select(*columns)
    return query.where(*terms) if terms else query


def directed_edges(filters: dict, min_weight: int = 1) -> list[dict]:
    """Directed weighted edges: matching events per (source, target) and, separately, statements
    per (speaker, addressee) under the filters statements share; heaviest first."""
    edges: dict = defaultdict(lambda: {"events": 0, "statements": 0, "goldstein_sum": 0.0})
    for dyad in event_dyads(filters):
        edge = edges[dyad.source, dyad.target]
        edge["events"], edge["goldstein_sum"] = dyad.count, dyad.goldstein_sum
    n, total = fn.COUNT(SQL("*")), fn.SUM(fn.COALESCE(Statement.goldstein, 0))
    rows = (_statements(filters, (StatementDyad.source_actor, StatementDyad.target_actor, n, total))
            .join(StatementDyad, on=(StatementDyad.statement == Statement.id))
            .where(_complete(StatementDyad, filters))
            .group_by(StatementDyad.source_actor, StatementDyad.target_actor).tuples())
    for source, target, count, goldstein in rows:
        edge = edges[source, target]
        edge["statements"] = count
        edge["goldstein_sum"] += float(goldstein or 0)
    out = [{"source": s, "target": t, "weight": e["events"] + e["statements"], **e} for (s, t), e in edges.items()]
    out = [e for e in out if e["weight"] >= min_weight]
    return sorted(out, key=lambda e: (-e["weight"], e["source"], e["target"]))


def actor_nodes(ids) -> list[dict]:
    """id, names, kind, country and actor code of each participant in ``ids``."""
    ids = sorted(set(ids))
    found = {}
    for start in range(0, len(ids), 500):
        for row in (Participant.select(Participant.id, Participant.name_en, Participant.name_ar, Participant.kind,
                                       Participant.country, Participant.summary)
                    .where(Participant.id.in_(ids[start:start + 500])).dicts()):
            found[row["id"]] = row
    return [{"id": pid, "name_en": found[pid]["name_en"], "name_ar": found[pid]["name_ar"], "kind": found[pid]["kind"],
             "country": found[pid]["country"], "actor_code": _code(found[pid]["summary"])} for pid in ids if pid in found]


def _code(summary: str) -> str | None:
    return json.loads(summary).get("actor_code")


def actor_event_counts(filters: dict) -> dict[str, int]:
    """Matching events per actor named on either side of a directed pair (once per event)."""
    sides = [event_select(filters, columns=(column.alias("actor"), Event.id.alias("event")))
             .join(EventDyad, on=(EventDyad.event == Event.id)).where(column.is_null(False))
             for column in (EventDyad.source_actor, EventDyad.target_actor)]
    both = sides[0].union(sides[1]).alias("u")
    query = Select([both], [both.c.actor, fn.COUNT(SQL("*"))]).group_by(both.c.actor)
    return dict(query.bind(Event._meta.database).tuples())

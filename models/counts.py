"""Totals, facets and timelines: one counting interface, two ways to count.

A request's counts come from one :class:`Counting`, chosen once per request by
:func:`counting`: :class:`DayCounts` reads the load-time day counts
(models/daycounts.py) in a few index lookups whatever the range, when the
filters are dates plus at most one low-cardinality dimension; :class:`RowCounts`
groups the matching rows otherwise. Both give the same numbers (the tests
compare them). Python only turns the grouped rows into calendar buckets.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from peewee import JOIN, SQL, Select, fn

from . import daycounts
from .buckets import BucketOf, Timeline, buckets_between
from .paging import count
from .queries import event_listing, event_select
from .records import Event, EventCountry, EventParticipant, EventTopic
from .vocabulary import DATE_FILTERS

FACETS = ("cameo_root", "cameo", "status", "plover", "country", "participant", "topic", "place", "precision", "source")
TIMELINE_GROUPS = ("cameo_root", "status", "participant", "topic")
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

    @classmethod
    def of(cls, rows) -> "FacetResult":
        """From (value, events) rows, None being the events without a value."""
        missing, values = 0, []
        for value, n in rows:
            if value is None or value == "":
                missing += n
            elif n:
                values.append((value, n))
        values.sort(key=lambda pair: (-pair[1], str(pair[0])))
        return cls(values, missing)


class Counting:
    """The counts of the events under one set of filters (date filters of a timeline apart)."""

    def __init__(self, filters: dict):
        self.filters = filters

    def total(self) -> int:
        raise NotImplementedError

    def undated(self) -> int:
        """Events with no date at all (date filters ignored)."""
        raise NotImplementedError

    def span(self) -> tuple[str, str] | None:
        """(earliest, latest) anchor date of the dated events (date filters ignored)."""
        raise NotImplementedError

    def anchors(self, first: str | None, last: str | None, interval: str):
        """(bucket key, events, of which not dated to the day) of the events anchored in [first, last]."""
        raise NotImplementedError

    def groups(self, first: str | None, last: str | None, interval: str, group: str, limit: int):
        """((bucket key, value, events) rows for the top ``limit`` values, distinct values)."""
        raise NotImplementedError

    def undated_groups(self, group: str, values: list) -> dict:
        """Events with no date at all per value of ``group``, for ``values`` (date filters ignored)."""
        raise NotImplementedError

    def facet(self, name: str) -> FacetResult:
        raise NotImplementedError


def _undated_filters(filters: dict) -> dict:
    return {k: v for k, v in filters.items() if k not in DATE_FILTERS}


def _rolled_up(facet: str, rows):
    """CAMEO roots are counted by code (an index covers it) and summed per root here."""
    if facet != "cameo_root":
        return rows
    sums: dict = defaultdict(int)
    for code, *rest, n in rows:
        sums[(code[:2] if code else None, *rest)] += n
    return [(*key, n) for key, n in sums.items()]


class RowCounts(Counting):
    """Counts grouped from the matching rows."""

    def total(self) -> int:
        return count(event_listing(self.filters))

    def undated(self) -> int:
        return undated_count(_undated_filters(self.filters))

    def span(self) -> tuple[str, str] | None:
        return timeline_span(_undated_filters(self.filters))

    def anchors(self, first, last, interval):
        rows = timeline_rows(_undated_filters(self.filters), interval, first, last)
        return ((key, n, n if precision != "day" else 0) for key, precision, n in rows)

    def groups(self, first, last, interval, group, limit):
        return timeline_group_rows(_undated_filters(self.filters), interval, first, last, group, limit)

    def undated_groups(self, group, values):
        return undated_group_counts(_undated_filters(self.filters), group, values)

    def facet(self, name: str) -> FacetResult:
        return FacetResult.of(_facet_rows(self.filters, name))


class DayCounts(Counting):
    """Counts read from the load-time day counts, for one (dimension, value)."""

    def __init__(self, filters: dict, key: tuple[str, str]):
        super().__init__(filters)
        self.key = key

    def total(self) -> int:
        return daycounts.total(self.filters)

    def undated(self) -> int:
        return daycounts.undated(self.key)

    def span(self) -> tuple[str, str] | None:
        return daycounts.anchor_span(self.key)

    def anchors(self, first, last, interval):
        return daycounts.anchors(self.key, first, last, interval)

    def groups(self, first, last, interval, group, limit):
        rows = list(daycounts.group_anchors(group, first, last))
        return rows, len({value for _, value, n in rows if n})

    def undated_groups(self, group, values):
        found = daycounts.undated_groups(group)
        return {value: found.get(value, 0) for value in values}

    def facet(self, name: str) -> FacetResult:
        found = daycounts.facet(self.filters, name)
        if found is None:  # a facet the day counts do not hold
            return RowCounts(self.filters).facet(name)
        values, missing = found
        return FacetResult.of([*values, (None, missing)])


def counting(filters: dict, group_by: str | None = None, day_counts: bool = True) -> Counting:
    """The way to count ``filters`` (and a timeline grouped by ``group_by``): day counts when
    they can answer, else rows. ``day_counts=False`` counts the rows anyway (tests compare)."""
    key = daycounts.timeline_dimension(filters, group_by) if day_counts else None
    return RowCounts(filters) if key is None else DayCounts(filters, key)


def facet_counts(filters: dict, facet: str, day_counts: bool = True) -> FacetResult:
    """Events under ``filters`` per value of ``facet``.

    Each event counts once per value (a participant with two roles in one event
    counts once), so for a multi-valued facet the counts can add up to more than
    the number of events. Events without a value are counted apart (``missing``).
    """
    return counting(filters, day_counts=day_counts).facet(facet)


def _facet_rows(filters: dict, facet: str):
    """(value, events) of ``facet`` under ``filters``, None for the events without a value:
    one or two GROUP BY queries."""
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
    return rows



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


def undated_group_counts(filters: dict, group: str, values: list) -> dict:
    """Events under ``filters`` with no date at all per value of ``group``, for ``values``."""
    if not values:
        return {}
    undated = Event.sort_date == ""
    if group in MULTI_VALUED:
        table, column = MULTI_VALUED[group]
        n = fn.COUNT(fn.DISTINCT(Event.id)) if group == "participant" else fn.COUNT(SQL("*"))
        # ``|| ''`` keeps SQLite off the (value, event) index, which it would probe once per value
        # and undated event (0.68 s at 1M): it reads each undated event's links by the primary key
        rows = (event_select(filters, columns=(column, n)).join(table, JOIN.CROSS)
                .where((table.event == Event.id) & undated & column.concat("").in_(values)).group_by(column).tuples())
    else:  # a few values: every one, rolled up to CAMEO roots where asked
        column = Event.cameo_code if group == "cameo_root" else SINGLE_VALUED[group]
        rows = _rolled_up(group, event_select(filters, columns=(column, fn.COUNT(SQL("*"))))
                          .where(undated).group_by(column).tuples())
    found = dict(rows)
    return {value: found.get(value, 0) for value in values}


def _bucket_key(interval: str, column=Event.sort_date):
    """The anchor date, or its month / year prefix (``YYYY-MM``, ``YYYY``): fewer rows to group."""
    if interval == "month":
        return fn.SUBSTR(column, SQL("1"), SQL("7"))  # literals: PostgreSQL matches the GROUP BY by text
    if interval == "year":
        return fn.SUBSTR(column, SQL("1"), SQL("4"))
    return column


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
             group_by: str | None = None, group_limit: int = 20, day_counts: bool = True) -> Timeline:
    """Events per calendar bucket, zero-filled from ``first`` to ``last`` (inclusive).

    An event is counted once, in the bucket of its anchor date: ``date.start``,
    or ``date.end`` when the start is open. Events whose precision is not
    ``day`` (month, year, range) are counted the same way and tallied in
    ``ranged``. Events with no date at all are only tallied in ``undated``.
    ``first``/``last`` bound the anchor date; when absent they default to the
    earliest/latest anchor of the matching events. Date filters in ``filters``
    are ignored (``first``/``last`` take their place).

    Raises :class:`~models.buckets.TooManyBuckets` before any bucket is built if the
    range has too many.
    """
    counts = counting(_undated_filters(filters), group_by, day_counts)
    # only the bounds asked for go into the SQL: a bound that is the data's own span selects
    # nothing less, and it would steer SQLite to the sort_date index instead of a covering one
    bounds = (first.isoformat() if first else None, last.isoformat() if last else None)
    undated = counts.undated()
    first, last = _range(counts, first, last)
    if first is None:  # nothing dated and no range asked: no buckets
        return Timeline(interval, None, None, [], 0, 0, undated, group_by)
    buckets = buckets_between(first, last, interval)
    index = {bucket.start: bucket for bucket in buckets}
    bucket_of = BucketOf(interval)
    result = Timeline(interval, first, last, buckets, 0, 0, undated, group_by)
    for key, n, not_to_the_day in counts.anchors(*bounds, interval):
        bucket = index[bucket_of[key]]
        bucket.count += n
        bucket.ranged += not_to_the_day
        result.total += n
        result.ranged += not_to_the_day
    if group_by:
        rows, result.groups_total = counts.groups(*bounds, interval, group_by, group_limit)
        _fill_groups(result, rows, group_limit, bucket_of)
        result.undated_groups = counts.undated_groups(group_by, [value for value, _ in result.groups])
    return result


def _range(counts: Counting, first: dt.date | None, last: dt.date | None):
    """The range a timeline covers: as asked, the open ends taken from the data's span."""
    if first is not None and last is not None:
        return first, last
    span = counts.span()
    if span is None:
        return first or last, last or first
    earliest, latest = dt.date.fromisoformat(span[0]), dt.date.fromisoformat(span[1])
    if first is None:
        first = min(earliest, last) if last else earliest
    if last is None:
        last = max(latest, first)
    return first, last


def _fill_groups(result: Timeline, rows, group_limit: int, bucket_of: BucketOf) -> None:
    """Each bucket's counts of the ``group_limit`` values with the most events over the range."""
    per_bucket: dict[dt.date, dict] = defaultdict(lambda: defaultdict(int))
    totals: dict[str, int] = defaultdict(int)
    for key, value, n in rows:
        per_bucket[bucket_of[key]][value] += n
        totals[value] += n
    result.groups = sorted(totals.items(), key=lambda pair: (-pair[1], str(pair[0])))[:group_limit]
    for bucket in result.buckets:
        counts = per_bucket.get(bucket.start, {})
        bucket.groups = {value: counts.get(value, 0) for value, _ in result.groups}

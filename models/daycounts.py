"""Event counts per day, computed once at load time, for totals, facets and timelines.

A dashboard asks the same few questions of millions of events: how many match
a date range, how many per CAMEO root or status in that range, how many per
month. Counting rows for each request reads every matching row; the counts
here are read in a few index lookups whatever the size of the range.

For each *dimension* (all events, CAMEO root, status, PLOVER type, date
precision, country) and each of its values, :class:`EventDayCount` holds, per
day, the events whose

* ``lo`` edge is that day: the start date (``''`` when only the end is known),
* ``hi`` edge is that day: the end date (no row when the end is open),
* ``anchor`` is that day: the date a timeline files the event under (see
  ``Event.sort_date``), with how many of them are not dated to the day,

with ``cum`` the running total up to that day, and one ``undated`` row (day
``''``) counting the events without any date. Since an event's start is never
after its end, the events overlapping ``[from, to]`` are those with
``lo <= to`` minus those with ``hi < from``: two lookups of ``cum``.

A value of ``''`` stands for "none" (no PLOVER type, no country). A request
whose filters are more than the dates and one dimension is counted from the
rows instead (models/queries.py, models/stats.py); tests/test_daycounts.py
checks that both ways agree.
"""
from __future__ import annotations

from collections import defaultdict
from itertools import groupby

from peewee import Select, fn

from .records import EventDayCount

#: filter name -> dimension; ``type`` only when it is a CAMEO root (two digits)
FILTER_DIMENSIONS = {"type": "cameo_root", "status": "status", "plover": "plover", "country": "country"}
#: facet / timeline group name -> dimension
FACET_DIMENSIONS = {"cameo_root": "cameo_root", "status": "status", "plover": "plover", "precision": "precision",
                    "country": "country"}
DATE_FILTERS = ("from", "to", "include_undated")


# --------------------------------------------------------------------------- building (at load time)


class DayCounter:
    """Collects the counts while the loader writes events; ``rows()`` gives the table."""

    def __init__(self):
        # (dimension, edge, value, day) -> [events, of which not dated to the day]
        self.counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])

    def add(self, *, start: str | None, end: str | None, anchor: str, precision: str, cameo_root: str,
            status: str, plover: str | None, countries) -> None:
        values = [("", ""), ("cameo_root", cameo_root), ("status", status), ("plover", plover or ""),
                  ("precision", precision)]
        values.extend(("country", c) for c in countries or [""])
        counts = self.counts
        if not anchor:
            for dimension, value in values:
                counts[(dimension, "undated", value, "")][0] += 1
            return
        ranged = precision != "day"
        for dimension, value in values:
            counts[(dimension, "lo", value, start or "")][0] += 1
            if end:
                counts[(dimension, "hi", value, end)][0] += 1
            entry = counts[(dimension, "anchor", value, anchor)]
            entry[0] += 1
            entry[1] += ranged

    def rows(self):
        """Row tuples (dimension, edge, value, day, n, ranged, cum), in key order.

        Every (dimension, value) gets an ``undated`` row, even of 0: the facets read
        the list of values from those rows.
        """
        counts = self.counts
        for dimension, _, value, _ in list(counts):
            counts.setdefault((dimension, "undated", value, ""), [0, 0])
        for _, group in groupby(sorted(counts.items()), key=lambda item: item[0][:3]):
            running = 0
            for (dimension, edge, value, day), (n, ranged) in group:
                running += n
                yield (dimension, edge, value, day, n, ranged, running)


# --------------------------------------------------------------------------- reading


def dimension_of(filters: dict) -> tuple[str, str] | None:
    """The (dimension, value) whose counts answer ``filters``, or None if they cannot.

    Dates are answered by any dimension; besides them at most one of ``type``
    (a CAMEO root), ``status``, ``plover`` or ``country`` can be.
    """
    rest = {key: value for key, value in filters.items() if key not in DATE_FILTERS}
    if not rest:
        return ("", "")
    if len(rest) > 1:
        return None
    ((name, value),) = rest.items()
    if name not in FILTER_DIMENSIONS or (name == "type" and len(value) != 2):
        return None
    return (FILTER_DIMENSIONS[name], value)


def _cum(dimension, edge: str, value, day: str | None, before: bool = False):
    """The running total of ``edge`` rows up to ``day`` (strictly before it with ``before``)."""
    row = EventDayCount.alias()
    query = row.select(row.cum).where((row.dimension == dimension) & (row.edge == edge) & (row.value == value))
    if day is not None:
        query = query.where(row.day < day if before else row.day <= day)
    return fn.COALESCE(query.order_by(row.day.desc()).limit(1), 0)


def _overlapping(dimension, value, filters: dict):
    """An expression counting the events of (dimension, value) under the date filters."""
    start, end = filters.get("from"), filters.get("to")
    undated = _cum(dimension, "undated", value, None)
    if not start and not end:  # no date filter: every event, dated or not
        return _cum(dimension, "lo", value, None) + undated
    count = _cum(dimension, "lo", value, end)
    if start:
        count = count - _cum(dimension, "hi", value, start, before=True)
    return count + undated if filters.get("include_undated") else count


def total(filters: dict) -> int | None:
    """Events under ``filters``, or None when the counts cannot answer them."""
    key = dimension_of(filters)
    if key is None:
        return None
    return Select(columns=[_overlapping(*key, filters)]).bind(EventDayCount._meta.database).scalar()


def facet(filters: dict, facet_name: str) -> tuple[list[tuple[str, int]], int] | None:
    """([(value, events)], events without a value) under ``filters``, or None when the
    counts cannot answer (filters other than dates, or a facet they do not hold)."""
    if dimension_of(filters) != ("", "") or facet_name not in FACET_DIMENSIONS:
        return None
    dimension = FACET_DIMENSIONS[facet_name]
    values = EventDayCount.alias("v")
    query = (values.select(values.value, _overlapping(dimension, values.value, filters))
             .where((values.dimension == dimension) & (values.edge == "undated")))
    found, missing = [], 0
    for value, n in query.tuples():
        if value == "":
            missing = n
        elif n:
            found.append((value, n))
    return found, missing


def timeline_dimension(filters: dict, group_by: str | None) -> tuple[str, str] | None:
    """The (dimension, value) a timeline under ``filters`` reads, or None."""
    key = dimension_of(filters)
    if key is None or (group_by and (key != ("", "") or group_by not in ("cameo_root", "status"))):
        return None
    return key


def anchors(key: tuple[str, str], first: str | None, last: str | None):
    """(day, events, of which not dated to the day) of the dated events anchored in [first, last]."""
    query = _anchor_rows(key[0], first, last).select(EventDayCount.day, EventDayCount.n, EventDayCount.ranged)
    return query.where(EventDayCount.value == key[1]).tuples()


def group_anchors(group_by: str, first: str | None, last: str | None):
    """(day, value, events) of every value of a timeline group, anchored in [first, last]."""
    query = _anchor_rows(FACET_DIMENSIONS[group_by], first, last)
    return query.select(EventDayCount.day, EventDayCount.value, EventDayCount.n).tuples()


def _anchor_rows(dimension: str, first: str | None, last: str | None):
    query = EventDayCount.select().where((EventDayCount.dimension == dimension) & (EventDayCount.edge == "anchor"))
    if first:
        query = query.where(EventDayCount.day >= first)
    if last:
        query = query.where(EventDayCount.day <= last)
    return query


def anchor_span(key: tuple[str, str]) -> tuple[str, str] | None:
    """(earliest, latest) anchor day of the events of (dimension, value), None if none is dated."""
    where = ((EventDayCount.dimension == key[0]) & (EventDayCount.edge == "anchor") & (EventDayCount.value == key[1]))
    first = EventDayCount.select(fn.MIN(EventDayCount.day)).where(where)
    last = EventDayCount.select(fn.MAX(EventDayCount.day)).where(where)
    row = Select(columns=[first, last]).bind(EventDayCount._meta.database).tuples().first()
    return (row[0], row[1]) if row and row[0] else None


def undated(key: tuple[str, str]) -> int:
    return Select(columns=[_cum(key[0], "undated", key[1], None)]).bind(EventDayCount._meta.database).scalar()

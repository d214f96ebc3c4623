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

from collections import Counter

from peewee import SQL, Select, fn

from .records import EventDayCount
from .vocabulary import DATE_FILTERS

#: filter name -> dimension; ``type`` only when it is a CAMEO root (two digits)
FILTER_DIMENSIONS = {"type": "cameo_root", "status": "status", "plover": "plover", "country": "country"}
#: facet / timeline group name -> dimension
FACET_DIMENSIONS = {"cameo_root": "cameo_root", "status": "status", "plover": "plover", "precision": "precision",
                    "country": "country"}


# --------------------------------------------------------------------------- building (at load time)


class DayCounter:
    """Collects the counts while the loader writes events; ``rows()`` gives the table.

    A million events make about 1.5 million keys: each is one string
    ``dimension|edge|value|day`` (separated by \\x1f, which no code or date holds)
    with an int, not a tuple and a list, to keep the loader's memory down.
    """

    SEP = "\x1f"

    def __init__(self):
        self.counts: Counter[str] = Counter()  # key -> events
        self.ranged: Counter[str] = Counter()  # anchor key -> events not dated to the day

    def add(self, *, start: str | None, end: str | None, anchor: str, precision: str, cameo_root: str,
            status: str, plover: str | None, countries) -> None:
        s = self.SEP
        values = [("", ""), ("cameo_root", cameo_root), ("status", status), ("plover", plover or ""),
                  ("precision", precision)]
        values.extend(("country", c) for c in countries or [""])
        counts = self.counts
        if not anchor:
            for dimension, value in values:
                counts[f"{dimension}{s}undated{s}{value}{s}"] += 1
            return
        ranged = precision != "day"
        for dimension, value in values:
            counts[f"{dimension}{s}lo{s}{value}{s}{start or ''}"] += 1
            if end:
                counts[f"{dimension}{s}hi{s}{value}{s}{end}"] += 1
            key = f"{dimension}{s}anchor{s}{value}{s}{anchor}"
            counts[key] += 1
            if ranged:
                self.ranged[key] += 1

    def rows(self):
        """Row tuples (dimension, edge, value, day, n, ranged, cum), in key order.

        Every (dimension, value) gets an ``undated`` row, even of 0: the facets read
        the list of values from those rows.
        """
        sep = self.SEP
        counts = self.counts
        for key in list(counts):
            dimension, _, value, _ = key.split(sep)
            undated = sep.join((dimension, "undated", value, ""))
            if undated not in counts:
                counts[undated] = 0
        running, group = 0, None
        for key in sorted(counts):
            dimension, edge, value, day = key.split(sep)
            if (dimension, edge, value) != group:
                group, running = (dimension, edge, value), 0
            n = counts[key]
            running += n
            yield (dimension, edge, value, day, n, self.ranged.get(key, 0), running)


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
    ((name, values),) = rest.items()
    values = values if isinstance(values, list) else [values]
    if name not in FILTER_DIMENSIONS or len(values) != 1:
        return None  # several values of one filter (an OR) are counted from the rows
    if name == "type" and len(values[0]) != 2:
        return None
    return (FILTER_DIMENSIONS[name], values[0])


def _cum(dimension, edge: str, value, day: str | None, before: bool = False):
    """The running total of ``edge`` rows up to ``day`` (strictly before it with ``before``)."""
    row = EventDayCount.alias()
    query = row.select(row.cum).where((row.dimension == dimension) & (row.edge == edge) & (row.value == value))
    if day is not None:
        query = query.where(row.day < day if before else row.day <= day)
    return fn.COALESCE(query.order_by(row.day.desc()).limit(1), 0)


def _running_totals(filters: dict) -> list[tuple[int, str, str | None, bool]]:
    """The running totals whose signed sum counts the events under the date filters, as
    (sign, edge, day, before) of :func:`_cum`: the events that start by ``to``, less those
    that ended before ``from``, and the undated ones when they count."""
    start, end = filters.get("from"), filters.get("to")
    if not start and not end:  # no date filter: every event, dated or not
        return [(1, "lo", None, False), (1, "undated", None, False)]
    totals = [(1, "lo", end, False)]
    if start:
        totals.append((-1, "hi", start, True))
    if filters.get("include_undated"):
        totals.append((1, "undated", None, False))
    return totals


def _overlapping(dimension, value, filters: dict):
    """An expression counting the events of (dimension, value) under the date filters."""
    count = None
    for sign, edge, day, before in _running_totals(filters):
        term = _cum(dimension, edge, value, day, before)
        count = term if count is None else count + term if sign > 0 else count - term
    return count


def total(filters: dict) -> int | None:
    """Events under ``filters``, or None when the counts cannot answer them."""
    key = dimension_of(filters)
    if key is None:
        return None
    # SQL text (the query of :func:`_overlapping`): every page with new filters runs it, and
    # building it through the query builder cost more than running it
    database = EventDayCount._meta.database
    mark, table = database.param, EventDayCount._meta.table_name
    terms, params = [], []
    for sign, edge, day, before in _running_totals(filters):
        bound = "" if day is None else f' AND "day" {"<" if before else "<="} {mark}'
        terms.append(("+" if sign > 0 else "-") + f' COALESCE((SELECT "cum" FROM "{table}" WHERE "dimension" = {mark}'
                     f' AND "edge" = {mark} AND "value" = {mark}{bound} ORDER BY "day" DESC LIMIT 1), 0)')
        params += [key[0], edge, key[1], *([] if day is None else [day])]
    return database.execute_sql("SELECT 0 " + " ".join(terms), params).fetchone()[0]


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


#: intervals whose buckets are summed by the database: (day prefix length) ``YYYY-MM``, ``YYYY``
PREFIXES = {"month": 7, "year": 4}


def anchors(key: tuple[str, str], first: str | None, last: str | None, interval: str = "day"):
    """(day, events, of which not dated to the day) of the dated events anchored in [first, last];
    for months and years the day is its ``YYYY-MM`` / ``YYYY`` prefix, one row per bucket."""
    rows = _anchor_rows(key[0], first, last).where(EventDayCount.value == key[1])
    if interval not in PREFIXES:
        return rows.select(EventDayCount.day, EventDayCount.n, EventDayCount.ranged).tuples()
    # literals, not parameters: PostgreSQL matches the GROUP BY expression by its text
    bucket = fn.SUBSTR(EventDayCount.day, SQL("1"), SQL(str(PREFIXES[interval])))
    return (rows.select(bucket, fn.SUM(EventDayCount.n), fn.SUM(EventDayCount.ranged))
            .group_by(bucket).tuples())


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


def undated_groups(group_by: str) -> dict[str, int]:
    """Events with no date at all per value of a timeline group (its one ``undated`` row each)."""
    query = (EventDayCount.select(EventDayCount.value, EventDayCount.cum)
             .where((EventDayCount.dimension == FACET_DIMENSIONS[group_by]) & (EventDayCount.edge == "undated")))
    return {value: n for value, n in query.tuples() if n}

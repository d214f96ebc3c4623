"""Dyad counts built at load time: what /v1/stats/dyads reads instead of ``event_dyad``.

A dyad count is a question about date ranges: how many events of each directed
pair overlap [from, to]. Pairs are many and sparse (a generated corpus of 20,000
events has 21,000 pairs, most with one to three events), so running totals per
pair (as ``event_day_count`` keeps per dimension) would cost one lookup per pair
whatever the range: measured, no faster than reading the rows. What the rows need
instead is locality: :class:`~models.records.DyadCount` holds the complete dyads
(both sides named) summed per (start, end, pair, QuadClass), read index-only. An
event overlapping [from, to] (disjoint cases, each an index range):

* starts in [from, to];
* started before ``from`` and ends on or after it: per span class c (an interval
  of at most 2**c - 1 days), a start in [from - (2**c - 1), from): day-dated events,
  most of them, are never read outside the range, year-dated ones a year before;
* started before ``from`` and has no end;
* has only an end, on or after ``from``.

A long range holds most of the rows, and summing them per pair is then a sort of all of
them (at 1M events a five-year range is ~800,000 rows: more than the 2 s budget). Such a
range is read whole instead, in pair order (records.DYAD_PAIR_ORDER), each pair summed as
its rows come and the rows outside the range passed over: see :data:`WHOLE_SCAN_SHARE`.

A request whose filters are more than dates, sides and quad_class is counted from
the events (models/dyads.py); tests/test_dyad_counts.py checks both ways agree.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from peewee import Select, fn

from . import backends
from .filters import as_list
from .records import DYAD_PAIR_ORDER, DyadCount, index_name

#: Goldstein sums are kept in these units
E4 = 10_000
#: filters the dyad counts answer alone
DYAD_ONLY = {"from", "to", "include_undated", "source_actor", "target_actor", "quad_class"}
#: a date range covering more than this share of the days the counts span is read whole, in
#: pair order: passing over a row outside the range costs about a tenth of sorting one inside it
#: (at 1M generated events, 2026-12-02: the whole table 0.64 s, a range of 1.4 years 0.44 s and
#: of 2.4 years 0.87 s as index ranges; the two cost the same at ~11 % of the sixteen years)
WHOLE_SCAN_SHARE = 0.10


# --------------------------------------------------------------------------- building (at load time)


class DyadCounter:
    """Collects the counts while the loader writes events (and, for an incremental load, the
    counts of the events it removes); ``rows()`` gives the table."""

    def __init__(self):
        # (start, end, source, target, quad_class) -> [events, Goldstein sum in ten-thousandths]
        self.counts: dict[tuple, list] = defaultdict(lambda: [0, 0])

    def add(self, *, start: str | None, end: str | None, source: str | None, target: str | None,
            quad_class: int | None, goldstein: float | None) -> None:
        if source is None or target is None:  # a side named alone is not a dyad
            return
        count = self.counts[start or "", end or "", source, target, quad_class or 0]
        count[0] += 1
        count[1] += in_e4(goldstein)

    def rows(self):
        for key in sorted(self.counts):
            n, goldstein = self.counts[key]
            if n:
                yield row_of(key, n, goldstein)


#: the complete dyads of ``event_dyad`` grouped by DyadCount's key and Goldstein score, in key order
_GROUPED_DYADS = (
    "SELECT COALESCE(date_start, ''), COALESCE(date_end, ''), source_actor, target_actor, COALESCE(quad_class, 0), "
    "goldstein, COUNT(*) FROM event_dyad WHERE source_actor IS NOT NULL AND target_actor IS NOT NULL "
    "GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6")


def rows_from_event_dyads(db):
    """The table's rows summed from the written ``event_dyad`` rows (a full load): the database
    groups them, so the loader holds one key at a time, where a :class:`DyadCounter` of a
    million events held ~2.2 million keys (~0.5 GiB). Grouped by score too, so that each score
    is rounded as :meth:`DyadCounter.add` rounds it and the sums are the same to the unit."""
    key, n, goldstein = None, 0, 0
    for *columns, score, events in db.execute_sql(_GROUPED_DYADS):
        here = tuple(columns)
        if here != key:
            if key is not None:
                yield row_of(key, n, goldstein)
            key, n, goldstein = here, 0, 0
        n += events
        goldstein += events * in_e4(score)
    if key is not None:
        yield row_of(key, n, goldstein)


def in_e4(goldstein: float | None) -> int:
    """One event's Goldstein score in the units of the sums (a missing score counts 0)."""
    return round((goldstein or 0.0) * E4)


def row_of(key: tuple, n: int, goldstein_e4: int) -> dict:
    start, end, source, target, quad = key
    span = (dt.date.fromisoformat(end) - dt.date.fromisoformat(start)).days if start and end else None
    return {"date_start": start, "date_end": end, "source_actor": source, "target_actor": target, "quad_class": quad,
            "span_class": None if span is None else span.bit_length(), "n": n, "goldstein_e4": goldstein_e4}


# --------------------------------------------------------------------------- reading


def answers(filters: dict) -> bool:
    return set(filters) <= DYAD_ONLY


def _longest_span_class() -> int:
    return DyadCount.select(fn.MAX(DyadCount.span_class)).scalar() or 0


def _sides(query, filters: dict):
    if filters.get("source_actor"):
        query = query.where(DyadCount.source_actor.in_(as_list(filters["source_actor"])))
    if filters.get("target_actor"):
        query = query.where(DyadCount.target_actor.in_(as_list(filters["target_actor"])))
    if filters.get("quad_class"):
        query = query.where(DyadCount.quad_class.in_(sorted({int(v) for v in as_list(filters["quad_class"])})))
    return query


def _branches(filters: dict, columns) -> list:
    """Selects of the rows overlapping the filters' dates, each an index range; their union
    (disjoint) is every matching row."""
    start, end = filters.get("from"), filters.get("to")
    d = DyadCount

    def select(*terms):
        query = _sides(d.select(*columns), filters)
        return query.where(*terms) if terms else query

    if not start and not end:  # no date filter: every row, dated or not
        return [select()]
    end = end or "9999-12-31"
    branches = []
    if start:
        first = dt.date.fromisoformat(start)
        branches.append(select(d.date_start.between(start, end)))  # starts in the range
        for span_class in range(1, _longest_span_class() + 1):  # began before it, still running at ``from``
            earliest = (first - dt.timedelta(days=2 ** span_class - 1)).isoformat()
            branches.append(select(d.span_class == span_class, d.date_start >= earliest, d.date_start < start,
                                   d.date_end >= start))
        branches.append(select(d.date_end == "", d.date_start > "", d.date_start < start))  # began, no end
        branches.append(select(d.date_start == "", d.date_end >= start))  # only an end
    else:
        branches.append(select(d.date_start > "", d.date_start <= end))
        branches.append(select(d.date_start == "", d.date_end > ""))
    if filters.get("include_undated"):
        branches.append(select(d.date_start == "", d.date_end == ""))
    return branches


def _overlapping(filters: dict):
    """The condition the index ranges of :func:`_branches` stand for (rows overlapping the
    filters' dates), for a whole scan; None when there is no date filter."""
    start, end = filters.get("from"), filters.get("to")
    d = DyadCount
    if not start and not end:
        return None
    end = end or "9999-12-31"
    if start:
        condition = (d.date_start.between(start, end)
                     | ((d.date_start > "") & (d.date_start < start) & ((d.date_end >= start) | (d.date_end == "")))
                     | ((d.date_start == "") & (d.date_end >= start)))
    else:
        condition = ((d.date_start > "") & (d.date_start <= end)) | ((d.date_start == "") & (d.date_end > ""))
    if filters.get("include_undated"):
        condition |= (d.date_start == "") & (d.date_end == "")
    return condition


def _reads_whole(filters: dict) -> bool:
    """Whether the filters' dates cover more than :data:`WHOLE_SCAN_SHARE` of the days the dated
    counts span (two index lookups; no dates: every row)."""
    start, end = filters.get("from"), filters.get("to")
    if not start and not end:
        return True
    d = DyadCount
    first = d.select(fn.MIN(d.date_start)).where(d.date_start > "").scalar()
    last = d.select(fn.MAX(d.date_start)).scalar()
    if not first:
        return False
    low, high = max(start or first, first), min(end or last, last)
    if low > high:
        return False
    days = (dt.date.fromisoformat(last) - dt.date.fromisoformat(first)).days + 1
    return ((dt.date.fromisoformat(high) - dt.date.fromisoformat(low)).days + 1) / days > WHOLE_SCAN_SHARE


def _pairs_grouped(filters: dict) -> tuple[str, list]:
    """(SQL, parameters) of (s, t, n, g): the matching rows summed per directed pair."""
    d = DyadCount
    db = d._meta.database
    columns = (d.source_actor.alias("s"), d.target_actor.alias("t"), fn.SUM(d.n).alias("n"),
               fn.SUM(d.goldstein_e4).alias("g"))
    if _reads_whole(filters):
        query = _sides(d.select(*columns), filters)
        condition = _overlapping(filters)
        if condition is not None:
            query = query.where(condition)
        sql, params = query.group_by(d.source_actor, d.target_actor).bind(db).sql()
        table = f'"{d._meta.table_name}" AS "t1"'
        assert sql.count(f"FROM {table}") == 1, sql
        return sql.replace(f"FROM {table}", "FROM " + backends.of(db).in_index_order(
            table, index_name(d, DYAD_PAIR_ORDER))), params
    branches = _branches(filters, (d.source_actor.alias("s"), d.target_actor.alias("t"), d.n.alias("n"),
                                   d.goldstein_e4.alias("g")))
    union = branches[0]
    for branch in branches[1:]:
        union = union.union_all(branch)
    rows = union.alias("r")
    return (Select([rows], [rows.c.s.alias("s"), rows.c.t.alias("t"), fn.SUM(rows.c.n).alias("n"),
                            fn.SUM(rows.c.g).alias("g")])
            .group_by(rows.c.s, rows.c.t)).bind(db).sql()


def pair_totals(filters: dict) -> list[tuple[str, str, int, float]]:
    """(source, target, events, Goldstein sum) of every pair with matching events."""
    db = DyadCount._meta.database
    # the driver's rows as they come (thousands of pairs: peewee's per-row wrapping costs more than the SQL)
    cursor = db.execute_sql(*_pairs_grouped(filters))
    return [(s, t, int(n), int(g) / E4) for s, t, n, g in cursor.fetchall()]


def top_pair_totals(filters: dict, limit: int) -> tuple[list[tuple[str, str, int, float]], int]:
    """The pairs that can be among the ``limit`` with most events (every pair tied with the
    last of them included: the caller orders ties by name, which the database's collation need
    not agree with), and how many pairs match in all. Ranked and counted by the database: at
    1M events a five-year range has ~150,000 pairs, and carrying them all into Python to keep
    100 cost more than summing them. The pairs are summed once (a materialised table), then
    counted, and those with at least the events of the ``limit``-th kept (a window function's
    rank over them cost more than summing them at 100,000 events)."""
    db = DyadCount._meta.database
    grouped, params = _pairs_grouped(filters)
    sql = (f"WITH pairs AS MATERIALIZED ({grouped}) SELECT s, t, n, g, (SELECT COUNT(*) FROM pairs) FROM pairs "
           f"WHERE n >= COALESCE((SELECT n FROM pairs ORDER BY n DESC LIMIT 1 OFFSET {db.param}), 0)")
    rows = db.execute_sql(sql, [*params, limit - 1]).fetchall()
    found = int(rows[0][4]) if rows else 0
    return [(s, t, int(n), int(g) / E4) for s, t, n, g, _ in rows], found


def anchor_rows(filters: dict, key_of, first: str | None, last: str | None):
    """(source, target, bucket key, events) of the dated matching rows whose anchor date (start,
    else end) lies in [first, last]; ``key_of(column)`` gives the bucket key of a date column."""
    d = DyadCount
    out = []
    for column, terms in ((d.date_start, [d.date_start > ""]), (d.date_end, [d.date_start == "", d.date_end > ""])):
        if first:
            terms.append(column >= first)
        if last:
            terms.append(column <= last)
        key = key_of(column)
        query = (_sides(d.select(d.source_actor, d.target_actor, key, fn.SUM(d.n)), filters).where(*terms)
                 .group_by(d.source_actor, d.target_actor, key))
        out.extend(query.tuples())
    return out


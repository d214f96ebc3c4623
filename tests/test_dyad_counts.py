"""The dyad counts built at load time (models/dyadcounts.py) answer as grouping event_dyad does.

/v1/stats/dyads reads ``dyad_count`` when the filters are only dates, sides and
quad_class, and groups the dyad rows of the matching events otherwise. Both ways
must give the same pairs, counts, Goldstein sums and series: checked on the
generated corpus (every date precision, open ranges, undated events) with seeded
random filter combinations, on SQLite and PostgreSQL.
"""
from __future__ import annotations

import datetime as dt
import random

import pytest

from models import dyadcounts, dyads
from models.buckets import TooManyBuckets

from .conftest import count_queries, loaded_url
from .test_daycounts import random_dates

QUADS = [None, ["1"], ["3"], ["2", "4"], ["1", "2", "3", "4"]]


@pytest.fixture(scope="module")
def generated_app(synthetic_root, backend, tmp_path_factory, request):
    from api import create_app

    url = loaded_url(backend, tmp_path_factory, request, root=synthetic_root)
    # no time budget: a test runs hundreds of queries in one bound request, where a request of
    # the API runs a handful and its window (models.backends.REQUEST_BUDGETS) would end the test
    return create_app({"DATABASE_URL": url, "TESTING": True, "TIME_BUDGET": 0})


def bound(app):
    # /readyz is never answered from the response cache: preprocessing it binds the models to
    # this app's database (and opens its read snapshot) as a data request does
    context = app.test_request_context("/readyz")
    context.push()
    app.preprocess_request()
    return context


def answer(found: list) -> list:
    return [(d.source, d.target, d.count, round(d.goldstein_sum, 4), d.goldstein_mean) for d in found]


def filter_sets(seed: int, n: int, pairs: list[tuple[str, str]]) -> list[dict]:
    rng = random.Random(seed)
    sets = [{}, {"include_undated": True}, {"from": "2015-03-01"}, {"to": "2012-06-30"},
            {"from": "2016-01-01", "to": "2016-01-01"}, {"from": "2009-01-01", "to": "2030-12-31", "include_undated": True}]
    for _ in range(n):
        filters = random_dates(rng, dt.date(2010, 1, 1), dt.date(2025, 12, 31))
        quad = rng.choice(QUADS)
        if quad:
            filters["quad_class"] = quad
        side = rng.random()
        source, target = rng.choice(pairs)
        if side < 0.15:
            filters["source_actor"] = [source]
        elif side < 0.3:
            filters["target_actor"] = [target, rng.choice(pairs)[1]]
        elif side < 0.4:
            filters.update(source_actor=[source], target_actor=[target])
        sets.append(filters)
    return sets


def test_dyad_counts_agree_with_grouping_the_rows(generated_app):
    context = bound(generated_app)
    try:
        everything = dyads.event_dyads({}, dyad_counts=False)
        assert len(everything) > 1_000 and dyadcounts.answers({"from": "2015-01-01", "quad_class": ["1"]})
        pairs = [(d.source, d.target) for d in everything[:200]]
        nonempty = 0
        for filters in filter_sets(16, 150, pairs):
            fast = dyads.event_dyads(filters)
            assert answer(fast) == answer(dyads.event_dyads(filters, dyad_counts=False)), filters
            nonempty += bool(fast)
            shown, total = dyads.top_dyads(filters, 25)
            assert (answer(shown), total) == (answer(fast[:25]), len(fast))
        assert nonempty > 100  # the filters mostly select something
    finally:
        context.pop()


@pytest.mark.parametrize("interval", ["day", "week", "month", "year"])
def test_dyad_series_agree_with_grouping_the_rows(generated_app, interval):
    context = bound(generated_app)
    try:
        pairs = [(d.source, d.target) for d in dyads.event_dyads({})[:200]]
        for filters in filter_sets(len(interval), 30, pairs):
            series = []
            for fast in (True, False):
                shown = dyads.event_dyads(filters, dyad_counts=fast)[:20]
                try:
                    buckets = dyads.dyad_series(filters, shown, interval, filters.get("from"), filters.get("to"),
                                                dyad_counts=fast)
                except TooManyBuckets:
                    buckets = "too many"
                series.append((buckets, [(d.source, d.target, d.series) for d in shown]))
            assert series[0] == series[1], filters
    finally:
        context.pop()


def test_the_dyad_counts_answer_without_reading_event_dyad(generated_app):
    client = generated_app.test_client()
    fast = "/v1/stats/dyads?from=2014-01-01&to=2016-12-31&quad_class=1,3&interval=month&limit=50"
    with count_queries() as statements:
        assert client.get(fast).status_code == 200
    assert any('"dyad_count"' in sql for sql in statements)
    assert not any('"event_dyad"' in sql for sql in statements), statements
    # a filter the counts do not hold (a CAMEO root) groups the dyad rows: the check above can fail
    with count_queries() as statements:
        assert client.get(fast + "&type=04").status_code == 200
    assert any('"event_dyad"' in sql for sql in statements)


def test_a_full_loads_dyad_counts_summed_by_the_database_equal_a_counter_of_every_dyad(generated_app):
    """A full load sums event_dyad in the database (dyadcounts.rows_from_event_dyads); an
    incremental one adds and removes DyadCounter sums. Both must give the same rows, Goldstein
    sums to the unit, or an incremental load would drift from a full one."""
    from models.records import DyadCount, EventDyad

    context = bound(generated_app)
    try:
        counter = dyadcounts.DyadCounter()
        for start, end, source, target, quad, goldstein in EventDyad.select(
                EventDyad.date_start, EventDyad.date_end, EventDyad.source_actor, EventDyad.target_actor,
                EventDyad.quad_class, EventDyad.goldstein).tuples():
            counter.add(start=start, end=end, source=source, target=target, quad_class=quad, goldstein=goldstein)
        columns = list(next(counter.rows()))
        counted = sorted(tuple(row[c] for c in columns) for row in counter.rows())
        summed = sorted(tuple(row[c] for c in columns)
                        for row in dyadcounts.rows_from_event_dyads(EventDyad._meta.database))
        stored = sorted(DyadCount.select(*[DyadCount._meta.fields[c] for c in columns]).tuples())
        assert len(counted) > 1000 and len({row[-1] for row in counted}) > 50  # many keys, many sums
        assert summed == counted
        assert stored == counted
    finally:
        context.pop()


def test_a_long_range_read_whole_answers_as_the_index_ranges(generated_app, monkeypatch):
    """A range past WHOLE_SCAN_SHARE of the days is read whole, in pair order; the same filters
    read as index ranges give the same pairs, counts, sums and number of pairs. On SQLite the
    whole read sums the pairs as they come (no sort of the rows by pair)."""
    from models import backends
    from models.records import DYAD_PAIR_ORDER, DyadCount, index_name

    context = bound(generated_app)
    try:
        pairs = [(d.source, d.target) for d in dyads.event_dyads({})[:200]]
        chosen = {dyadcounts._reads_whole(f) for f in filter_sets(7, 60, pairs) if f.get("from") or f.get("to")}
        assert chosen == {True, False}  # the random ranges take both ways by themselves
        for filters in filter_sets(8, 60, pairs):
            ways = []
            for share in (2.0, 0.0):  # (no dates at all is always read whole)
                monkeypatch.setattr(dyadcounts, "WHOLE_SCAN_SHARE", share)
                ways.append((sorted(dyadcounts.pair_totals(filters)), dyadcounts.top_pair_totals(filters, 10)))
            (all_ranges, (top_ranges, found_ranges)), (all_whole, (top_whole, found_whole)) = ways
            assert all_ranges == all_whole, filters
            assert sorted(top_ranges) == sorted(top_whole) and found_ranges == found_whole == len(all_whole), filters
        db = DyadCount._meta.database
        if backends.of(db).name == "sqlite":
            sql, params = dyadcounts._pairs_grouped({"from": "2011-01-01", "to": "2024-12-31"})
            plan = " | ".join(row[-1] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
            assert index_name(DyadCount, DYAD_PAIR_ORDER) in plan and "TEMP B-TREE" not in plan, plan
    finally:
        context.pop()

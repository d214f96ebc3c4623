"""The day counts built at load time (models/daycounts.py) answer as counting the rows does.

Totals, facets and timelines are read from ``event_day_count`` when the filters
are dates plus at most one dimension; everything else counts rows. Both ways
must agree on every filter: checked on the generated dataset (5,000 events with
every date precision, open ranges and undated events) with seeded random
filters, and on the article on both backends. The date-split pages
(``queries.event_listing``) are compared with the one-select pages the same way.
"""
from __future__ import annotations

import datetime as dt
import random

import pytest

from models import counts, daycounts, paging, queries
from models.db import open_database
from models.records import TABLES, Event, EventDayCount

DIMENSION_FILTERS = [{}, {"type": "04"}, {"type": "19"}, {"status": "occurred"}, {"status": "planned"},
                     {"plover": "CONSULT"}, {"country": "SYR"}, {"country": "IRN"}]
FACETS = sorted(daycounts.FACET_DIMENSIONS)


def random_dates(rng: random.Random, low: dt.date, high: dt.date) -> dict:
    span = (high - low).days
    a = low + dt.timedelta(days=rng.randrange(-30, span + 30))
    b = a + dt.timedelta(days=rng.choice([0, 1, 30, 365, 2000]))
    shape = rng.choice(["from", "to", "both", "both"])
    filters = {}
    if shape in ("from", "both"):
        filters["from"] = a.isoformat()
    if shape in ("to", "both"):
        filters["to"] = b.isoformat()
    if rng.random() < 0.3:
        filters["include_undated"] = True
    return filters


def filter_sets(seed: int, n: int, low: dt.date, high: dt.date) -> list[dict]:
    rng = random.Random(seed)
    sets = [dict(d) for d in DIMENSION_FILTERS]
    for _ in range(n):
        sets.append({**rng.choice(DIMENSION_FILTERS), **random_dates(rng, low, high)})
    return sets


@pytest.fixture(scope="module")
def synthetic_db(synthetic_sqlite_url):
    db = open_database(synthetic_sqlite_url, read_only=True)
    db.connect()
    # bound for this thread, as a request binds them (the proxy would lose to a binding an
    # earlier request of this thread left in place: api/database.py bind_models)
    with db.bind_ctx(TABLES):
        yield db
    db.close()


def data_span() -> tuple[dt.date, dt.date]:
    first, last = daycounts.anchor_span(("", ""))
    return dt.date.fromisoformat(first), dt.date.fromisoformat(last)


def counted(filters: dict) -> int:
    return paging.count(queries.event_select(filters, columns=(Event.id,)))


def assert_same_answers(filters: dict) -> None:
    expected = counted(filters)
    assert daycounts.total(filters) == expected, filters
    assert queries.event_total(filters) == expected, filters
    assert paging.count(queries.event_listing(filters)) == expected, filters
    if daycounts.dimension_of(filters) == ("", ""):
        for facet in FACETS:
            fast, slow = counts.facet_counts(filters, facet), counts.facet_counts(filters, facet, day_counts=False)
            assert (fast.values, fast.missing) == (slow.values, slow.missing), (filters, facet)


def test_the_table_is_built_and_used(synthetic_db):
    assert EventDayCount.select().count() > 1_000
    for filters in DIMENSION_FILTERS:
        assert daycounts.dimension_of(filters) is not None
        assert daycounts.total(filters) is not None
    # what they cannot answer is counted from the rows
    for filters in ({"type": "042"}, {"participant": ["x"]}, {"status": "occurred", "country": "SYR"}, {"q": "x"}):
        assert daycounts.dimension_of(filters) is None
        assert daycounts.total(filters) is None
    assert daycounts.facet({"status": "occurred"}, "cameo_root") is None
    assert daycounts.facet({}, "participant") is None


def test_totals_and_facets_agree_with_counting_rows(synthetic_db):
    low, high = data_span()
    sets = filter_sets(seed=8, n=120, low=low, high=high)
    nonzero = 0
    for filters in sets:
        assert_same_answers(filters)
        nonzero += counted(filters) > 0
    assert nonzero > len(sets) // 2  # the random ranges mostly hit data


def test_open_ranges_and_undated_events_are_in_the_dataset(synthetic_db):
    # otherwise the comparisons above would not exercise the hi/lo edges they rely on
    assert Event.select().where(Event.date_start.is_null() & Event.date_end.is_null(False)).count() > 0
    assert Event.select().where(Event.date_start.is_null(False) & Event.date_end.is_null()).count() > 0
    assert Event.select().where(Event.sort_date == "").count() > 0
    assert Event.select().where(Event.date_start != Event.date_end).count() > 0


@pytest.mark.parametrize("interval", ["day", "month", "year"])
def test_timelines_agree_with_counting_rows(synthetic_db, interval):
    low, high = data_span()
    rng = random.Random(interval)
    for filters in DIMENSION_FILTERS:
        for group_by in (None, "status", "cameo_root"):
            if group_by and filters:
                continue
            for _ in range(3):
                first = low + dt.timedelta(days=rng.randrange(0, (high - low).days))
                last = min(first + dt.timedelta(days=rng.choice([40, 400, 1500])), high)
                if interval == "day":
                    last = min(last, first + dt.timedelta(days=300))
                bounds = rng.choice([(first, last), (None, last), (first, None), (None, None)])
                if interval == "day" and None in bounds:
                    continue  # thousands of day buckets over the whole span: MAX_BUCKETS
                fast = counts.timeline(filters, interval, *bounds, group_by=group_by)
                slow = counts.timeline(filters, interval, *bounds, group_by=group_by, day_counts=False)
                assert fast == slow, (filters, interval, bounds, group_by)
    assert daycounts.timeline_dimension({}, "participant") is None


def test_date_split_pages_match_one_select_pages(synthetic_db):
    low, high = data_span()
    for filters in filter_sets(seed=3, n=25, low=low, high=high)[len(DIMENSION_FILTERS):]:
        for sort in ("-date", "date", "id"):
            spec = paging.sort_spec(Event, sort)
            after = None
            for _ in range(3):  # three pages deep through the keyset
                split, more_split = paging.keyset_page(queries.event_listing(filters), spec, after, 40)
                one, more_one = paging.keyset_page(queries.event_select(filters), spec, after, 40)
                assert [r.id for r in split] == [r.id for r in one], (filters, sort)
                assert more_split == more_one
                if not more_one:
                    break
                after = spec.key_of(one[-1])


def test_both_ways_agree_on_the_article(app, backend):
    """The same comparison on the article, on SQLite and PostgreSQL."""
    # /readyz: never answered from the response cache, so the request binds the models to this
    # backend's database (and starts its read snapshot) as a data request does
    with app.test_request_context("/readyz"):
        app.preprocess_request()
        for filters in [{}, {"from": "2017-01-17"}, {"to": "2017-01-17"},
                        {"from": "2017-01-18", "to": "2017-01-18", "include_undated": True},
                        {"status": "occurred", "from": "2017-01-17"}, {"country": "SYR", "to": "2017-01-16"},
                        {"type": "04", "from": "2017-01-01", "to": "2017-12-31"}]:
            assert_same_answers(filters)
            split, _ = paging.keyset_page(queries.event_listing(filters), paging.sort_spec(Event, "-date"), None, 100)
            one, _ = paging.keyset_page(queries.event_select(filters), paging.sort_spec(Event, "-date"), None, 100)
            assert [r.id for r in split] == [r.id for r in one]
        for group_by in (None, "status"):
            fast = counts.timeline({}, "day", group_by=group_by)
            assert fast == counts.timeline({}, "day", group_by=group_by, day_counts=False)
            assert fast.total == 9 and fast.undated == 6  # the article: 9 dated events, 6 undated

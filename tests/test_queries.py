"""The data layer without HTTP: filter tables, listings, keyset pages and counts, on both backends.

Each test binds the models to the loaded article in its own read snapshot, as a
request does (api/database.py), and asks models/ directly.
"""
from __future__ import annotations

from contextlib import contextmanager

import pytest

from models import backends, changes, counts, paging, queries, search
from models.db import open_database
from models.filters import EVENT_FILTERS, STATEMENT_FILTERS
from models.history import HISTORY_TABLES
from models.records import TABLES, Event, Participant, Place, Statement
from models.search_index import SearchDoc

from .conftest import count_queries


@contextmanager
def bound(url: str):
    db = open_database(url, read_only=True)
    db.connect()
    backend = backends.of(db)
    try:
        with db.bind_ctx(TABLES + HISTORY_TABLES + [SearchDoc] + backends.extra_models()):
            snapshot = backend.begin_snapshot(db)
            try:
                yield db
            finally:
                snapshot.__exit__(None, None, None)
    finally:
        db.close()


@pytest.fixture()
def article(database_url):
    with bound(database_url) as db:
        yield db


def event_ids(filters: dict) -> set[str]:
    return {row.id for row in paging.iterate_all(queries.event_listing(filters), paging.sort_spec(Event, "id"))}


def test_each_event_filter_selects_what_the_article_says(article):
    assert event_ids({"participant": ["imad-khamis", "hassan-rouhani"]}) == {"khamis-meets-rouhani"}
    assert event_ids({"status": "planned"}) == {"astana-talks-planned"}
    assert event_ids({"place": "astana"}) == {"astana-talks-planned"}
    assert event_ids({"topic": "aleppo"}) >= {"syrian-army-recaptures-aleppo"}
    assert "khamis-meets-rouhani" in event_ids({"country": "IRN"})
    assert all(eid in event_ids({"type": "04"}) for eid in ("khamis-meets-rouhani", "khamis-meets-velayati"))
    assert len(event_ids({"type": "04"})) == 8  # the README's facet: CONSULT, 8 events (the planned talks are 036)
    assert event_ids({"q": search.parse_query("روحاني")}) >= {"khamis-meets-rouhani"}
    assert event_ids({"source": "no-such-source"}) == set()
    assert event_ids({"source_actor": ["imad-khamis"], "target_actor": ["hassan-rouhani"]}) == {"khamis-meets-rouhani"}
    assert event_ids({"target_actor": ["hassan-rouhani"]}) == {"khamis-meets-rouhani", "muallem-visits-tehran"}
    assert event_ids({"quad_class": ["4"]}) == {"syrian-army-recaptures-aleppo"}
    every = {row.id for row in Event.select(Event.id)}
    assert event_ids({"updated_since": 0}) == every and event_ids({"updated_since": 1}) == set()  # one release
    # every entry of the table is exercised above or by the date tests below
    assert {f.name for f in EVENT_FILTERS} == {"participant", "country", "place", "type", "plover", "status", "topic",
                                              "source", "source_actor", "target_actor", "quad_class", "q", "from", "to",
                                              "include_undated", "updated_since"}


def test_filters_combine_with_and(article):
    both = event_ids({"participant": ["imad-khamis"], "status": "occurred"})
    assert both == event_ids({"participant": ["imad-khamis"]}) & event_ids({"status": "occurred"})
    assert both  # not trivially empty


def test_dates_select_by_overlap_and_undated_only_when_asked(article):
    day = event_ids({"from": "2017-01-18", "to": "2017-01-18"})
    assert "khamis-meets-rouhani" in day
    undated = {row.id for row in Event.select(Event.id).where(Event.sort_date == "")}
    assert len(undated) == 6 and not (day & undated)
    assert undated <= event_ids({"from": "2017-01-18", "to": "2017-01-18", "include_undated": True})


def test_statement_filters_by_speaker_and_participant(article):
    def ids(filters):
        return {row.id for row in queries.statement_select(filters)}

    velayati = ids({"speaker": "ali-akbar-velayati"})
    assert velayati == {"velayati-hopes-astana-security", "velayati-iran-opposes-us-participation"}
    # speaker and participant both name speakers: statements by any of them
    assert ids({"speaker": "ali-akbar-velayati", "participant": ["mohammad-javad-zarif"]}) == \
        velayati | ids({"speaker": "mohammad-javad-zarif"})
    assert "mode" in {f.name for f in STATEMENT_FILTERS}
    assert ids({"mode": "direct"}) | ids({"mode": "reported"}) == ids({})


@pytest.mark.parametrize("sort", ["date", "-date", "id", "-id"])
def test_keyset_pages_walk_every_event_once_in_order(article, sort):
    spec = paging.sort_spec(Event, sort)
    seen, after = [], None
    while True:
        rows, more = paging.keyset_page(queries.event_listing({}), spec, after, 3)
        seen.extend(rows)
        if not more:
            break
        after = spec.key_of(rows[-1])
    keys = [tuple(spec.key_of(row)) for row in seen]
    assert len(seen) == Event.select().count() == 15
    ordered = sorted(keys, reverse=spec.descending)
    undated_last = [k for k in ordered if k[0] != ""] + [k for k in ordered if k[0] == ""]
    assert keys == undated_last


def test_a_page_is_one_query_whatever_its_length(article):
    spec = paging.sort_spec(Event, "-date")
    for limit in (1, 16):
        with count_queries() as statements:
            paging.keyset_page(queries.event_listing({"status": "occurred"}), spec, None, limit)
        assert len(statements) == 1


def test_counting_is_chosen_once_and_both_ways_agree(article):
    for filters, kind in [({}, counts.DayCounts), ({"status": "occurred", "from": "2017-01-17"}, counts.DayCounts),
                          ({"participant": ["imad-khamis"]}, counts.RowCounts),
                          ({"status": "occurred", "type": "04"}, counts.RowCounts)]:
        chosen = counts.counting(filters)
        assert isinstance(chosen, kind), filters
        listed = paging.count(queries.event_listing(filters))
        assert chosen.total() == listed == counts.RowCounts(filters).total() == queries.event_total(filters)
        for facet in ("status", "cameo_root", "participant"):
            assert chosen.facet(facet) == counts.RowCounts(filters).facet(facet), (filters, facet)


def test_timeline_counts_each_dated_event_once(article):
    result = counts.timeline({}, "month")
    assert (result.total, result.undated) == (9, 6)
    assert sum(bucket.count for bucket in result.buckets) == result.total
    grouped = counts.timeline({}, "week", group_by="status")
    for bucket in grouped.buckets:
        assert sum(bucket.groups.values()) == bucket.count


def test_search_ids_and_ranked_matches_agree(article):
    query = search.parse_query("أستانا")
    ranked = {(row.kind, row.record_id) for row in search.ranked_matches(query)}
    for kind, model in (("event", Event), ("statement", Statement)):
        ids = {row.id for row in model.select(model.id).where(model.id.in_(search.matching_ids(query, kind)))}
        assert ids == {rid for k, rid in ranked if k == kind}
        assert ids  # Astana is in both kinds of record


#: listings of every shape the filter table makes (each filter, some together, dates, search)
LISTINGS = [{}, {"participant": ["imad-khamis"]}, {"participant": ["imad-khamis", "hassan-rouhani"]},
            {"country": "IRN"}, {"place": "astana"}, {"type": "04"}, {"status": "occurred"}, {"topic": "aleppo"},
            {"source_actor": ["imad-khamis"], "target_actor": ["hassan-rouhani"]}, {"quad_class": ["4"]},
            {"updated_since": 0}, {"from": "2017-01-17", "to": "2017-01-18"},
            {"to": "2017-01-18", "include_undated": True, "status": "occurred"}, {"country": "IRN", "type": "04"}]


@pytest.mark.parametrize("sort", ["-date", "date", "id"])
def test_keys_written_around_the_where_select_what_the_builder_does(article, sort):
    """paging._plain_keys writes a page's keys query around the WHERE the query builder compiles
    (with its subqueries and their references to the event): the same rows as the whole
    statement compiled by the builder, for every listing, from the start and after a cursor;
    and pages with their releases walk the listing as iterate_all does."""
    spec = paging.sort_spec(Event, sort)
    for filters in LISTINGS:
        compared = 0
        listing = queries.event_listing(filters)
        walked, after, more = [], None, True
        while more and len(walked) <= 100:  # (the article has 15 events: a walk that repeats stops)
            rows, more = paging.keyset_page(listing, spec, after, 4, changes.release_columns("event"))
            walked += [row.id for row in rows]
            after = spec.key_of(rows[-1]) if rows else None
        assert walked == [row.id for row in paging.iterate_all(listing, spec)], filters
        for part in listing if isinstance(listing, paging.Branches) else [listing]:
            assert paging._is_plain(part, spec), filters
            for after in (None, spec.key_of(rows[0]) if walked else None):
                ours = article.execute_sql(*paging._plain_keys(part, spec, after, 100)).fetchall()
                builder = paging.page_select(part, spec, after, 100).columns(*spec.columns)
                assert ours == article.execute_sql(*builder.sql()).fetchall(), (filters, after)
                compared += bool(ours)
        assert walked and compared, filters  # (not trivially equal: empty)


#: the other collections' listings, with the filters whose WHERE holds a subquery (search, topics, pairs)
OTHER_LISTINGS = [
    (Statement, queries.statement_select, [{}, {"speaker": "ali-akbar-velayati"}, {"mode": ["direct"]},
                                           {"q": "أستانا"}, {"q": "Astana"},
                                           {"topic": ["astana-talks"]}, {"from": "2017-01-18", "to": "2017-01-18"}]),
    (Participant, queries.participant_select, [{}, {"kind": ["person"]}, {"q": "روحاني"},
                                               {"q": "Khamis"}, {"country": ["IRN"]}]),
    (Place, queries.place_select, [{}, {"q": "طهران"}, {"kind": ["city"]}]),
]


@pytest.mark.parametrize("collection", range(len(OTHER_LISTINGS)))
def test_keys_of_the_other_collections_select_what_the_builder_does(article, collection):
    """As above, for statements, participants and places (search on either backend included)."""
    model, select, listings = OTHER_LISTINGS[collection]
    found = 0
    for sort in ("-date", "id") if model is Statement else ("id", "-id"):
        spec = paging.sort_spec(model, sort)
        for filters in listings:
            parsed = {k: search.parse_query(v) if k == "q" else v for k, v in filters.items()}  # (in the binding)
            part = select(parsed)
            assert paging._is_plain(part, spec), filters
            every = article.execute_sql(*paging._plain_keys(part, spec, None, 100)).fetchall()
            for after in (None, list(every[0]) if every else None):
                ours = article.execute_sql(*paging._plain_keys(part, spec, after, 100)).fetchall()
                builder = paging.page_select(part, spec, after, 100).columns(*spec.columns)
                assert ours == article.execute_sql(*builder.sql()).fetchall(), (filters, after)
            found += len(every) > 0
    assert found >= 2 * len(listings) - 2  # (at most one listing of each collection empty)


@pytest.mark.parametrize("filters", [{"to": "2017-01-18"}, {"from": "2017-01-17"},
                                     {"from": "2017-01-17", "to": "2017-01-18"}, {}])
def test_a_dated_page_reads_its_keys_from_an_index_alone(sqlite_url, filters):
    """The keys of a newest-first page of events, filtered by dates or not, come from an index
    without a look into the table (models/records.py INDEXES): a dashboard's most common page,
    whose keys query looked each candidate's dates up in the table before (0.11 of its 0.14 ms)."""
    spec = paging.sort_spec(Event, "-date")
    with bound(sqlite_url) as db:
        listing = queries.event_listing(filters)
        for part in listing if isinstance(listing, paging.Branches) else [listing]:
            sql, params = paging._plain_keys(part, spec, None, 51)
            plan = [row[-1] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()]
            reads = [step for step in plan if step.startswith(("SCAN", "SEARCH"))]
            assert reads and all("COVERING INDEX" in step for step in reads), (filters, plan)


def test_page_rows_skip_only_conversions_that_change_nothing():
    """models.paging builds a page's rows without peewee's conversion of plain text columns; a field
    whose conversion changes a value (FixedCharField strips padding, a foreign key, a number) keeps it."""
    from peewee import FixedCharField

    assert paging._converter(Event.doc) is None and paging._converter(Event.sort_date) is None
    assert paging._converter(FixedCharField()) is not None
    assert paging._converter(Event.source) is not None and paging._converter(Event.goldstein) is not None
    rows = paging._rows(["id", "goldstein"], [None, float], [("e1", 2)])
    assert (rows[0].id, rows[0].goldstein) == ("e1", 2.0) and isinstance(rows[0].goldstein, float)

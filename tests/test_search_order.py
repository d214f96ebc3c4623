"""Search pages read in date order from the FTS index (SQLite) answer as the plain query does.

``queries.event_listing`` lists events matching ``q`` straight from the FTS
index, whose rowids are numbered in list order (models/search.py SearchDoc);
``queries.event_select`` is the plain form (an IN over the matches, sorted by
the database). Both must give the same pages, cursors and totals for any
query, date range and other filter: checked on the generated dataset.
"""
from __future__ import annotations

import random

import pytest

from models import backends, paging, queries, search
from models.backends import sqlite, sqlite_fts
from models.db import open_database
from models.records import TABLES, Event
from models.search_index import SearchDoc

WORDS = ["oil", "reconciliation", "negotiations", "border", "المفاوضات", "النفط", "دمشق", "aid -oil", '"border"',
         "murad", "minister", "zzzznothing"]
EXTRA = [{}, {}, {"status": "occurred"}, {"type": "04"}, {"country": "SYR"}]


@pytest.fixture(scope="module")
def synthetic_db(synthetic_sqlite_url):
    db = open_database(synthetic_sqlite_url, read_only=True)
    with db.bind_ctx(TABLES + [SearchDoc, *backends.of(db).extra_models]):
        yield db


def random_filters(rng: random.Random) -> dict:
    filters = {"q": search.parse_query(rng.choice(WORDS)), **rng.choice(EXTRA)}
    year = rng.randrange(2009, 2026)
    shape = rng.choice(["none", "from", "to", "both", "both"])
    if shape in ("from", "both"):
        filters["from"] = f"{year}-{rng.randrange(1, 13):02d}-01"
    if shape in ("to", "both"):
        filters["to"] = f"{year + rng.choice([0, 1, 3])}-{rng.randrange(1, 13):02d}-28"
    if shape != "none" and rng.random() < 0.3:
        filters["include_undated"] = True
    return filters


def test_the_fts_order_path_is_taken(synthetic_db):
    listing = queries.event_listing({"q": search.parse_query("oil"), "to": "2016-01-01"})
    assert isinstance(listing, paging.Branches)
    assert all(isinstance(part, sqlite.SearchOrderedPart) for part in listing)
    # the newest matches come from the index in order: nothing is sorted afterwards
    sql, params = listing[0].keys_sql(paging.sort_spec(Event, "-date"), ["2015-06-01", "x"], 51)
    plan = [row[3] for row in synthetic_db.execute_sql("EXPLAIN QUERY PLAN " + sql, params)]
    assert any("VIRTUAL TABLE" in step for step in plan) and not any("TEMP B-TREE" in step for step in plan), plan


def test_pages_and_totals_match_the_plain_query(synthetic_db):
    rng = random.Random(5)
    nonempty = 0
    for _ in range(60):
        filters = random_filters(rng)
        fast, plain = queries.event_listing(filters), queries.event_select(filters)
        total = paging.count(plain)
        assert paging.count(fast) == total, filters
        assert queries.event_total(filters) == total, filters
        nonempty += total > 0
        for sort in ("-date", "date", "id"):
            spec = paging.sort_spec(Event, sort)
            after = None
            for _ in range(3):
                a, more_a = paging.keyset_page(fast, spec, after, 30)
                b, more_b = paging.keyset_page(plain, spec, after, 30)
                assert [r.id for r in a] == [r.id for r in b], (filters, sort)
                assert more_a == more_b
                if not more_b:
                    break
                after = spec.key_of(b[-1])
    assert nonempty > 30  # most of the random queries found something


def test_an_export_walks_every_match_once(synthetic_db):
    filters = {"q": search.parse_query("oil"), "from": "2012-01-01"}
    spec = paging.sort_spec(Event, "-date")
    exported = [row.id for row in paging.iterate_all(queries.event_listing(filters), spec, batch=97)]
    assert len(exported) == len(set(exported)) == paging.count(queries.event_select(filters)) > 97


@pytest.mark.parametrize("word", ["oil", "reconcil", "negotiations", "المفاوضات", "مراد", "a", "ا", "zzzznothing", "2015"])
def test_a_word_expanded_into_index_terms_matches_what_its_prefix_query_matches(synthetic_db, word):
    expanded = sqlite_fts.fts5_term(word)
    prefix = sqlite_fts.fts5_string(word) + "*"

    def matches(expression):
        return {rowid for (rowid,) in sqlite_fts.SearchFTS.select(sqlite_fts.SearchFTS.rowid)
                .where(sqlite_fts.SearchFTS.match(expression)).tuples()}

    assert matches(expanded) == matches(prefix)
    if len(word) == 1:
        assert expanded == prefix  # begins too many terms: left a prefix query
    elif word != "zzzznothing":
        assert expanded.startswith("(") and " OR " in expanded or expanded.count('"') == 2


@pytest.mark.parametrize("kinds", [("event",), ("statement",), ("event", "place")])
def test_search_of_some_kinds_reads_the_matches_first(synthetic_db, kinds):
    """With one kind, SQLite once took the (kind, …) index as the outer loop, reading every row of
    the kind and probing FTS for each: 1.7–3 s for a common word at 20,000 events."""
    select = search.ranked_matches(search.parse_query("oil"), kinds)
    sql, params = select.sql()
    plan = [row[3] for row in synthetic_db.execute_sql("EXPLAIN QUERY PLAN " + sql, params)]
    first_read = next(step for step in plan if step.startswith(("SCAN", "SEARCH")))
    assert "VIRTUAL TABLE" in first_read, plan
    ids = {row.record_id for row in select}
    everything = {row.record_id for row in search.ranked_matches(search.parse_query("oil"))
                  if row.kind in kinds}
    assert ids == everything and ids


def test_prefix_terms_kept_per_version_say_what_a_lookup_says(synthetic_db):
    # a word's alternatives are looked up once per dataset version; one that begins too many terms
    # keeps only its prefix (it kept every term read: up to 33 per word, 20,000 words per worker)
    known = search.PrefixTerms()
    for word in ("oil", "m", "المفاوضات", "zzzznothing"):
        looked_up = sqlite_fts.fts5_term(word)
        assert sqlite_fts.fts5_term(word, (), known) == looked_up
        assert sqlite_fts.fts5_term(word, (), known) == looked_up  # (from the cache)
        assert len(known[word]) <= sqlite_fts.MAX_EXPANDED_TERMS
    assert known["m"] == ['"m"*'] and known["zzzznothing"] == ['"zzzznothing"']
    assert search.prefix_terms_for("v1") is search.prefix_terms_for("v1")
    assert search.prefix_terms_for("v2") is not search.prefix_terms_for("v1")  # (a load: another version)

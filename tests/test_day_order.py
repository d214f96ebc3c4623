"""Where SQLite keeps the rows of events and statements (models/backends/day_order.py): by day,
newest first, after a full load and after incremental ones; and a page read through the rows'
rowids is the page read through their ids."""
from __future__ import annotations

import dataclasses
import shutil
import sqlite3
from pathlib import Path

import pytest

from api.database import MODELS
from models import changes
from models import load as loader
from models.backends.day_order import (
    DAY_SHIFT,
    UNDATED,
    _next_numbers,
    day_place,
    with_rowids,
)
from models.db import open_database
from models.paging import keyset_page, sort_spec
from models.queries import event_listing
from models.records import Event
from models.search import parse_query


def test_day_places_put_newer_days_first_and_undated_rows_last():
    places = [day_place(day) for day in ("2017-01-23", "2017-01-18", "2016-12-31", "0001-01-01", "")]
    assert places == sorted(places) and len(set(places)) == len(places)
    assert places[-1] == UNDATED
    assert day_place("9999-12-31") == 0


def stored(path: Path, sql: str) -> list:
    with sqlite3.connect(path) as connection:
        return connection.execute(sql).fetchall()


def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


@pytest.mark.parametrize("table", ["event", "statement"])
def test_a_source_written_in_one_batch_is_stored_in_the_listing_order(sqlite_url, table):
    """The article (one source, one batch per table): its rows in rowid order are the list's."""
    path = sqlite_path(sqlite_url)
    by_rowid = stored(path, f'SELECT id FROM "{table}" ORDER BY rowid')
    listed = stored(path, f'SELECT id FROM "{table}" ORDER BY sort_date DESC, id DESC')
    assert len(by_rowid) > 5 and by_rowid == listed


def places_hold(path: Path, table: str) -> None:
    """Every row sits in its day's place, and rowid order is newest day first."""
    rows = stored(path, f'SELECT rowid, sort_date FROM "{table}" ORDER BY rowid')
    assert rows
    misplaced = [(rowid, day) for rowid, day in rows if rowid >> DAY_SHIFT != day_place(day)]
    assert not misplaced, misplaced[:5]
    days = [day_place(day) for _, day in rows]
    assert days == sorted(days)


@pytest.mark.parametrize("table", ["event", "statement"])
def test_a_full_load_of_many_sources_stores_each_row_in_its_day(synthetic_sqlite_url, table):
    """Many sources, each a batch: rows by day (a day's rows from later sources after the others)."""
    places_hold(sqlite_path(synthetic_sqlite_url), table)


def test_day_ends_are_found_in_chunks_an_old_sqlite_can_bind(synthetic_sqlite_url):
    """An SQLite built before 3.32 binds at most 999 values in a statement; a batch of 2,000 rows
    can span more days than that."""
    db = open_database(synthetic_sqlite_url, read_only=True)
    db.connect(reuse_if_open=True)
    try:
        db.connection().setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
        stored = {rowid >> DAY_SHIFT for (rowid,) in db.execute_sql("SELECT rowid FROM event")}
        places = sorted(stored | set(range(2_000)))
        assert len(places) > 999
        found = _next_numbers(db, Event, places)
        assert set(found) == set(places)
        assert all(found[place] > 0 for place in stored)
        assert all(found[place] == 0 for place in set(places) - stored)
    finally:
        db.close()


def test_a_batch_whose_ids_repeat_keeps_its_order(synthetic_sqlite_url):
    """Two versions of one row in an upsert: the last given wins, wherever their days put them."""
    db = open_database(synthetic_sqlite_url, read_only=True)
    db.connect(reuse_if_open=True)
    try:
        fields = [Event.id, Event.sort_date]
        _, repeated = with_rowids(db, Event, fields, [("x", "2001-01-01"), ("x", "2030-01-01")])
        assert [row[1:] for row in repeated] == [("x", "2001-01-01"), ("x", "2030-01-01")]
        _, distinct = with_rowids(db, Event, fields, [("a", "2001-01-01"), ("b", "2030-01-01"), ("c", "2030-01-01")])
        assert [row[1] for row in distinct] == ["c", "b", "a"]  # newest day first, then descending ids
        assert [row[0] for row in distinct] == sorted(row[0] for row in distinct)
    finally:
        db.close()


def test_incremental_loads_put_new_rows_in_their_days(synthetic_root, tmp_path):
    root = tmp_path / "corpus"
    shutil.copytree(synthetic_root, root)
    sources = sorted(p.stem for p in (root / "seeds").glob("*.txt"))
    held = sources[len(sources) // 2]
    kept = tmp_path / "held"
    kept.mkdir()
    for suffix in (".txt", ".json"):
        shutil.move(root / "seeds" / f"{held}{suffix}", kept / f"{held}{suffix}")
    shutil.move(root / "fixtures" / held, kept / held)
    path = tmp_path / "events.sqlite3"
    url = f"sqlite:///{path}"
    assert loader.load(root, open_database(url)).mode == "full"
    before = dict(stored(path, "SELECT id, rowid FROM event"))

    for suffix in (".txt", ".json"):  # the held-back source comes in: its events go to their days
        shutil.move(kept / f"{held}{suffix}", root / "seeds" / f"{held}{suffix}")
    shutil.move(kept / held, root / "fixtures" / held)
    assert loader.load(root, open_database(url)).mode == "incremental"
    added = stored(path, f"SELECT id, rowid, sort_date FROM event WHERE source_id = '{held}'")
    assert added and not any(event_id in before for event_id, _, _ in added)
    for table in ("event", "statement"):
        places_hold(path, table)
    # the new rows are among the stored ones of their days, not after all of them
    last_stored = max(before.values())
    assert any(rowid < last_stored for _, rowid, _ in added)
    after = dict(stored(path, f"SELECT id, rowid FROM event WHERE source_id != '{held}'"))
    assert after == before  # rows already stored keep their places


def test_a_page_read_through_rowids_and_sorted_in_python_is_the_page_read_through_ids_in_sql_order(
        synthetic_sqlite_url):
    """Every sort, date-split listings (several parts) and a search (keys from the index: ids),
    from the start and from cursors all through the list: rows joined on rowids and put in order
    in Python (as pages are read on SQLite) against rows joined on ids and ordered by SQL."""
    db = open_database(synthetic_sqlite_url, read_only=True)
    db.connect(reuse_if_open=True)
    try:
        with db.bind_ctx(MODELS):
            through_rowids = changes.release_columns("event", utf8_docs=True)
            assert through_rowids.locator == "rowid" and through_rowids.sorted_here
            through_ids = dataclasses.replace(through_rowids, locator=None, sorted_here=False)
            keys = Event.select(Event.sort_date, Event.id).order_by(Event.sort_date.desc(), Event.id.desc()).tuples()
            cursors = [list(key) for key in keys[::613]]
            compared = 0
            for filters in ({}, {"to": "2016-06-30"}, {"from": "2012-01-01", "to": "2019-12-31"},
                            {"from": "2014-01-01", "include_undated": True}, {"q": parse_query("minister")}):
                for sort in ("-date", "date", "id", "-id"):
                    spec = sort_spec(Event, sort)
                    for after in [None, *(key[1:] if sort.endswith("id") else key for key in cursors)]:
                        rows, more = keyset_page(event_listing(filters), spec, after, 20, through_rowids)
                        expected, expected_more = keyset_page(event_listing(filters), spec, after, 20, through_ids)
                        assert [r._asdict() for r in rows] == [r._asdict() for r in expected], (filters, sort, after)
                        assert more == expected_more
                        compared += len(rows)
            assert compared > 2_000
    finally:
        db.close()

"""The stored layout on both engines: every foreign key leads an index (the engine finds a row's
references through it: without one, a load that writes a participant after the events naming it
scans the whole table per row), no index repeats what another index or a clustered key already
serves (each is written on every insert and stored), and SQLite keeps the clustered tables in
key order."""
from __future__ import annotations

import pytest

from models import load as loader
from models.db import open_database
from models.records import TABLES

from .conftest import ROOT


def stored_layout(db, models=TABLES) -> dict:
    """{table: (primary key columns, [secondary index column lists], {foreign key columns})} as
    stored. The key's own index is told apart by name, not columns, so that a second index on the
    key's columns counts as a secondary one."""
    found = {}
    for model in models:
        table = model._meta.table_name
        own = (f"sqlite_autoindex_{table}_1", f"{table}_pkey")
        indexes = [tuple(index.columns) for index in db.get_indexes(table) if index.name not in own]
        found[table] = tuple(db.get_primary_keys(table)), indexes, {fk.column for fk in db.get_foreign_keys(table)}
    return found


@pytest.fixture(scope="module")
def layout(database_url):
    db = open_database(database_url, read_only=True)
    db.connect(reuse_if_open=True)
    try:
        return stored_layout(db)
    finally:
        db.close()


def clustered(model, backend: str) -> bool:
    return backend == "sqlite" and model._meta.clustered


def unindexed_keys(layout: dict) -> list[str]:
    return [f"{table}.{column}" for table, (keys, indexes, foreign) in layout.items() for column in foreign
            if not any(cols and cols[0] == column for cols in [keys, *indexes])]


def test_every_foreign_key_leads_an_index_or_the_key(layout):
    assert unindexed_keys(layout) == []


def test_no_index_is_served_by_another(layout, backend):
    for model in TABLES:
        table = model._meta.table_name
        keys, indexes, _ = layout[table]
        for cols in indexes:
            assert indexes.count(cols) == 1, f"{table}: two indexes on {cols}"
            assert keys[:len(cols)] != cols, f"{table}: the key {keys} serves an index on {cols}"
            wider = [other for other in indexes if other != cols and other[:len(cols)] == cols]
            assert not wider, f"{table}: an index on {cols} is the start of one on {wider[0]}"
            if clustered(model, backend):
                assert cols[:len(keys)] != keys, f"{table}: the table is stored in {keys} order already"


def test_clustered_tables_are_stored_in_key_order(database_url, backend):
    if backend != "sqlite":
        pytest.skip("PostgreSQL has no clustered tables; it keeps a separate key index")
    db = open_database(database_url, read_only=True)
    try:
        wanted = {m._meta.table_name for m in TABLES if m._meta.clustered}
        assert {"event_participant", "event_day_count", "dyad_count"} <= wanted
        stored = {name: sql for name, sql in db.execute_sql("SELECT name, sql FROM sqlite_master WHERE type = 'table'")}
        for table in wanted:
            assert stored[table].rstrip().endswith("WITHOUT ROWID"), table
        for table in {m._meta.table_name for m in TABLES} - wanted:
            assert "WITHOUT ROWID" not in stored[table], table
    finally:
        db.close()


def test_a_full_load_writes_rows_with_its_foreign_keys_indexed(tmp_path, monkeypatch):
    """SQLite finds the rows that reference a new row through an index on their foreign key while
    deferred checks are outstanding (the loader writes a participant after the events naming it):
    the layout as the load's reader starts writing rows has one for every key."""
    from models.load import reader as reader_module

    seen: list[dict] = []
    read = reader_module.DatasetReader.read

    def read_and_look(self, sink, version=None):
        seen.append(stored_layout(db))
        return read(self, sink, version)

    monkeypatch.setattr(reader_module.DatasetReader, "read", read_and_look)
    db = open_database(f"sqlite:///{tmp_path / 'events.sqlite3'}", create_dir=True)
    try:
        loader.load(ROOT, db)
    finally:
        db.close()
    assert len(seen) == 1
    assert unindexed_keys(seen[0]) == []
    _, participant_indexes, _ = seen[0]["event_participant"]
    assert ("participant_id", "event_id") in participant_indexes  # what a participant's write looks up


def test_a_new_file_gets_the_larger_pages(database_url, backend):
    """Whole event rows of ~2 KiB left 4 KiB pages 40 % empty (models/backends/sqlite.py: PAGE_SIZE)."""
    if backend != "sqlite":
        pytest.skip("PostgreSQL's page size is fixed when the server is built")
    from models.backends.sqlite import PAGE_SIZE

    db = open_database(database_url, read_only=True)
    try:
        assert PAGE_SIZE > 4096
        assert db.execute_sql("PRAGMA page_size").fetchone()[0] == PAGE_SIZE
    finally:
        db.close()


def test_a_rebuild_of_an_older_file_says_how_to_get_the_larger_pages(tmp_path):
    """A file made with 4 KiB pages keeps them through a rebuild (SQLite sets a WAL file's page size
    only through a rollback journal and a VACUUM): the load says so, and a new file's load does not."""
    import sqlite3

    old = tmp_path / "old.sqlite3"
    with sqlite3.connect(old) as connection:
        connection.execute("PRAGMA page_size = 4096")
        connection.execute("PRAGMA journal_mode = wal")
        connection.execute("CREATE TABLE made_by_an_older_version (x)")
    said: dict[str, list[str]] = {"old": [], "new": []}
    for name, path in (("old", old), ("new", tmp_path / "new.sqlite3")):
        loader.load(ROOT, open_database(f"sqlite:///{path}"), progress=said[name].append)
    assert [m for m in said["old"] if "keeps its 4 KiB pages" in m and "The data model" in m]
    assert not [m for m in said["new"] if "KiB pages" in m]
    with sqlite3.connect(old) as connection:
        assert connection.execute("PRAGMA page_size").fetchone()[0] == 4096

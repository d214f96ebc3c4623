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


@pytest.fixture(scope="module")
def layout(database_url):
    """{table: (primary key columns, [index column lists], {foreign key columns})} as stored."""
    db = open_database(database_url)
    db.connect(reuse_if_open=True)
    try:
        found = {}
        for model in TABLES:
            table = model._meta.table_name
            keys = tuple(db.get_primary_keys(table))
            indexes = [tuple(index.columns) for index in db.get_indexes(table)]
            found[table] = keys, indexes, {fk.column for fk in db.get_foreign_keys(table)}
        return found
    finally:
        db.close()


def clustered(model, backend: str) -> bool:
    return backend == "sqlite" and getattr(model._meta, "clustered", False)


def test_every_foreign_key_leads_an_index_or_the_key(layout):
    for table, (keys, indexes, foreign) in layout.items():
        for column in foreign:
            leads = [cols for cols in [keys, *indexes] if cols and cols[0] == column]
            assert leads, f"{table}.{column} references another table but leads no index"


def test_no_index_is_served_by_another(layout, backend):
    for model in TABLES:
        table = model._meta.table_name
        keys, indexes, _ = layout[table]
        secondary = [cols for cols in indexes if cols != keys]  # the key's own index
        for cols in secondary:
            wider = [other for other in secondary if other != cols and other[:len(cols)] == cols]
            assert not wider, f"{table}: an index on {cols} is the start of one on {wider[0]}"
            assert secondary.count(cols) == 1, f"{table}: two indexes on {cols}"
            if clustered(model, backend):
                assert cols[:len(keys)] != keys, f"{table}: the table is stored in {keys} order already"


def test_clustered_tables_are_stored_in_key_order(database_url, backend):
    if backend != "sqlite":
        pytest.skip("PostgreSQL has no clustered tables; it keeps a separate key index")
    db = open_database(database_url)
    try:
        wanted = {m._meta.table_name for m in TABLES if getattr(m._meta, "clustered", False)}
        assert {"event_participant", "event_day_count", "dyad_count"} <= wanted
        stored = {name: sql for name, sql in db.execute_sql("SELECT name, sql FROM sqlite_master WHERE type = 'table'")}
        for table in wanted:
            assert stored[table].rstrip().endswith("WITHOUT ROWID"), table
        for table in {m._meta.table_name for m in TABLES} - wanted:
            assert "WITHOUT ROWID" not in stored[table], table
    finally:
        db.close()


def test_indexes_that_loading_needs_exist_before_the_rows(tmp_path):
    """Loading into empty tables: the indexes on foreign keys are there before the first row."""
    db = open_database(f"sqlite:///{tmp_path / 'events.sqlite3'}", create_dir=True)
    db.connect()
    try:
        with db.atomic():
            with db.bind_ctx(loader.table_models(db)):
                loader.reset_schema(db)
                loader.create_indexes(db, key_checks_only=True)
                for model in TABLES:
                    table = model._meta.table_name
                    led = {cols[0] for cols in [tuple(db.get_primary_keys(table)),
                                                 *(tuple(i.columns) for i in db.get_indexes(table))] if cols}
                    for fk in db.get_foreign_keys(table):
                        assert fk.column in led, f"{table}.{fk.column} has no index while loading"
    finally:
        db.close()


def test_a_new_file_gets_the_larger_pages(database_url, backend):
    """Whole event rows of ~2 KiB left 4 KiB pages 40 % empty (models/backends/sqlite.py: PAGE_SIZE)."""
    if backend != "sqlite":
        pytest.skip("PostgreSQL's page size is fixed when the server is built")
    from models.backends.sqlite import PAGE_SIZE

    db = open_database(database_url)
    try:
        assert PAGE_SIZE > 4096
        assert db.execute_sql("PRAGMA page_size").fetchone()[0] == PAGE_SIZE
    finally:
        db.close()

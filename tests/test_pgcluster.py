"""Tests for the PostgreSQL test-server harness (tests/pgcluster.py).

One replication-capable primary (module scope) serves the whole module.
Without local PostgreSQL binaries the server tests are skipped -- or fail
when CI=true, so a CI image missing postgresql is noticed.
"""

from __future__ import annotations

import os
import re
import time

import pytest

try:  # tests/ on sys.path (pytest rootdir insertion, no tests/__init__.py)
    import pgcluster
except ImportError:  # tests/ is a package
    from tests import pgcluster

PgCluster = pgcluster.PgCluster
PgClusterError = pgcluster.PgClusterError
wait_for_replay = pgcluster.wait_for_replay


def _require_local_postgres() -> None:
    reason = pgcluster.pg_available_reason()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and no usable local PostgreSQL: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def primary():
    _require_local_postgres()
    with PgCluster(replication=True, name="primary") as pg:
        yield pg
    assert not pg.is_running()
    assert pg.base_dir is not None and not pg.base_dir.exists()


@pytest.fixture(scope="module")
def standby(primary):
    sb = primary.make_standby(name="standby")
    yield sb
    sb.close()


# --------------------------------------------------------------- no server

def test_external_url_env_override(monkeypatch):
    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    assert pgcluster.external_url() is None
    monkeypatch.setenv("TEST_DATABASE_URL", "")
    assert pgcluster.external_url() is None
    monkeypatch.setenv("TEST_DATABASE_URL", "postgresql://u@db.example:5433/x")
    assert pgcluster.external_url() == "postgresql://u@db.example:5433/x"


def test_reason_when_binaries_missing(monkeypatch):
    monkeypatch.setattr(pgcluster, "find_pg_bin", lambda: None)
    assert pgcluster.pg_available_reason() == (
        "PostgreSQL binaries not found (apt-get install postgresql)")
    with pytest.raises(PgClusterError, match="binaries not found"):
        PgCluster()


def test_find_pg_bin_has_all_binaries():
    _require_local_postgres()
    bin_dir = pgcluster.find_pg_bin()
    assert bin_dir is not None
    for name in ("initdb", "pg_ctl", "pg_basebackup", "postgres"):
        assert (bin_dir / name).is_file()


# ------------------------------------------------------------- with server

def test_start_create_database_and_query(primary):
    import psycopg

    assert primary.is_running()
    url = primary.create_database("harness_smoke")
    assert url == primary.url("harness_smoke")
    assert re.fullmatch(r"postgresql://postgres@127\.0\.0\.1:\d+/harness_smoke", url)
    assert f":{primary.port}/" in url
    with psycopg.connect(url, connect_timeout=5) as conn:
        assert conn.execute("SELECT current_database(), 6 * 7").fetchone() == ("harness_smoke", 42)
        settings = dict(conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name = ANY(%s)",
            (["listen_addresses", "fsync", "synchronous_commit", "wal_level",
              "unix_socket_directories", "max_connections"],)).fetchall())
    assert settings["listen_addresses"] == "127.0.0.1"
    assert settings["fsync"] == "off"
    assert settings["synchronous_commit"] == "off"
    assert settings["wal_level"] == "replica"
    assert settings["unix_socket_directories"] == str(primary.base_dir)
    assert settings["max_connections"] == "100"

    primary.drop_database("harness_smoke")
    with primary.connect() as conn:
        assert conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname = 'harness_smoke'").fetchone() == (0,)


def test_standby_replays_and_is_read_only(primary, standby):
    import psycopg

    assert standby.port != primary.port and standby.is_standby
    with primary.connect(autocommit=True) as conn:
        conn.execute("CREATE TABLE repl_items (id int PRIMARY KEY, label text NOT NULL)")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO repl_items VALUES (%s, %s)",
                            [(i, f"item-{i}") for i in range(1, 101)])
    lsn = wait_for_replay(primary, standby, timeout=30)
    assert re.fullmatch(r"[0-9A-F]+/[0-9A-F]+", lsn)

    with psycopg.connect(standby.url("postgres"), connect_timeout=5, autocommit=True) as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
        assert conn.execute("SELECT count(*), max(label) FROM repl_items").fetchone() == (100, "item-99")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("INSERT INTO repl_items VALUES (1000, 'nope')")

    # later changes keep flowing
    with primary.connect(autocommit=True) as conn:
        conn.execute("DELETE FROM repl_items WHERE id > 10")
    wait_for_replay(primary, standby)
    with standby.connect() as conn:
        assert conn.execute("SELECT count(*) FROM repl_items").fetchone() == (10,)


def test_stopped_standby_refuses_connections_fast(primary):
    import psycopg

    sb = primary.make_standby(name="short-lived-standby")
    try:
        with sb.connect() as conn:
            assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
        sb.stop()
        assert not sb.is_running()
        started = time.monotonic()
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(sb.url("postgres"), connect_timeout=2)
        assert time.monotonic() - started < 2.5
    finally:
        sb.close()
    assert sb.base_dir is not None and not sb.base_dir.exists()
    assert primary.is_running()  # the primary does not care

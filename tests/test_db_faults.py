"""Database faults under a real server (gunicorn, 2 workers): 503s while the
database is gone, and answers again, without a restart, once it is back.

While the database is unreachable every data request gets a 503
application/problem+json with Retry-After, /readyz fails with a 503 and
/healthz stays 200. Nothing stale is served from the response cache meanwhile.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from models import load as loader
from models.backends.sqlite import READ_BUSY_TIMEOUT
from models.db import database_file, open_database

from .conftest import ROOT, fetch, free_port, missing, wait_for

URLS = [
    "/v1/events?limit=5",
    "/v1/events/khamis-meets-rouhani",
    "/v1/participants?q=%D8%AE%D9%85%D9%8A%D8%B3",
    "/v1/search?q=astana",
    "/v1/stats/facets?facet=status",
    "/v1/sources",
]
LEAKS = ("Traceback", 'File "', "SELECT ", "sqlite3.", "psycopg", "peewee", "OperationalError", "database is locked",
         "unable to open", "connection refused", "127.0.0.1")


def answers(server) -> dict[str, tuple[int, bytes]]:
    out = {}
    for url in URLS:
        status, _, body = fetch(server.base + url)
        out[url] = (status, body)
    return out


def assert_unavailable(server, url: str, headers: dict | None = None) -> None:
    status, response_headers, body = fetch(server.base + url, headers)
    text = body.decode("utf-8", "replace")
    assert status == 503, (url, status, text[:300])
    assert response_headers["Content-Type"] == "application/problem+json"
    assert int(response_headers["Retry-After"]) > 0
    assert response_headers["X-Content-Type-Options"] == "nosniff"
    problem = json.loads(body)
    assert problem["status"] == 503 and problem["type"].endswith("/unavailable")
    for leak in LEAKS:
        assert leak not in text, (url, leak)


def assert_down_but_alive(server, etags: dict, urls=URLS) -> None:
    for url in urls:
        assert_unavailable(server, url)
        assert_unavailable(server, url, {"If-None-Match": etags[url]})  # no 304 for what cannot be checked
    assert_unavailable(server, "/readyz")
    status, _, body = fetch(server.base + "/healthz")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    status, _, _ = fetch(server.base + "/v1/openapi.json")  # static: still served
    assert status == 200


def serve_and_snapshot(gunicorn_factory, url: str, env: dict | None = None):
    server = gunicorn_factory(url, env=env).wait("/readyz")
    before = answers(server)
    assert all(status == 200 for status, _ in before.values()), before
    etags = {u: fetch(server.base + u)[1]["ETag"] for u in URLS}
    return server, before, etags


def assert_back(server, before: dict) -> None:
    wait_for(server.base + "/readyz", timeout=20)
    assert answers(server) == before


def sqlite_files(path: Path) -> list[Path]:
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


def test_sqlite_file_removed_then_put_back(sqlite_url, tmp_path, gunicorn_factory):
    path = tmp_path / "served.sqlite3"
    shutil.copy(database_file(sqlite_url), path)
    # each server thread looks at the path every half second (the setting, through the environment)
    window = 0.5
    server, before, etags = serve_and_snapshot(gunicorn_factory, f"sqlite:///{path}",
                                               {"EVENT_RECORDS_SQLITE_FILE_CHECK_SECONDS": str(window)})

    away = tmp_path / "away"
    away.mkdir()
    moved = [(p, away / p.name) for p in sqlite_files(path)]
    for source, target in moved:
        source.rename(target)
    assert not path.exists()
    time.sleep(window + 0.2)  # (with the default of FILE_CHECK_SECONDS, a thread may not have looked yet)
    assert_down_but_alive(server, etags)
    assert not path.exists()  # the server did not create an empty database in its place

    for source, target in moved:
        target.rename(source)
    assert_back(server, before)
    assert server.process.poll() is None


def test_sqlite_locked_exclusively_then_released(sqlite_url, tmp_path, gunicorn_factory):
    path = tmp_path / "served.sqlite3"
    shutil.copy(database_file(sqlite_url), path)
    first, before, etags = serve_and_snapshot(gunicorn_factory, f"sqlite:///{path}")
    # a serving worker keeps its connections open, and an open WAL connection keeps others
    # from locking the file exclusively: the lock is taken while no server runs, then a
    # server starts on the locked file
    first.stop()
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        server = gunicorn_factory(f"sqlite:///{path}").wait("/healthz")
        started = time.monotonic()
        assert_unavailable(server, "/v1/events?limit=5")
        # a locked file costs a request READ_BUSY_TIMEOUT (1 s), not the writers' 5 s
        assert time.monotonic() - started < READ_BUSY_TIMEOUT + 2.5
        assert_down_but_alive(server, etags, URLS[:2])  # (each waits READ_BUSY_TIMEOUT)
    finally:
        holder.close()  # the exclusive lock goes with the connection
    assert_back(server, before)


@pytest.fixture()
def own_pg_cluster():
    """A PostgreSQL server of this test alone (it gets stopped), on a fixed port (it is started again)."""
    from tests import pgcluster

    reason = pgcluster.pg_available_reason()
    if reason:
        missing(reason)
    cluster = pgcluster.PgCluster(port=free_port())
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.close()


def test_postgresql_stopped_then_started_again(own_pg_cluster, gunicorn_factory):
    url = own_pg_cluster.create_database("faults")
    loader.load(ROOT, open_database(url))
    server, before, etags = serve_and_snapshot(gunicorn_factory, url)

    own_pg_cluster.stop("fast")
    assert not own_pg_cluster.is_running()
    assert_down_but_alive(server, etags)

    own_pg_cluster.start()
    assert own_pg_cluster.url("faults") == url  # the same port
    assert_back(server, before)
    assert server.process.poll() is None


def test_a_server_thread_keeps_its_sqlite_connection_while_the_file_stays(sqlite_url, tmp_path):
    from api import create_app

    path = tmp_path / "kept.sqlite3"
    shutil.copy(database_file(sqlite_url), path)
    # the thread looks at the path once a minute here: not again during the test unless told
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "RESPONSE_CACHE_BYTES": 0,
                      "SQLITE_FILE_CHECK_SECONDS": 60})
    router = app.extensions["request_database"].router
    db = router.primary
    client = app.test_client()  # requests run in this thread

    assert client.get("/v1/events?limit=1").status_code == 200
    connection = db._state.conn
    assert connection is not None and not db.in_transaction()  # open, its read transaction ended
    assert client.get("/v1/events?limit=2").status_code == 200
    assert db._state.conn is connection  # the same connection, no reconnect

    away = tmp_path / "away.sqlite3"
    path.rename(away)
    # until the thread looks again, its connection reads on the file it opened
    assert client.get("/v1/events?limit=1").status_code == 200
    assert db._state.conn is connection
    router.file_check_seconds = 0  # look at every request from now on
    assert client.get("/v1/events?limit=1").status_code == 503  # noticed: the path holds no file
    assert db.is_closed()
    away.rename(path)
    assert client.get("/v1/events?limit=1").status_code == 200
    assert db._state.conn is not connection


def test_a_repeated_url_is_answered_from_the_cache_until_a_load_commits(sqlite_url, tmp_path, synthetic_root):
    from api import create_app

    path = tmp_path / "reloaded.sqlite3"
    shutil.copy(database_file(sqlite_url), path)
    app = create_app({"DATABASE_URL": f"sqlite:///{path}"})
    client = app.test_client()
    url = "/v1/events?limit=1"

    first = client.get(url)
    version = first.get_json()["meta"]["dataset_version"]
    again = client.get(url)
    assert again.headers.get("X-Cache") == "hit" and again.get_data() == first.get_data()

    loader.load(synthetic_root, open_database(f"sqlite:///{path}"))  # another dataset, same file
    after = client.get(url)
    assert "X-Cache" not in after.headers
    assert after.get_json()["meta"]["dataset_version"] not in (None, version)
    assert client.get(url).headers.get("X-Cache") == "hit"  # and the new answer is reused in turn


def test_a_removed_sqlite_file_is_noticed_within_the_window_under_steady_traffic(sqlite_url, tmp_path):
    """The window starts at each look, not at each request: a thread that answers a request every
    50 ms still looks at the path once per window, and notices a file renamed away."""
    from api import create_app

    path = tmp_path / "busy.sqlite3"
    shutil.copy(database_file(sqlite_url), path)
    window = 0.3
    client = create_app({"DATABASE_URL": f"sqlite:///{path}", "RESPONSE_CACHE_BYTES": 0,
                         "SQLITE_FILE_CHECK_SECONDS": window}).test_client()
    assert client.get("/v1/events?limit=1").status_code == 200
    path.rename(tmp_path / "away.sqlite3")
    started = time.monotonic()
    statuses = []
    while time.monotonic() - started < window + 1.0 and 503 not in statuses:
        statuses.append(client.get("/v1/events?limit=1").status_code)
        time.sleep(0.05)
    assert statuses[-1] == 503, statuses
    assert time.monotonic() - started <= window + 0.5
    assert set(statuses[:-1]) <= {200}  # until then the open file was read on

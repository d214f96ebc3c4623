"""models.db.ReadRouter: which database a request reads from (round-robin over the replicas, a
replica that does not answer passed over for the primary). Replicas here are SQLite files and a
PostgreSQL address that accepts connections and never answers; the streaming standby itself is
tests/test_postgres.py's."""
from __future__ import annotations

import time

import pytest

from models.db import ReadRouter


def files(tmp_path, count: int) -> list[str]:
    return [f"sqlite:///{tmp_path / f'replica{n}.sqlite3'}" for n in range(count)]


@pytest.mark.parametrize("count", [1, 2, 3])
def test_each_request_starts_at_the_next_replica(tmp_path, count):
    """Every replica takes its share of the reads: with two listed, the first took every one (each
    request advanced the shared cycle by the number of replicas, so each began where the last did)."""
    router = ReadRouter(f"sqlite:///{tmp_path / 'primary.sqlite3'}", files(tmp_path, count))
    firsts = [next(router.candidates())[0] for _ in range(3 * count)]
    assert firsts == [n % count for n in range(3 * count)]
    order = [index for index, _ in router.candidates()]
    assert sorted(order[:-1]) == list(range(count)) and order[-1] is None  # each replica once, then the primary


def test_a_replica_in_its_cooldown_is_passed_over(tmp_path):
    router = ReadRouter(f"sqlite:///{tmp_path / 'primary.sqlite3'}", files(tmp_path, 3))
    router._down_until[1] = time.monotonic() + 60
    rounds = [[index for index, _ in router.candidates()] for _ in range(3)]
    assert all(1 not in order and order[-1] is None for order in rounds)
    assert [order[0] for order in rounds] == [0, 2, 2]  # (the round that would start at 1 starts at 2)


def test_a_replica_that_never_answers_is_given_up_for_the_primary(tmp_path, silent_server):
    """Connecting to it held the request's thread without end (every thread, in time); now it gives
    up after the connect timeout and the primary serves the read."""
    import sqlite3

    pytest.importorskip("psycopg")
    sqlite3.connect(tmp_path / "primary.sqlite3").close()  # (an empty file: the primary only has to answer)
    primary = f"sqlite:///{tmp_path / 'primary.sqlite3'}"
    router = ReadRouter(primary, [f"postgresql://reader@127.0.0.1:{silent_server}/events?connect_timeout=1"])
    started = time.monotonic()
    db = router.connect()
    assert db is router.primary and time.monotonic() - started < 5
    router.release(db, reusable=False)
    assert router._down_until[0] > time.monotonic()  # left out for its cooldown: the next requests do not wait


def test_a_postgresql_url_without_a_connect_timeout_gets_one(tmp_path):
    pytest.importorskip("psycopg")
    from models.backends import postgresql
    from models.db import open_database

    assert open_database("postgresql://reader@127.0.0.1:1/events").connect_params["connect_timeout"] == \
        postgresql.CONNECT_TIMEOUT
    given = open_database("postgresql://reader@127.0.0.1:1/events?connect_timeout=17")
    assert str(given.connect_params["connect_timeout"]) == "17"


def test_only_a_file_database_is_asked_for_its_version_before_the_request(tmp_path, silent_server):
    """The response cache's check connects only where the connection can tell the version without
    a query (a SQLite file): on PostgreSQL it opened a connection per request for nothing, and to a
    server that never answers it waited with no bound."""
    pytest.importorskip("psycopg")
    from flask import Flask

    from api.database import RequestDatabase

    assert ReadRouter(f"sqlite:///{tmp_path / 'events.sqlite3'}").tracks_versions()
    app = Flask(__name__)
    app.config.update(DATABASE_URL=f"postgresql://reader@127.0.0.1:{silent_server}/events", DATABASE_REPLICA_URLS=[],
                      SQLITE_MMAP_BYTES=0, SQLITE_FILE_CHECK_SECONDS=1.0, TIME_BUDGET=2.0, MAX_EXPORTS=2,
                      MAX_EXPORTS_PER_CLIENT=1)
    requests = RequestDatabase()
    requests.init_app(app)
    assert not requests.router.tracks_versions()
    started = time.monotonic()
    assert requests.known_version() is None and time.monotonic() - started < 0.5


def test_a_replica_behind_or_empty_says_to_retry(tmp_path):
    """Read through a replica that is behind (release 1 while the primary is at 2): the change feed
    of release 2 is a 503 to retry, as a cursor of a later release is (it was a 400, which a client
    keeping a copy takes for its own error); a replica with no dataset yet says that, not "run
    event-records load" (the operator did)."""
    import json
    import sqlite3

    from api import create_app
    from models import load as loader
    from models.db import open_database

    from .conftest import ROOT, SOURCE, copy_dataset

    replica, primary = tmp_path / "replica.sqlite3", tmp_path / "primary.sqlite3"
    loader.load(ROOT, open_database(f"sqlite:///{replica}"))
    loader.load(ROOT, open_database(f"sqlite:///{primary}"))
    edited = copy_dataset(tmp_path / "edited")
    events = edited / "fixtures" / SOURCE / "events.json"
    kept = [e for e in json.loads(events.read_text(encoding="utf-8")) if e["id"] != "iran-political-support-syria"]
    events.write_text(json.dumps(kept, ensure_ascii=False), encoding="utf-8")
    loader.load(edited, open_database(f"sqlite:///{primary}"))  # release 2 on the primary only

    behind = create_app({"DATABASE_URL": f"sqlite:///{primary}", "DATABASE_REPLICA_URLS": [f"sqlite:///{replica}"],
                         "CURSOR_SECRET": "s" * 32, "RESPONSE_CACHE_BYTES": 0}).test_client()
    assert behind.get("/v1/events?limit=1").get_json()["meta"]["release"] == 1  # (read from the replica)
    answer = behind.get("/v1/changes?since=2")
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "1", answer.get_json()
    assert behind.get("/v1/changes?since=1").status_code == 200
    assert behind.get("/v1/changes?since=99").status_code == 400  # the primary has no such release either
    # a cursor of the feed issued by a node reading the primary, followed here
    ahead = create_app({"DATABASE_URL": f"sqlite:///{primary}", "CURSOR_SECRET": "s" * 32,
                        "RESPONSE_CACHE_BYTES": 0}).test_client()
    following = ahead.get("/v1/changes?since=1&limit=1").get_json()["links"]["next"]
    answer = behind.get(following)
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "1", answer.get_json()
    alone = create_app({"DATABASE_URL": f"sqlite:///{replica}", "RESPONSE_CACHE_BYTES": 0}).test_client()
    assert alone.get("/v1/changes?since=2").status_code == 400  # no replica: the client's own error
    itself = create_app({"DATABASE_URL": f"sqlite:///{replica}", "DATABASE_REPLICA_URLS": [f"sqlite:///{replica}"],
                         "CURSOR_SECRET": "s" * 32, "RESPONSE_CACHE_BYTES": 0}).test_client()
    assert itself.get("/v1/changes?since=2").status_code == 400  # the primary listed as a replica is no replica

    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()
    fresh = create_app({"DATABASE_URL": f"sqlite:///{primary}", "DATABASE_REPLICA_URLS": [f"sqlite:///{empty}"],
                        "CURSOR_SECRET": "s" * 32, "RESPONSE_CACHE_BYTES": 0}).test_client()
    answer = fresh.get("/v1/events")
    assert answer.status_code == 503 and "replica" in answer.get_json()["detail"]
    assert "event-records load" not in answer.get_json()["detail"]
    nothing = tmp_path / "nothing.sqlite3"  # a first deployment: nothing loaded anywhere
    sqlite3.connect(nothing).close()
    first = create_app({"DATABASE_URL": f"sqlite:///{nothing}", "DATABASE_REPLICA_URLS": [f"sqlite:///{empty}"],
                        "CURSOR_SECRET": "s" * 32, "RESPONSE_CACHE_BYTES": 0}).test_client()
    assert "event-records load" in first.get("/v1/events").get_json()["detail"]

"""A PostgreSQL server process that stops answering (stopped with SIGSTOP here; a hung or
swapping host, or a network that drops everything, look the same to the client). Its
statement_timeout never comes back, and a server thread waited for it without end: in a
request, and before one in the pool's check of a kept connection, which holds the pool's lock
that every thread of the worker takes to connect (models/backends/postgresql_waits.py)."""
from __future__ import annotations

import os
import signal
import threading
import time
from contextlib import contextmanager

import pytest

from models import backends
from models.backends import REQUEST_BUDGETS, postgresql, postgresql_waits
from models.db import open_database

from .conftest import loaded_url

BUDGET, GRACE = 0.2, 1.0


@pytest.fixture()
def url(pg_server, tmp_path_factory, request) -> str:
    if pg_server[1] is None:
        pytest.skip("needs the test's own PostgreSQL cluster, whose server processes it can stop")
    return loaded_url("postgresql", tmp_path_factory, request)


def server_processes(pg_server, url: str) -> list[int]:
    """The server processes connected to ``url``'s database (the monitor's own connection is to another)."""
    import psycopg

    url_of, _ = pg_server
    with psycopg.connect(url_of("postgres"), autocommit=True) as monitor:
        return [pid for (pid,) in monitor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend'",
            (url.rsplit("/", 1)[1],)).fetchall()]


@contextmanager
def stopped(pid: int):
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)  # (what still waits on it then ends)


def timed(call, limit: float):
    """``call()`` in a thread: (its result or exception, seconds), or None if still running after ``limit``."""
    done: list = []

    def run():
        started = time.monotonic()
        try:
            outcome = call()
        except Exception as error:  # noqa: BLE001 - handed to the test
            outcome = error
        done.append((outcome, time.monotonic() - started))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit)
    return done[0] if done else None


def test_a_request_waits_for_a_stopped_server_process_only_until_its_bound(url, pg_server, monkeypatch):
    monkeypatch.setattr(postgresql, "CLIENT_GRACE", GRACE)
    backend = backends.for_url(url)
    db = open_database(url, read_only=True)  # a server's connection
    db.connect()
    (pid,) = server_processes(pg_server, url)
    bound = BUDGET * REQUEST_BUDGETS + GRACE
    connection = db.connection()  # (the driver's, usable from the thread below)
    with stopped(pid):
        outcome = timed(lambda: bounded_select(backend, connection), bound + 10)
    assert outcome is not None, "the statement waited on the stopped server process past the request's bound"
    error, elapsed = outcome
    # the driver's error, which a request answers as a 503 to retry (api/errors.py), and the connection closed
    assert isinstance(error, backend.unavailable_errors), repr(error)
    assert "did not answer within the request's bound" in str(error)
    assert bound <= elapsed < bound + 3.0, elapsed
    assert connection.closed
    db.close()


def bounded_select(backend, connection):
    """``SELECT 1`` on ``connection`` as a request with BUDGET makes it (the deadline is this thread's)."""
    backend.watch_request(BUDGET)
    try:
        return connection.execute("SELECT 1").fetchone()
    finally:
        backend.end_watch()


def test_a_kept_connection_whose_server_process_hangs_is_replaced(url, pg_server):
    from api import create_app

    pooled = url.replace("postgresql://", "postgresql+pool://", 1)
    client = create_app({"DATABASE_URL": pooled, "TESTING": True, "TIME_BUDGET": BUDGET,
                         "RESPONSE_CACHE_BYTES": 0}).test_client()
    # the pool now keeps a connection (a fresh app's first answers on a busy machine, as in a CI run,
    # can pass the 0.2 s budget: a 503 that says nothing about the pool)
    assert any(client.get("/v1/events?limit=1").status_code == 200 for _ in range(3))
    (pid,) = server_processes(pg_server, url)
    with stopped(pid):
        outcome = timed(lambda: client.get("/v1/events?limit=1"), postgresql_waits.POOL_CHECK_SECONDS + 10)
    assert outcome is not None, "the pool's check waited on the stopped server process without end"
    response, elapsed = outcome
    assert response.status_code == 200, response.get_data(as_text=True)
    assert postgresql_waits.POOL_CHECK_SECONDS <= elapsed < postgresql_waits.POOL_CHECK_SECONDS + 3.0, elapsed


def test_the_time_spent_on_a_replica_that_never_answers_is_not_the_requests(url, silent_server, monkeypatch):
    """Connecting has bounds of its own (connect_timeout): a request whose watch began before it
    reached the primary only after its deadline, and was a 503 where the primary was there."""
    from api import create_app

    monkeypatch.setattr(postgresql, "CLIENT_GRACE", 0.3)  # (the request's bound, 0.7 s, shorter than the connect's 1 s)
    replica = f"postgresql://reader@127.0.0.1:{silent_server}/events?connect_timeout=1"
    client = create_app({"DATABASE_URL": url, "DATABASE_REPLICA_URLS": [replica], "TESTING": True,
                         "TIME_BUDGET": BUDGET, "RESPONSE_CACHE_BYTES": 0}).test_client()
    started = time.monotonic()
    response = client.get("/v1/events?limit=1")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert 1.0 <= time.monotonic() - started < 5.0  # (the replica's connect timeout, then the primary)

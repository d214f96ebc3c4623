"""A request's time budget bounds each statement and, together, all of them (models/backends:
REQUEST_BUDGETS): a statement that starts late gets only what the request has left, and none
starts once that is spent. On both backends, on real connections as the server opens them."""
from __future__ import annotations

import time

import pytest

from models import backends
from models.backends import REQUEST_BUDGETS, BudgetSpent
from models.db import close_database, open_database

from .conftest import loaded_url

BUDGET = 1.0
#: a statement that runs until it is stopped, in each engine's SQL
ENDLESS = {
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
    "postgresql": "SELECT pg_sleep(10)",
}


@pytest.fixture(scope="module")
def url(backend, tmp_path_factory, request):
    return loaded_url(backend, tmp_path_factory, request)


def test_a_late_statement_gets_what_the_request_has_left(url, backend):
    db = open_database(url, read_only=True)
    engine = backends.of(db)
    db.connect()
    snapshot = engine.begin_snapshot(db)
    try:
        engine.start_budget(db, BUDGET)
        first = time.monotonic()
        db.execute_sql("SELECT 1").fetchall()
        time.sleep(BUDGET * 1.25)  # time between statements: each statement is still given a budget...
        started = time.monotonic()
        with pytest.raises(Exception) as stopped:
            db.execute_sql(ENDLESS[backend]).fetchall()
        # ...but no more than the request has left of its REQUEST_BUDGETS budgets
        assert backends.is_over_budget(stopped.value), stopped.value
        left = first + REQUEST_BUDGETS * BUDGET - started  # ~0.75 budgets
        assert left < 0.8 * BUDGET
        assert time.monotonic() - started < (left + BUDGET) / 2  # stopped at what was left, not a whole budget
        time.sleep(max(0.0, first + REQUEST_BUDGETS * BUDGET - time.monotonic()) + 0.05)
        with pytest.raises(BudgetSpent):
            db.execute_sql("SELECT 1")
    finally:
        engine.end_budget(db)
        try:
            snapshot.__exit__(None, None, None)
        except Exception:  # (a cancelled statement leaves the transaction to be rolled back)
            pass
        close_database(db)


def test_the_budget_of_one_request_is_not_the_next_ones(url):
    db = open_database(url, read_only=True)
    engine = backends.of(db)
    db.connect()
    for _ in range(2):  # a kept connection: the second request starts with a whole budget again
        snapshot = engine.begin_snapshot(db)
        engine.start_budget(db, BUDGET)
        db.execute_sql("SELECT 1").fetchall()
        time.sleep(BUDGET * 1.5)
        db.execute_sql("SELECT 1").fetchall()  # within REQUEST_BUDGETS budgets of the first
        engine.end_budget(db)
        snapshot.__exit__(None, None, None)
    db.execute_sql("SELECT 1").fetchall()  # no budget: nothing is counted
    close_database(db)


def test_building_the_gazetteer_is_not_counted_against_the_first_search(url, monkeypatch):
    """The first search after a load builds the gazetteer (seconds on a large dataset): work for
    every request, left out of the request's window, so that search is not a 503."""
    from api import create_app
    from models import gazetteer

    build = gazetteer.Gazetteer.__init__

    def slow_build(self, entities):
        time.sleep(REQUEST_BUDGETS * 0.3 + 0.3)  # longer than the request's whole window
        build(self, entities)

    monkeypatch.setattr(gazetteer.Gazetteer, "__init__", slow_build)
    monkeypatch.setattr(gazetteer, "_gazetteers", {})
    client = create_app({"DATABASE_URL": url, "TESTING": True, "TIME_BUDGET": 0.3, "RESPONSE_CACHE_BYTES": 0}).test_client()
    response = client.get("/v1/events?q=Tehran&limit=2")
    assert response.status_code == 200, response.get_data(as_text=True)

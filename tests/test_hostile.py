"""Hostile traffic, in process, on both backends (issue 19): the cost of a request is bounded.

* the most expensive legal request of every operation, on a generated corpus of
  20,000 events, gets its answer (200, or the time budget's 503 problem, never the
  outage wording), and its database session is released afterwards;
* the time budget is the database's own: a streamed export is exempt from it, but
  only so many run at once (per worker and per client);
* cursors signed with the server's secret are still checked before they reach SQL;
* with no EVENT_RECORDS_SECRET, one SQLite node keeps a generated secret in a
  file of its own; PostgreSQL or replicas refuse to start without one.

The slow-client, container and gunicorn-level cases run a real server:
tests/test_hostile_server.py. Every loop here is bounded; nothing leaves 127.0.0.1.
"""
from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import threading
from urllib.parse import urlencode

import pytest

from api import create_app, pagination
from models.db import open_database

from .conftest import ROOT, free_port, loaded_url

#: a budget small enough for the dearest requests on 20,000 events to run out of it
TINY_BUDGET = 0.05
EVENTS = 20_000
BUDGET_TYPE = "https://event-records.invalid/problems/time-budget"


# --------------------------------------------------------------------------- a 20k corpus, both backends


@pytest.fixture(scope="module")
def corpus_20k(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus-20k") / "corpus"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), str(EVENTS), "--per-source", "25",
                    "--out", str(out), "--jobs", "2"], check=True, capture_output=True, timeout=300)
    return out


@pytest.fixture(scope="module")
def url_20k(backend, corpus_20k, tmp_path_factory, request):
    return loaded_url(backend, tmp_path_factory, request, root=corpus_20k)


@pytest.fixture(scope="module")
def tiny_budget_app(url_20k):
    return create_app({"DATABASE_URL": url_20k, "TESTING": True, "TIME_BUDGET": TINY_BUDGET})


def most_used(db, sql: str, n: int = 20) -> list[str]:
    return [row[0] for row in db.execute_sql(sql).fetchall()][:n]


@pytest.fixture(scope="module")
def vocabulary(url_20k) -> dict:
    """The 20 values of each repeatable filter that match the most events."""
    db = open_database(url_20k)
    db.connect()
    try:
        top = "SELECT {col} FROM {table} GROUP BY {col} ORDER BY COUNT(*) DESC, {col} LIMIT 20"
        return {
            "participant": most_used(db, top.format(col="participant_id", table="event_participant")),
            "country": most_used(db, top.format(col="country", table="event_country")),
            "place": most_used(db, top.format(col="place_id", table="event")),
            "topic": most_used(db, top.format(col="topic", table="event_topic")),
            "source": most_used(db, top.format(col="source_id", table="event")),
            "type": [f"{root:02d}" for root in range(1, 21)],  # every CAMEO root: every event
            "speaker": most_used(db, top.format(col="speaker_id", table="statement"), 1),
            "event": most_used(db, "SELECT id FROM event ORDER BY id", 1),
        }
    finally:
        db.close()


# --------------------------------------------------------------------------- the dearest request of each operation


def dearest_value(name: str, schema: dict, vocabulary: dict, path: str):
    """The costliest legal value of one query parameter."""
    items = schema.get("items", {})
    if name in vocabulary and schema.get("type") == "array":
        return vocabulary[name][: schema.get("maxItems", 20)]
    if name in vocabulary:
        return vocabulary[name][0]
    if "enum" in items:
        return items["enum"][: schema.get("maxItems", len(items["enum"]))]
    if name == "q":
        return "ا"  # one letter: a prefix of the most index terms there are
    if name in ("from", "to"):
        # the widest range; a timeline's buckets are bounded (2,000), so it gets 2,000 years
        bucketed = path.endswith(("timeline", "dyads"))  # both take an interval
        wide = ("1000-01-01", "2999-12-31") if bucketed else ("0001-01-01", "9999-12-31")
        return wide[name == "to"]
    if name in ("since", "updated_since"):
        return 0  # every record ever changed: the longest feed
    if name == "interval":
        return "year"
    if name == "sort":
        return "-date" if "-date" in schema.get("enum", []) else schema["enum"][-1]
    if name == "group_by":
        return "participant"
    if name == "include_undated":
        return "true"
    if schema.get("type") == "integer":
        return schema.get("minimum", 1) if name == "min_weight" else schema.get("maximum", schema.get("minimum", 1))
    return None  # (format, cursor, highlight, headers): left out; JSON is what the budget covers


PATH_IDS = {"event_id": "event", "participant_id": "participant", "statement_id": None, "place_id": "place",
            "source_id": "source"}


def dearest_requests(client, vocabulary: dict) -> list[tuple[str, dict]]:
    """(path, query) of every GET operation of the OpenAPI document, each at its dearest."""
    document = client.get("/v1/openapi.json").get_json()
    requests = []
    for path, operations in document["paths"].items():
        if "get" not in operations or not path.startswith("/v1/") or path.endswith("openapi.json"):
            continue
        concrete = path.replace("{number}", "1")  # /v1/releases/{number}: the first release
        for name, kind in PATH_IDS.items():
            if "{" + name + "}" in concrete:
                value = vocabulary[kind][0] if kind else client.get("/v1/statements?limit=1").get_json()["data"][0]["id"]
                concrete = concrete.replace("{" + name + "}", value)
        query = {}
        for parameter in operations["get"].get("parameters", []):
            if parameter["in"] == "query":
                value = dearest_value(parameter["name"], parameter.get("schema", {}), vocabulary, path)
                if value is not None:
                    query[parameter["name"]] = value
        requests.append((concrete, query))
    return requests


def active_backends(url: str) -> list[tuple]:
    """Other client sessions of this database that are running a statement, or inside a transaction
    (not the server's own workers: an autovacuum of a freshly loaded table is not a request's)."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+pool://", "postgresql://"), autocommit=True) as conn:
        return conn.execute(
            "SELECT pid, state, left(query, 80) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND state IN ('active', 'idle in transaction', "
            "'idle in transaction (aborted)')").fetchall()


def test_the_dearest_request_of_each_operation_is_answered_and_released(backend, tiny_budget_app, url_20k,
                                                                         vocabulary):
    client = tiny_budget_app.test_client()
    requests = dearest_requests(client, vocabulary)
    assert len(requests) >= 15, requests  # every operation, not a few
    over_budget = []
    for path, query in requests:
        response = client.get(path, query_string=query)
        data = response.get_data()  # the whole body: a streamed answer (the dump) is read to its end
        response.close()
        body = json.loads(data) if response.is_json else None
        assert response.status_code in (200, 503), (path, query, response.status_code, body)
        if response.status_code == 503:
            assert response.mimetype == "application/problem+json"
            assert body["type"] == BUDGET_TYPE and body["title"] == "Time budget exceeded", body
            assert "not reachable" not in body["detail"] and response.headers["Retry-After"]
            over_budget.append(path)
        # the session is released: nothing of this request still runs in the database …
        if backend == "postgresql":
            assert active_backends(url_20k) == [], path
        # … and the next request (the same thread, the same kept SQLite connection) is answered
        assert client.get("/v1/events?limit=1").status_code == 200, path
    # the budget is actually enforced by the database, not only declared
    assert over_budget, "no request ran out of a 50 ms budget on 20,000 events"


def test_exports_are_exempt_from_the_budget(tiny_budget_app):
    client = tiny_budget_app.test_client()
    response = client.get("/v1/events?format=ndjson&include_undated=true")
    lines = response.get_data(as_text=True).splitlines()
    assert response.status_code == 200 and len(lines) == EVENTS


#: a search whose first match takes long to find: phrases of the commonest letter, every one checked
SLOW_TO_FIRST_ROW = " ".join(['"ا ا"'] * 6)


def test_an_export_whose_first_bytes_take_longer_than_the_budget_is_a_503(tiny_budget_app):
    """Exports stream unbounded, but not before their first bytes: those are made under the
    budget, as the page's would be (an export of this search spent 3.5-4.5 s of CPU at 20,000
    events, and more with the data, before it sent anything)."""
    client = tiny_budget_app.test_client()
    for fmt in ("ndjson", "csv"):
        response = client.get("/v1/events", query_string={"format": fmt, "q": SLOW_TO_FIRST_ROW})
        assert response.status_code == 503, (fmt, response.status_code)
        assert response.get_json()["type"] == BUDGET_TYPE and response.headers["Retry-After"]
    # the CSV on the Web description of that CSV reads it as this client, under the same budget
    url = "/v1/events?" + urlencode({"format": "csv", "q": SLOW_TO_FIRST_ROW})
    response = client.get("/csvw", query_string={"url": url})
    assert response.status_code == 503 and response.headers["Retry-After"], response.get_data(as_text=True)


def test_the_budget_is_configurable_and_off_when_zero(url_20k):
    client = create_app({"DATABASE_URL": url_20k, "TESTING": True, "TIME_BUDGET": 0}).test_client()
    assert client.get("/v1/stats/facets", query_string={"q": "ا", "facet": ["participant", "country"]}).status_code == 200


def test_the_default_budget_is_two_seconds_from_the_environment(monkeypatch, sqlite_url):
    assert create_app({"DATABASE_URL": sqlite_url}).config["TIME_BUDGET"] == 2.0
    monkeypatch.setenv("EVENT_RECORDS_TIME_BUDGET", "0.5")
    assert create_app({"DATABASE_URL": sqlite_url}).config["TIME_BUDGET"] == 0.5


# --------------------------------------------------------------------------- concurrent exports


def start_export(app, address: str, results: list) -> None:
    """An export started from ``address`` in a thread of its own and never read (it holds its slot)."""
    client = app.test_client()
    response = client.get("/v1/events?format=ndjson", environ_base={"REMOTE_ADDR": address})
    results.append(response)


def test_concurrent_exports_are_bounded_per_worker_and_per_client(database_url):
    app = create_app({"DATABASE_URL": database_url, "TESTING": True, "MAX_EXPORTS": 2, "MAX_EXPORTS_PER_CLIENT": 1})
    started: list = []
    for address in ("127.0.0.2", "127.0.0.2", "127.0.0.3", "127.0.0.4"):
        thread = threading.Thread(target=start_export, args=(app, address, started))
        thread.start()
        thread.join(30)
    statuses = [response.status_code for response in started]
    assert statuses == [200, 429, 200, 503], statuses
    for refused in (started[1], started[3]):
        problem = refused.get_json()
        assert refused.mimetype == "application/problem+json" and refused.headers["Retry-After"]
        assert problem["type"].endswith("/too-many-exports") and problem["title"] == "Too many exports at once"
    for response in started:
        response.close()  # (close() from this thread: the slot is given back when that thread serves again)
    # JSON pages are never limited by the exports that run
    assert app.test_client().get("/v1/events?limit=1").status_code == 200


def test_an_export_read_to_the_end_gives_its_slot_back(database_url):
    app = create_app({"DATABASE_URL": database_url, "TESTING": True, "MAX_EXPORTS": 1, "MAX_EXPORTS_PER_CLIENT": 1})
    client = app.test_client()
    for _ in range(3):
        response = client.get("/v1/events?format=csv")
        assert response.status_code == 200
        response.get_data()
        response.close()


def test_an_export_answered_304_holds_no_slot(database_url):
    """If-None-Match: * on an export is a 304: nothing streams, so its slot is free at once for the
    next export, served by another thread (a thread gives back what its own earlier requests left
    open only when it serves again)."""
    app = create_app({"DATABASE_URL": database_url, "TESTING": True, "MAX_EXPORTS": 1, "MAX_EXPORTS_PER_CLIENT": 1})
    revalidated = app.test_client().get("/v1/events?format=csv", headers={"If-None-Match": "*"},
                                        environ_base={"REMOTE_ADDR": "127.0.0.2"})
    assert revalidated.status_code == 304 and revalidated.get_data() == b""
    started: list = []  # the same client's export (its one slot, and the worker's)
    thread = threading.Thread(target=start_export, args=(app, "127.0.0.2", started))
    thread.start()
    thread.join(30)
    assert started[0].status_code == 200, started[0].get_data()[:300]
    started[0].close()


# --------------------------------------------------------------------------- forged cursors


def forged(cursor: str, key, secret: bytes) -> str:
    """``cursor`` with its sort key replaced, signed again with the server's own secret."""
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    payload = json.loads(raw[:-12])
    payload["k"] = key
    data = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data + pagination._sign(secret, data)).decode().rstrip("=")


@pytest.mark.parametrize("key", [
    ["\ud800"],                 # a lone surrogate (was a 500 on SQLite)
    ["a\x00b"],                 # NUL (was a 500 on PostgreSQL)
    ["x" * 5000],               # longer than any id
    [7],                        # not a string
    [["nested"]],
    ["ا"],                      # no id has other than ASCII letters, digits, - and _
], ids=["surrogate", "nul", "long", "number", "nested", "non-ascii"])
def test_a_cursor_signed_with_the_secret_is_still_checked(app, key):
    client = app.test_client()
    cursor = client.get("/v1/events?limit=1").get_json()["meta"]["next_cursor"]
    response = client.get("/v1/events", query_string={"limit": 1, "cursor": forged(cursor, key, app.config["CURSOR_SECRET"].encode())})
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert "cursor" in response.get_json()["errors"]
    # and on a date order (two parts: a sort date and an id)
    cursor = client.get("/v1/events?limit=1&sort=-date").get_json()["meta"]["next_cursor"]
    bad = forged(cursor, ["2017-01-18", *key], app.config["CURSOR_SECRET"].encode())
    assert client.get("/v1/events", query_string={"limit": 1, "sort": "-date", "cursor": bad}).status_code == 400


@pytest.mark.parametrize("rank", ["x", "9" * 80, "2", ""])
def test_a_search_cursor_signed_with_the_secret_is_still_checked(app, rank):
    client = app.test_client()
    cursor = client.get("/v1/search", query_string={"q": "Tehran", "limit": 1}).get_json()["meta"]["next_cursor"]
    key = [rank, "2017-01-18", "event", "khamis-meets-rouhani"]
    response = client.get("/v1/search", query_string={"q": "Tehran", "limit": 1,
                                                      "cursor": forged(cursor, key, app.config["CURSOR_SECRET"].encode())})
    assert response.status_code == 400 and "cursor" in response.get_json()["errors"]


def test_issued_cursors_still_walk_every_page(app):
    client = app.test_client()
    for sort in ("id", "-date", "date"):
        seen, cursor = [], None
        for _ in range(50):
            page = client.get("/v1/events", query_string={"limit": 3, "sort": sort, "include_undated": "true",
                                                          **({"cursor": cursor} if cursor else {})}).get_json()
            seen += [record["id"] for record in page["data"]]
            cursor = page["meta"]["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) == page["meta"]["total"], sort


# --------------------------------------------------------------------------- the cursor secret


def test_without_a_secret_one_sqlite_node_keeps_a_generated_one(monkeypatch, tmp_path, sqlite_url):
    monkeypatch.delenv("EVENT_RECORDS_SECRET", raising=False)
    monkeypatch.setenv("EVENT_RECORDS_DATA_DIR", str(tmp_path / "data"))
    first = create_app({"DATABASE_URL": sqlite_url, "TESTING": True})
    secret_file = tmp_path / "data" / "cursor-secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert first.config["CURSOR_SECRET"] == secret_file.read_text().strip() != "event-records-cursor"
    assert len(first.config["CURSOR_SECRET"]) >= 64
    cursor = first.test_client().get("/v1/events?limit=2").get_json()["meta"]["next_cursor"]
    # a restart (a new app) reads the same file: the cursors it issued stay valid
    again = create_app({"DATABASE_URL": sqlite_url, "TESTING": True})
    assert again.test_client().get("/v1/events", query_string={"limit": 2, "cursor": cursor}).status_code == 200
    # the secret is in no answer
    for path in ("/", "/v1", "/v1/openapi.json", "/readyz", "/v1/events?limit=500"):
        assert first.config["CURSOR_SECRET"] not in again.test_client().get(path).get_data(as_text=True)


@pytest.mark.parametrize("setting", [
    {"DATABASE_URL": "postgresql://127.0.0.1:9/nowhere"},
    {"DATABASE_REPLICA_URLS": "sqlite:////nonexistent/replica.sqlite3"},
], ids=["postgresql", "replicas"])
def test_several_nodes_refuse_to_start_without_a_secret(monkeypatch, tmp_path, sqlite_url, setting):
    monkeypatch.delenv("EVENT_RECORDS_SECRET", raising=False)
    monkeypatch.setenv("EVENT_RECORDS_DATA_DIR", str(tmp_path))
    env = {**os.environ, "DATABASE_URL": sqlite_url, **setting}
    # (were it to start, it would serve on a free loopback port and the timeout would end the test)
    run = subprocess.run([sys.executable, "-m", "api.cli", "serve", "--no-load", "--host", "127.0.0.1", "--port",
                          str(free_port())], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert run.returncode != 0
    assert "EVENT_RECORDS_SECRET" in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert not (tmp_path / "cursor-secret").exists()
    # the app factory (gunicorn 'api:create_app()') refuses as well …
    for name, value in setting.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DATABASE_URL", setting.get("DATABASE_URL", sqlite_url))
    from api.secret import SecretMissing

    with pytest.raises(SecretMissing, match="EVENT_RECORDS_ALLOW_LOCAL_SECRET"):
        create_app()
    # … unless the operator says this one node is all there is
    monkeypatch.setenv("EVENT_RECORDS_ALLOW_LOCAL_SECRET", "1")
    assert create_app().config["CURSOR_SECRET"] == (tmp_path / "cursor-secret").read_text().strip()

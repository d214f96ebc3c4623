"""The models stay bound to a thread's database between its requests (api/database.py
bind_models), and that never makes a request read another database than its own: two apps
on two datasets answered in turn from one thread, and a request made inside another binding
(as tests make them inside the loader's ``bind_ctx``)."""
from __future__ import annotations

from api import create_app
from api.database import MODELS
from models.db import open_database
from models.records import Event

ARTICLE_EVENTS = 15
SYNTHETIC_EVENTS = 5_000


def total(client) -> int:
    response = client.get("/v1/events?limit=1&include_undated=true")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["meta"]["total"]


def version(client) -> str:
    return client.get("/readyz").get_json()["dataset_version"]


def test_one_thread_serves_two_datasets_in_turn(sqlite_url, synthetic_sqlite_url):
    article = create_app({"DATABASE_URL": sqlite_url, "RESPONSE_CACHE_BYTES": 0}).test_client()
    synthetic = create_app({"DATABASE_URL": synthetic_sqlite_url, "RESPONSE_CACHE_BYTES": 0}).test_client()
    # the test client runs every request in this thread: each answer comes from its own file
    for _ in range(2):
        assert total(article) == ARTICLE_EVENTS
        assert total(synthetic) == SYNTHETIC_EVENTS
    assert version(article) != version(synthetic)
    assert article.get("/v1/events/khamis-meets-rouhani").status_code == 200
    assert synthetic.get("/v1/events/khamis-meets-rouhani").status_code == 404


def test_the_binding_is_kept_for_the_next_request(sqlite_url):
    app = create_app({"DATABASE_URL": sqlite_url, "RESPONSE_CACHE_BYTES": 0})
    client = app.test_client()
    total(client)
    bound = Event._meta.database
    assert bound is app.extensions["request_database"].router.primary
    assert all(model._meta.database is bound for model in MODELS)
    total(client)
    assert Event._meta.database is bound


def test_a_binding_made_between_two_requests_is_restored_and_not_read(sqlite_url, synthetic_sqlite_url):
    client = create_app({"DATABASE_URL": sqlite_url, "RESPONSE_CACHE_BYTES": 0}).test_client()
    assert total(client) == ARTICLE_EVENTS
    bound = Event._meta.database
    other = open_database(synthetic_sqlite_url, read_only=True)
    with other.bind_ctx(MODELS, bind_refs=False, bind_backrefs=False):
        assert Event.select().count() == SYNTHETIC_EVENTS
        # a request made inside another binding (the loader's, in tests) reads its own database
        # and puts that binding back when it ends
        assert total(client) == ARTICLE_EVENTS
        assert Event.select().count() == SYNTHETIC_EVENTS
    other.close()
    assert total(client) == ARTICLE_EVENTS
    assert Event._meta.database is bound


def test_after_a_displaced_binding_the_next_requests_keep_theirs(sqlite_url, synthetic_sqlite_url):
    client = create_app({"DATABASE_URL": sqlite_url, "RESPONSE_CACHE_BYTES": 0}).test_client()
    other = open_database(synthetic_sqlite_url, read_only=True)
    with other.bind_ctx(MODELS, bind_refs=False, bind_backrefs=False):
        assert total(client) == ARTICLE_EVENTS
    other.close()
    assert total(client) == ARTICLE_EVENTS
    bound = Event._meta.database
    # bound for good again: the request neither rebinds nor puts anything back at its end
    rebinds = []
    original = Event.bind.__func__

    def counting(cls, *args, **kwargs):
        rebinds.append(cls)
        return original(cls, *args, **kwargs)

    Event.bind = classmethod(counting)
    try:
        assert total(client) == ARTICLE_EVENTS
    finally:
        del Event.bind
    assert rebinds == [] and Event._meta.database is bound


def test_a_lookup_that_missed_hands_its_connection_and_marker_to_the_request(sqlite_url):
    """With answers in the response cache, every plain GET is looked up in front of Flask, which
    reads the change marker on this thread's connection; the request then reads with that very
    connection and marker: one ``PRAGMA data_version`` per request, not two. An answer looked
    up again after that is served from the cache, and a commit is still noticed (the marker
    is compared at the next request)."""
    app = create_app({"DATABASE_URL": sqlite_url})
    client = app.test_client()
    assert client.get("/v1/events?limit=1").status_code == 200  # the cache now holds an answer
    connection = app.extensions["request_database"].router.primary.connection()  # (this thread's)
    statements: list[str] = []
    connection.set_trace_callback(statements.append)
    try:
        answer = client.get("/v1/events?limit=2")  # looked up, missed, answered by Flask
        assert answer.status_code == 200 and answer.headers.get("X-Cache") is None
        assert [s for s in statements if s.startswith("PRAGMA")] == ["PRAGMA data_version"], statements
        assert any("dataset_meta" in s for s in statements)  # the version still read in the snapshot
        statements.clear()
        again = client.get("/v1/events?limit=2")
        assert again.headers.get("X-Cache") == "hit" and again.get_data() == answer.get_data()
        assert statements == ["PRAGMA data_version"], statements
    finally:
        connection.set_trace_callback(None)


def test_a_dataset_of_another_table_layout_is_not_served_and_the_answer_says_what_to_do(tmp_path):
    """A file loaded by another version of event-records (its tables, indexes and documents may
    differ: a long dyads range once failed on a missing index) gets a 503 that names the layouts
    and the command that rebuilds it, from /readyz and from every data endpoint; loading again
    serves it."""
    from models import load as loader
    from models.records import SCHEMA_VERSION, DatasetMeta, TABLES as RECORD_TABLES

    from .conftest import ROOT

    url = f"sqlite:///{tmp_path / 'events.sqlite3'}"
    loader.load(ROOT, open_database(url, create_dir=True))
    writer = open_database(url)
    with writer.bind_ctx(RECORD_TABLES):
        DatasetMeta.update(value="14").where(DatasetMeta.key == "schema_version").execute()
    writer.close()
    client = create_app({"DATABASE_URL": url}).test_client()
    for path in ("/readyz", "/v1/events?limit=1", "/v1/stats/dyads"):
        answer = client.get(path)
        problem = answer.get_json()
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "5", path
        assert "table layout 14" in problem["detail"] and f"reads {SCHEMA_VERSION}" in problem["detail"], problem
        assert "`event-records load`" in problem["detail"]
    loader.load(ROOT, open_database(url))  # the layout differs: rebuilt
    assert client.get("/readyz").status_code == 200 and total(client) == ARTICLE_EVENTS

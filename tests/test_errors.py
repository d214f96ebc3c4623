"""The error contract: one problem+json shape for every error of every endpoint."""
from __future__ import annotations

import pytest
from .conftest import SOURCE


# every GET route of the API, with ids that exist
ENDPOINTS = [
    "/v1/events", "/v1/events/khamis-meets-rouhani",
    "/v1/participants", "/v1/participants/imad-khamis",
    "/v1/participants/imad-khamis/events", "/v1/participants/imad-khamis/statements",
    "/v1/statements", "/v1/statements/khamis-hopes-astana-solution",
    "/v1/places", "/v1/places/tehran",
    "/v1/sources", f"/v1/sources/{SOURCE}",
    "/v1/event-types", "/v1/search?q=x",
    "/v1/stats/timeline", "/v1/stats/facets?facet=status", "/v1/stats/dyads", "/v1/network",
    "/v1/releases", "/v1/releases/1", "/v1/changes?since=0", "/v1/dump",
]
SINGLE = [e for e in ENDPOINTS if e.count("/") == 3 and "?" not in e and not e.startswith(("/v1/stats", "/v1/event-types"))]


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:300])
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.get_json(force=True)
    assert set(body) >= {"type", "title", "status", "detail"}
    assert body["status"] == status
    assert body["type"].startswith("https://")
    text = response.get_data(as_text=True)
    for leak in ("Traceback", "File \"", "SELECT ", "sqlite3.", "psycopg"):
        assert leak not in text
    return body


def with_param(url: str, param: str) -> str:
    return url + ("&" if "?" in url else "?") + param


def test_the_list_covers_every_route(app):
    documented = {rule.rule for rule in app.url_map.iter_rules()
                  if rule.rule.startswith("/v1/") and rule.rule not in ("/v1/openapi.json", "/v1/")}
    covered = set()
    for endpoint in ENDPOINTS:
        path = endpoint.split("?")[0]
        for rule in documented:
            parts, actual = rule.split("/"), path.split("/")
            if len(parts) == len(actual) and all(p == a or p.startswith("<") for p, a in zip(parts, actual)):
                covered.add(rule)
    assert covered == documented


@pytest.mark.parametrize("url", ENDPOINTS)
def test_unknown_parameter_is_a_400_naming_it(client, url):
    body = assert_problem(client.get(with_param(url, "colour=blue")), 400)
    assert list(body["errors"]) == ["colour"]
    assert "colour" in body["detail"]


@pytest.mark.parametrize("url", ENDPOINTS)
def test_other_methods_are_405_with_allow(client, url):
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)(url, data="{}")
        assert_problem(response, 405)
        allowed = {m.strip() for m in response.headers["Allow"].split(",")}
        assert allowed == {"GET", "HEAD", "OPTIONS"}


@pytest.mark.parametrize("url", SINGLE)
def test_unknown_ids_are_404(client, url):
    body = assert_problem(client.get(url.rsplit("/", 1)[0] + "/no-such-record"), 404)
    assert "no-such-record" in body["detail"]


@pytest.mark.parametrize("url", ["/nowhere", "/v1/nowhere", "/v2/events", "/v1/events/a/b/c"])
def test_unknown_paths_are_404_problems(client, url):
    assert_problem(client.get(url), 404)


def test_a_long_unknown_path_is_repeated_once_whole():
    """A 7,000-character path was in the detail and in the instance: a 14 KB body for any client to ask for."""
    from api import create_app

    long_path = "/v1/events/" + "a" * 7000 + "/x"
    body = assert_problem(create_app({"DATABASE_URL": "sqlite://", "TESTING": True}).test_client().get(long_path), 404)
    assert body["instance"] == long_path and len(body["detail"]) < 300 and body["detail"].startswith("No resource at /v1/")


REPEATED = {
    "/v1/events": "limit=1&limit=2", "/v1/participants": "sort=id&sort=-id", "/v1/statements": "speaker=imad-khamis&speaker=iran",
    "/v1/places": "sort=id&sort=-id", "/v1/sources": "limit=1&limit=2", "/v1/search": "q=a&q=b",
    f"/v1/sources/{SOURCE}": "highlight=tehran&highlight=astana", "/v1/participants/imad-khamis/events": "sort=date&sort=id",
    "/v1/participants/imad-khamis/statements": "cursor=a&cursor=b", "/v1/stats/timeline": "interval=day&interval=month",
    "/v1/network": "from=2017-01-01&from=2017-01-02",
}


@pytest.mark.parametrize("url,param", REPEATED.items())
def test_repeated_single_valued_parameter_is_a_400(client, url, param):
    response = client.get(with_param(url, param))
    body = assert_problem(response, 400)
    assert len(body["errors"]) == 1


def test_unexpected_exception_is_a_500_without_traceback(database_url):
    from api import create_app

    app = create_app({"DATABASE_URL": database_url})

    @app.get("/v1/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/v1/boom")
    body = assert_problem(response, 500)
    assert "secret internals" not in response.get_data(as_text=True)
    assert body["title"] == "Internal server error"


def test_sql_the_engine_cannot_run_is_a_logged_500_not_an_outage(sqlite_url, tmp_path, caplog):
    """SQLite reports SQL it cannot compile with the class of a locked or unreadable file: a
    defect (here, a column gone from a table) was a 503 "not reachable; retry shortly", logged
    as a warning without its traceback."""
    import shutil
    import sqlite3

    from api import create_app
    from models.db import database_file

    copy = tmp_path / "events.sqlite3"
    shutil.copyfile(database_file(sqlite_url), copy)
    with sqlite3.connect(copy) as connection:
        connection.execute("ALTER TABLE event DROP COLUMN quad_class")
    app = create_app({"DATABASE_URL": f"sqlite:///{copy}", "RESPONSE_CACHE_BYTES": 0})
    with caplog.at_level("ERROR", logger="event_records.errors"):
        response = app.test_client().get("/v1/events?quad_class=1")
    body = assert_problem(response, 500)
    assert body["type"].endswith("/internal-error") and "no such column" not in response.get_data(as_text=True)
    assert "Retry-After" not in response.headers
    assert any("no such column" in (record.exc_text or "") for record in caplog.records), caplog.records
    assert app.test_client().get("/v1/events?limit=1").status_code == 200  # the rest is served


def test_not_acceptable_is_406(client):
    assert_problem(client.get("/v1/events", headers={"Accept": "image/png"}), 406)
    assert client.get("/v1/events", headers={"Accept": "image/png, */*;q=0.1"}).status_code == 200


def test_format_not_offered_here_is_400(client):
    body = assert_problem(client.get("/v1/statements?format=geojson"), 400)
    assert "format" in body["errors"]


def test_large_request_body_is_refused(client):
    response = client.get("/v1/events", data="x" * 10_000, headers={"Content-Type": "text/plain"})
    assert_problem(response, 413)


@pytest.mark.parametrize("url,param,says", [
    ("/v1/events?limit=-1", "limit", "from 1 to 500"),
    ("/v1/events?limit=1.5", "limit", "from 1 to 500"),
    ("/v1/events?from=2017-02-30", "from", "YYYY-MM-DD"),
    ("/v1/statements?to=18-01-2017", "to", "YYYY-MM-DD"),
    ("/v1/events?from=20170118", "from", "YYYY-MM-DD"),  # (ISO's basic form, which Python reads)
    ("/v1/events?to=2017-W03-3", "to", "YYYY-MM-DD"),
    ("/v1/stats/timeline?from=2017-13-01", "from", "YYYY-MM-DD"),
])
def test_a_bad_value_is_told_what_would_do(client, url, param, says):
    body = assert_problem(client.get(url), 400)
    assert says in body["errors"][param][0] and says in body["detail"]


@pytest.mark.parametrize("url,param", [("/v1/events?limit=0", "limit"), ("/v1/stats/timeline?interval=decade", "interval"),
                                       ("/v1/events?include_undated=maybe", "include_undated"),
                                       ("/v1/events?bogus=1", "bogus")])
def test_every_message_reads_after_the_parameters_name(client, url, param):
    """'limit' must be …: marshmallow's own messages ("Must be …", "Not a valid …") as the project writes its own."""
    body = assert_problem(client.get(url), 400)
    message = body["errors"][param][0]
    assert message[0].islower() and not message.endswith(".")
    assert f"'{param}' {message}" in body["detail"]


def test_a_statement_the_engine_cannot_run_is_told_from_an_unreachable_database(database_url, backend):
    """The backend seam's is_statement_fault on real engines: a call with more arguments than
    PostgreSQL takes (class 54, raised as an OperationalError like a lost server), an FTS5 syntax
    error on SQLite."""
    from models import backends
    from models.db import UNAVAILABLE_ERRORS, open_database

    db = open_database(database_url)
    db.connect(reuse_if_open=True)
    statement = ("SELECT concat(" + ", ".join(["'x'"] * 101) + ")" if backend == "postgresql"
                 else "SELECT rowid FROM search_fts WHERE search_fts MATCH '\"abc'")
    try:
        with pytest.raises(UNAVAILABLE_ERRORS) as raised:
            db.execute_sql(statement)
    finally:
        db.close()
    assert backends.is_statement_fault(raised.value), repr(raised.value)

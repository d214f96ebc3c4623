"""A large answer holds a thread until its client has read it (past the socket's send buffer, up
to the send timeout when the client never reads), so it takes one of the worker's export slots
while it is written (api/http.py, api/exports.py): clients that never read cannot hold every
thread by asking for big JSON any more than by starting exports."""
from __future__ import annotations

import pytest

LARGE = "/v1/events?limit=15&include=participants,statements,place"
SMALL = "/v1/events?limit=1&fields=id"


def get(client, url, **kwargs):
    """An answer read to its end and closed, as a server does once it has written it (Flask's
    test client leaves an answer open until it is closed)."""
    response = client.get(url, **kwargs)
    response.get_data()
    response.close()
    return response


@pytest.fixture()
def client(sqlite_url):
    from api import create_app

    app = create_app({"DATABASE_URL": sqlite_url, "TESTING": True, "LARGE_ANSWER_BYTES": 20_000,
                      "MAX_EXPORTS": 2, "MAX_EXPORTS_PER_CLIENT": 1})
    return app.test_client()


def test_a_large_answer_holds_a_slot_until_it_is_read(client):
    unread = client.get(LARGE, buffered=False)  # not read, not closed: its slot is held
    assert unread.status_code == 200 and int(unread.headers["Content-Length"]) > 20_000
    for _ in range(2):  # (the second time from the response cache, which hands large answers to Flask)
        refused = get(client, LARGE)
        problem = refused.get_json()
        assert refused.status_code == 429 and refused.headers["Retry-After"]
        assert refused.headers["Content-Type"].startswith("application/problem+json")
        assert problem["type"].endswith("/too-many-exports") and "finish reading" in problem["detail"]
        # a small answer needs no slot; an export does, and is refused as well
        assert get(client, SMALL).status_code == 200
        assert get(client, "/v1/events?format=ndjson").status_code == 429
    unread.close()
    assert get(client, LARGE).status_code == 200
    assert get(client, LARGE).status_code == 200  # each gave its slot back once written
    assert get(client, "/v1/events?format=ndjson").status_code == 200


def test_a_compressed_answer_is_counted_as_sent(client):
    unread = client.get(LARGE, buffered=False)
    assert unread.status_code == 200
    gzipped = get(client, LARGE, headers={"Accept-Encoding": "gzip"})  # ~1/5 of the size: no slot
    assert gzipped.status_code == 200 and gzipped.headers["Content-Encoding"] == "gzip"
    assert int(gzipped.headers["Content-Length"]) <= 20_000 < int(unread.headers["Content-Length"])
    unread.close()

"""A repeated URL is sent from the response cache in front of Flask (api/response_cache.py), with
the very headers and bytes Flask sent the first time; what it is not sure about goes to Flask."""
from __future__ import annotations

import gzip
import http.client

import pytest

from api import compression

URL = "/v1/events?limit=3&include=participants,statements&fields=title_en,participants,statements"
UNCHANGING = ("Date", "X-Cache", "Connection", "Keep-Alive")


@pytest.fixture(scope="module")
def server(sqlite_url):
    from .conftest import Gunicorn

    started = Gunicorn(sqlite_url).wait("/healthz")
    yield started
    started.stop()


@pytest.fixture()
def fetch(server):
    """Requests over one keep-alive connection, so they all reach the worker that accepted it
    (each worker has its own cache)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)

    def get(url: str, headers: dict | None = None, method: str = "GET"):
        connection.request(method, url.removeprefix(server.base), headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()

    yield get
    connection.close()


def headers_of(headers) -> dict:
    return {name: value for name, value in headers.items() if name not in UNCHANGING}


@pytest.mark.parametrize("encoding", ["", "gzip"])
def test_a_hit_has_the_first_answers_headers_and_bytes(server, fetch, encoding):
    asked = {"Accept-Encoding": encoding} if encoding else {}
    url = URL.replace("limit=3", f"limit={4 if encoding else 5}")  # a URL of its own
    status, first_headers, first = fetch(server.base + url, asked)
    assert status == 200 and "X-Cache" not in first_headers
    status, headers, body = fetch(server.base + url, asked)
    assert status == 200 and headers.get("X-Cache") == "hit"
    assert body == first and headers_of(headers) == headers_of(first_headers)
    assert int(headers["Content-Length"]) == len(body)
    if encoding:
        assert headers["Content-Encoding"] == "gzip" and gzip.decompress(body).startswith(b'{"data":')


def test_head_of_a_cached_url_sends_the_headers_only(server, fetch):
    fetch(server.base + URL)
    status, headers, body = fetch(server.base + URL, method="HEAD")
    assert status == 200 and body == b"" and headers.get("X-Cache") == "hit"
    assert int(headers["Content-Length"]) > 0


def test_what_the_cache_is_not_sure_about_goes_to_flask(server, fetch):
    _, headers, plain = fetch(server.base + URL)
    etag = headers["ETag"]
    status, _, body = fetch(server.base + URL, {"If-None-Match": etag})
    assert status == 304 and body == b""
    status, _, body = fetch(server.base + URL, {"Accept": "text/csv"})  # another representation
    assert status == 200 and body.startswith("\ufeffid,".encode())  # (with its BOM)
    status, _, body = fetch(server.base + "/" + URL, {})  # //v1/...: Flask makes it /v1/...
    assert status == 200 and body == plain


def test_gzip_is_made_when_a_client_first_asks_and_kept(sqlite_url):
    """A miss from a client that does not take gzip stores the identity body only; the first
    gzip client makes the encoding once, and later ones get those very bytes."""
    from api import create_app

    app = create_app({"DATABASE_URL": sqlite_url})
    client = app.test_client()
    url = "/v1/events?limit=20&include=participants"
    first = client.get(url)
    assert first.status_code == 200 and "Content-Encoding" not in first.headers
    entry = next(iter(app.extensions["response_cache"].entries.values()))
    assert entry.packed is None and entry.compressible
    zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and gzip.decompress(zipped.data) == first.data
    assert entry.packed == zipped.data and zipped.headers["ETag"] == compression.variant(first.headers["ETag"])
    again = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert again.headers.get("X-Cache") == "hit" and again.data == entry.packed

"""gzip over a real gunicorn: JSON pages, cached answers, streamed exports and the docs assets,
each with Vary: Accept-Encoding and an entity tag of its own."""
from __future__ import annotations

import gzip
import http.client
import json
import time
import zlib

import pytest

from tests.conftest import fetch

GZIP = {"Accept-Encoding": "gzip"}


@pytest.fixture(scope="module")
def server(sqlite_url, tmp_path_factory):
    from tests.conftest import Gunicorn

    gunicorn = Gunicorn(sqlite_url, workers=1).wait()
    yield gunicorn.base
    gunicorn.stop()


def vary(headers) -> set[str]:
    return {part.strip() for part in headers.get("Vary", "").split(",") if part.strip()}


def test_json_is_gzipped_when_asked_and_equals_the_identity_body(server):
    url = server + "/v1/events?limit=16"
    status, plain_headers, plain = fetch(url)
    status_gz, headers, packed = fetch(url, GZIP)
    assert status == status_gz == 200
    assert headers["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain_headers
    assert gzip.decompress(packed) == plain
    assert len(packed) < len(plain) / 3, (len(packed), len(plain))
    assert {"Accept", "Accept-Encoding"} <= vary(headers) and {"Accept", "Accept-Encoding"} <= vary(plain_headers)
    assert headers["ETag"] != plain_headers["ETag"]  # one tag per encoding


def test_cached_answer_keeps_both_encodings(server):
    url = server + "/v1/participants?limit=40"
    fetch(url)  # stored (with its gzip body, made once)
    _, headers, packed = fetch(url, GZIP)
    _, plain_headers, plain = fetch(url)
    assert headers.get("X-Cache") == "hit" == plain_headers.get("X-Cache")
    assert headers["Content-Encoding"] == "gzip" and gzip.decompress(packed) == plain


def test_either_tag_revalidates(server):
    url = server + "/v1/events?limit=10"
    _, headers, _ = fetch(url, GZIP)
    for tag in (headers["ETag"], "W/" + headers["ETag"]):
        status, answer, body = fetch(url, {**GZIP, "If-None-Match": tag})
        assert status == 304 and body == b"" and answer["ETag"] == headers["ETag"]


def test_refused_or_unlisted_gzip_gets_identity(server):
    for header in ("identity", "gzip;q=0", "br", "*;q=0"):
        _, headers, body = fetch(server + "/v1/events?limit=16", {"Accept-Encoding": header})
        assert "Content-Encoding" not in headers, header
        json.loads(body)


def test_small_bodies_are_sent_as_they_are(server):
    _, headers, body = fetch(server + "/healthz", GZIP)
    assert "Content-Encoding" not in headers and json.loads(body) == {"status": "ok"}


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "geojson"])
def test_streamed_exports_are_gzipped_as_they_stream(server, fmt):
    url = server + f"/v1/events?format={fmt}"
    _, plain_headers, plain = fetch(url)
    _, headers, packed = fetch(url, GZIP)
    assert headers["Content-Encoding"] == "gzip" and headers.get("Transfer-Encoding") == "chunked"
    assert "Accept-Encoding" in vary(headers)
    assert gzip.decompress(packed) == plain


def test_a_streamed_export_arrives_in_several_gzip_blocks(server):
    """Each rendered batch is flushed: the first bytes decompress before the export ends."""
    connection = http.client.HTTPConnection("127.0.0.1", int(server.rsplit(":", 1)[1]), timeout=15)
    connection.request("GET", "/v1/statements?format=csv", headers=GZIP)
    response = connection.getresponse()
    first = response.read1(65536)
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    assert decompressor.decompress(first).startswith("\ufeff".encode())  # readable already
    response.read()
    connection.close()


def test_docs_bundle_is_gzipped_once_and_revalidates(server):
    url = server + "/docs/assets/swagger-ui-bundle.js"
    _, plain_headers, plain = fetch(url)
    started = time.perf_counter()
    _, headers, packed = fetch(url, GZIP)
    assert headers["Content-Encoding"] == "gzip" and gzip.decompress(packed) == plain
    assert len(packed) < len(plain) / 2.5, (len(packed), len(plain))
    assert "Accept-Encoding" in vary(headers) and headers["ETag"].endswith('-gzip"')
    status, _, body = fetch(url, {**GZIP, "If-None-Match": headers["ETag"]})
    assert status == 304 and body == b""
    assert time.perf_counter() - started < 10

"""Every GET but the health checks has a strong ETag, and either encoding's tag revalidates it: the
data answers (tagged by release), and the rest by their bytes (the index pages, the OpenAPI
document, the docs and dashboard files, CSVW). A 304 carries the answer's CORS and security
headers, and a page that answers JSON or HTML by Accept says Vary: Accept."""
from __future__ import annotations

import pytest

PAGES = ["/", "/v1", "/v1/openapi.json", "/docs", "/docs/init.js", "/docs/assets/swagger-ui-bundle.js",
         "/dashboard", "/dashboard/assets/dashboard.js", "/csvw?url=/v1/events%3Fformat%3Dcsv", "/v1/events?limit=2"]


@pytest.mark.parametrize("path", PAGES)
def test_either_encodings_tag_revalidates_with_the_answers_headers(client, path):
    plain, packed = client.get(path), client.get(path, headers={"Accept-Encoding": "gzip"})
    assert plain.status_code == packed.status_code == 200
    tags = {plain.headers["ETag"], packed.headers["ETag"]}
    assert all(tag.startswith('"') for tag in tags)
    for tag in (*tags, "*", f'W/{plain.headers["ETag"]}'):
        for encoding in ("", "gzip"):
            answer = client.get(path, headers={"If-None-Match": tag, "Accept-Encoding": encoding})
            assert answer.status_code == 304, (tag, encoding)
            assert answer.headers["Access-Control-Allow-Origin"] == "*" and answer.headers["X-Content-Type-Options"] == "nosniff"
            assert not answer.data
            # the Vary of the 200 it stands for (RFC 9110 15.4.5: a cache updates the stored headers from it)
            assert answer.headers.get("Vary") == (packed if encoding else plain).headers.get("Vary"), (tag, encoding)


def test_the_dumps_304_varies_as_its_200(client):
    """(the dump is a zip, never compressed; its 304 is made before the view reads anything)"""
    answer = client.get("/v1/dump")
    again = client.get("/v1/dump", headers={"If-None-Match": answer.headers["ETag"]})
    assert answer.status_code == 200 and again.status_code == 304
    assert again.headers["Vary"] == answer.headers["Vary"]


def test_a_tag_made_from_bytes_is_the_same_from_another_app(client, app):
    """(another worker or node serving the same files)"""
    from api import create_app

    other = create_app(dict(app.config)).test_client()
    for path in PAGES[:-1]:
        assert client.get(path).headers["ETag"] == other.get(path).headers["ETag"], path


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_the_health_checks_are_never_cached(client, path):
    answer = client.get(path)
    assert answer.headers["Cache-Control"] == "no-store" and "ETag" not in answer.headers


@pytest.mark.parametrize("path", ["/", "/v1"])
def test_a_page_chosen_by_accept_varies_by_accept(client, path):
    html, data = client.get(path, headers={"Accept": "text/html"}), client.get(path)
    assert html.mimetype == "text/html" and data.mimetype == "application/json"
    assert html.headers["ETag"] != data.headers["ETag"]
    for answer in (html, data):
        assert "Accept" in [token.strip() for token in answer.headers["Vary"].split(",")]

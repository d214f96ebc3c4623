"""Streamed exports (csv, ndjson, geojson) on both backends.

Their body is read after the view returned. They used to lose the request's
database there (Flask's stream_with_context runs the teardown first): every
export failed on PostgreSQL, and ``include=`` exports failed on SQLite too
(found by schemathesis). Each export must hold every matching record, and a
body that is never closed must not leave its connection and snapshot to the
thread's next requests.
"""
from __future__ import annotations

import csv
import io
import json


import pytest

from models import load as loader
from models.db import open_database

from .conftest import ROOT, copy_dataset, loaded_url

EXPORTS = [
    ("/v1/events", ""), ("/v1/events", "&include=statements,participants,place"), ("/v1/events", "&fields=id,status"),
    ("/v1/statements", ""), ("/v1/statements", "&include=event,speaker"), ("/v1/participants", ""),
    ("/v1/places", "&fields=id"), ("/v1/participants/imad-khamis/events", "&include=place"),
    ("/v1/participants/imad-khamis/statements", "&include=event"),
]


def total(client, path: str) -> int:
    response = client.get(path + "?limit=1&include_undated=true" if "events" in path else path + "?limit=1")
    assert response.status_code == 200
    return response.get_json()["meta"]["total"]


@pytest.mark.parametrize("path,extra", EXPORTS)
@pytest.mark.parametrize("fmt", ["ndjson", "csv"])
def test_exports_hold_every_record(client, path, extra, fmt):
    query = "&include_undated=true" if "events" in path else ""
    response = client.get(f"{path}?format={fmt}{query}{extra}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body[:300]
    assert "attachment" in response.headers["Content-Disposition"]
    if fmt == "ndjson":
        records = [json.loads(line) for line in body.splitlines()]
    else:
        records = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    assert len(records) == total(client, path) > 0
    if "include=event" in extra and fmt == "ndjson":
        assert any(isinstance(record["event"], dict) for record in records)


@pytest.mark.parametrize("fmt", ["ndjson", "csv"])
def test_a_limited_export_links_the_next_one_and_the_chunks_make_the_whole(client, fmt):
    """A limited export that leaves records behind has a ``Link: rel="next"`` header (the body of a
    CSV or NDJSON has no room for a cursor); following it gives every record once, in order, and
    the last chunk has no next link."""
    def ids_of(body: str) -> list[str]:
        if fmt == "ndjson":
            return [json.loads(line)["id"] for line in body.splitlines()]
        return [row["id"] for row in csv.DictReader(io.StringIO(body.lstrip("\ufeff")))]

    whole = ids_of(client.get(f"/v1/events?format={fmt}&sort=-date&include_undated=true").get_data(as_text=True))
    url, chunks = f"/v1/events?format={fmt}&sort=-date&include_undated=true&limit=4", []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        chunks.append(ids_of(response.get_data(as_text=True)))
        nexts = [link for link in response.headers.getlist("Link") if 'rel="next"' in link]
        assert len(nexts) <= 1
        url = nexts[0].split(">")[0].lstrip("<") if nexts else None
        assert url is None or ("format=" + fmt in url and "cursor=" in url)
        assert len(chunks) <= len(whole)
    assert [event_id for chunk in chunks for event_id in chunk] == whole
    assert len(whole) > 8 and all(len(chunk) == 4 for chunk in chunks[:-1]) and 1 <= len(chunks[-1]) <= 4
    exact = client.get(f"/v1/events?format={fmt}&sort=-date&include_undated=true&limit={len(whole)}")
    assert not [link for link in exact.headers.getlist("Link") if 'rel="next"' in link]


def test_geojson_export_with_embedded_places(client):
    response = client.get("/v1/events?format=geojson&include=place")
    assert response.status_code == 200
    collection = json.loads(response.get_data(as_text=True))
    assert collection["type"] == "FeatureCollection" and collection["features"]
    assert all("mentions" not in f["properties"] for f in collection["features"])


def test_head_of_an_export_reads_nothing_and_frees_the_database(client):
    for _ in range(3):  # a HEAD's body is never iterated; the database it held is released on close
        response = client.head("/v1/events?format=ndjson")
        assert response.status_code == 200 and response.get_data() == b""
    assert client.get("/v1/events?limit=1").status_code == 200


@pytest.mark.parametrize("fmt", ["ndjson", "csv", "geojson"])
def test_a_head_of_an_export_takes_no_export_slot(client, fmt):
    """A HEAD's headers go out before the server closes the answer: a GET of the same URL right
    after it was a 429 (this client's one export) while the HEAD's answer was not yet closed."""
    import threading

    url = f"/v1/events?format={fmt}"
    heads = [client.head(url, buffered=False) for _ in range(3)]  # (left open: a server that has not closed them yet)
    assert all(head.status_code == 200 and "attachment" in head.headers["Content-Disposition"] for head in heads)
    answers = []  # from another server thread (a thread's next request closes what it left open)

    def download():
        response = client.get(url, buffered=False)
        answers.append((response.status_code, response.headers["Content-Type"], response.get_data(as_text=True)))
        response.close()  # (read and closed in its thread, as a server does)

    thread = threading.Thread(target=download)
    thread.start()
    thread.join(30)
    for head in heads:
        head.close()
    status, content_type, body = answers[0]
    assert status == 200, body[:300]
    assert content_type == heads[0].headers["Content-Type"]


def test_export_bodies_never_closed_or_closed_elsewhere_do_not_spoil_the_next_requests(backend, request, tmp_path,
                                                                                       tmp_path_factory):
    """An export holds the request's connection (in its read snapshot) until its body is
    closed, in the thread that served it. A body never closed, or closed from another
    thread (a garbage collector), used to leave it open: every later request of that
    thread then ran inside the stale snapshot (old data after a reload) or, once that
    transaction had failed, got 500s. The next request of the thread now closes it first."""
    import threading

    from api import create_app

    url = loaded_url(backend, tmp_path_factory, request)  # a database of its own: it gets reloaded
    client = create_app({"DATABASE_URL": url, "TESTING": True}).test_client()
    version = client.get("/readyz").get_json()["dataset_version"]

    abandoned = [client.get("/v1/events?format=ndjson") for _ in range(2)]  # never read nor closed
    elsewhere = client.get("/v1/statements?format=csv")
    closer = threading.Thread(target=elsewhere.close)
    closer.start()
    closer.join(10)

    # a new dataset (same records, one more byte in a fixture file) is loaded meanwhile
    root = tmp_path / "root"
    copy_dataset(root)
    (root / "fixtures" / "codebook.json").write_text((ROOT / "fixtures" / "codebook.json").read_text("utf-8") + "\n", "utf-8")
    loader.load(root, open_database(url))

    assert client.get("/readyz").get_json()["dataset_version"] not in (None, version)  # not the stale snapshot
    for path in ("/v1/events?limit=2", "/v1/search?q=astana", "/v1/events/khamis-meets-rouhani"):
        assert client.get(path).status_code == 200, path
    lines = client.get("/v1/events?format=ndjson&include_undated=true").get_data(as_text=True).splitlines()
    assert len(lines) == total(client, "/v1/events")
    assert abandoned  # (kept alive until here)


@pytest.mark.parametrize("path", ["/v1/events", "/v1/statements", "/v1/participants", "/v1/places",
                                  "/v1/participants/imad-khamis/events", "/v1/events?fields=title_en,date"])
def test_a_csv_that_matched_nothing_still_has_its_header(client, path):
    """A filter that matches nothing is common on a dashboard: the CSV is its header row alone (it
    was the BOM alone, which pandas refuses as empty), the same header as a CSV with rows."""
    joiner = "&" if "?" in path else "?"
    full = client.get(f"{path}{joiner}format=csv&limit=2").get_data(as_text=True).lstrip("\ufeff")
    empty = client.get(f"{path}{joiner}format=csv&q=zzqqxxnothing").get_data(as_text=True)
    assert empty.startswith("\ufeff")
    header = next(csv.reader(io.StringIO(full)))
    assert len(header) > 1 and empty.lstrip("\ufeff") == ",".join(header) + "\r\n"
    assert list(csv.DictReader(io.StringIO(empty.lstrip("\ufeff")))) == []

"""Exports take the parameters of a JSON page (fields, limit, cursor) and mean the same by them;
the timeline and network CSVs hold what their JSON holds. Over a real gunicorn."""
from __future__ import annotations

import csv
import io
import json

import pytest

from tests.conftest import fetch


@pytest.fixture(scope="module")
def server(sqlite_url):
    from tests.conftest import Gunicorn

    gunicorn = Gunicorn(sqlite_url, workers=1).wait()
    yield gunicorn.base
    gunicorn.stop()


def get(server: str, url: str, status: int = 200) -> bytes:
    answer, _, body = fetch(server + url)
    assert answer == status, body
    return body


def table(body: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def lines(body: bytes) -> list[dict]:
    return [json.loads(line) for line in body.decode().splitlines()]


def test_csv_honours_fields(server):
    rows = table(get(server, "/v1/events?format=csv&fields=title_en,date"))
    assert rows and set(rows[0]) == {"id", "title_en", "date_start", "date_end", "date_precision",
                                     "date_expression", "date_resolution"}
    participants = table(get(server, "/v1/events?format=csv&fields=participants,cameo"))
    assert {"participant_ids", "cameo_code", "cameo_root", "goldstein"} <= set(participants[0])
    assert "title_en" not in participants[0]


def test_ndjson_honours_fields(server):
    records = lines(get(server, "/v1/statements?format=ndjson&fields=speaker"))
    assert records and all(set(record) == {"id", "speaker"} for record in records)


@pytest.mark.parametrize("fmt,read", [("csv", table), ("ndjson", lines)])
def test_limit_and_cursor_mean_what_they_mean_for_a_page(server, fmt, read):
    page = json.loads(get(server, "/v1/events?sort=date&limit=4"))
    first = read(get(server, f"/v1/events?sort=date&limit=4&format={fmt}"))
    assert [r["id"] for r in first] == [e["id"] for e in page["data"]]
    cursor = page["meta"]["next_cursor"]
    rest = read(get(server, f"/v1/events?sort=date&cursor={cursor}&format={fmt}"))
    everything = json.loads(get(server, "/v1/events?sort=date&limit=500"))["data"]
    assert [r["id"] for r in first + rest] == [e["id"] for e in everything]


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "geojson"])
def test_a_bogus_cursor_is_a_400_for_exports_too(server, fmt):
    problem = json.loads(get(server, f"/v1/events?format={fmt}&cursor=bogus", 400))
    assert "cursor" in problem["errors"]


def test_timeline_csv_has_ranged_and_undated(server):
    body = json.loads(get(server, "/v1/stats/timeline?interval=month"))
    rows = table(get(server, "/v1/stats/timeline?interval=month&format=csv"))
    buckets, last = rows[:-1], rows[-1]
    assert [int(r["ranged"]) for r in buckets] == [b["ranged"] for b in body["data"]]
    assert last["bucket_start"] == "" and int(last["count"]) == body["meta"]["undated"] > 0
    assert sum(int(r["count"]) for r in rows) == body["meta"]["total"] + body["meta"]["undated"]


def test_network_csv_offers_nodes_and_edges(server):
    graph = json.loads(get(server, "/v1/network"))["data"]
    nodes = table(get(server, "/v1/network?format=csv&part=nodes"))
    edges = table(get(server, "/v1/network?format=csv"))
    assert [(n["id"], int(n["events"])) for n in nodes] == [(n["id"], n["events"]) for n in graph["nodes"]]
    assert [(e["source"], e["target"], int(e["weight"])) for e in edges] == [
        (e["source"], e["target"], e["weight"]) for e in graph["edges"]]
    assert nodes[0]["name_ar"]
    get(server, "/v1/network?format=csv&part=both", 400)

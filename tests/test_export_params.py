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


def test_directed_network_csv_offers_its_nodes_too(server):
    graph = json.loads(get(server, "/v1/network?directed=true"))["data"]
    nodes = table(get(server, "/v1/network?directed=true&format=csv&part=nodes"))
    edges = table(get(server, "/v1/network?directed=true&format=csv"))
    assert [(n["id"], n["actor_code"] or None, int(n["events"])) for n in nodes] == [
        (n["id"], n["actor_code"], n["events"]) for n in graph["nodes"]]
    assert [(e["source"], e["target"], int(e["event_count"])) for e in edges] == [
        (e["source"], e["target"], e["event_count"]) for e in graph["edges"]]


def test_dyads_csv_refuses_a_series_it_cannot_hold(server):
    problem = json.loads(get(server, "/v1/stats/dyads?format=csv&interval=year", 400))
    assert list(problem["errors"]) == ["interval"]
    assert table(get(server, "/v1/stats/dyads?format=csv"))


def header(body: bytes) -> list[str]:
    return next(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_a_csv_column_belongs_to_the_field_it_is_named_after(server):
    # `source` (the source's id) does not take the columns of `source_actors`, nor the reverse
    assert header(get(server, "/v1/events?format=csv&fields=source")) == ["id", "source"]
    actors = header(get(server, "/v1/events?format=csv&fields=source_actors"))
    assert actors == ["id", "source_actor_ids", "source_actor_codes"]
    # a statement's sides are its speaker and its addressees; identifiers are the Wikidata column
    sides = header(get(server, "/v1/statements?format=csv&fields=addressees"))
    assert sides == ["id", "target_actor_ids", "target_actor_codes"]
    assert header(get(server, "/v1/participants?format=csv&fields=identifiers")) == ["id", "wikidata", "geonames"]


@pytest.mark.parametrize("collection", ["events", "statements"])
def test_every_member_of_the_coding_has_a_column(server, collection):
    # a statement's PLOVER mode ("disapprove") and contexts were in its JSON only
    assert header(get(server, f"/v1/{collection}?format=csv&fields=plover")) == \
        ["id", "plover_type", "plover_mode", "plover_context"]
    assert {"cameo_code", "cameo_label", "cameo_root", "cameo_root_label", "goldstein", "quad_class"} == \
        set(header(get(server, f"/v1/{collection}?format=csv&fields=cameo"))) - {"id"}


#: fields that are lists of spans or of per-source records: NDJSON and JSON carry them, CSV does not
NO_CSV_COLUMN = {"participants": {"mentions", "roles_at_sources"}, "places": {"mentions"}}


@pytest.mark.parametrize("collection", ["events", "statements", "participants", "places"])
def test_every_field_but_the_span_lists_has_a_csv_column(server, collection):
    from api.resources import RESOURCES

    resource = next(r for r in RESOURCES if r.name == collection)
    without = {field for field in resource.field_names if field != "id"
               and header(get(server, f"/v1/{collection}?format=csv&fields={field}")) == ["id"]}
    assert without == NO_CSV_COLUMN.get(collection, set())
    every = header(get(server, f"/v1/{collection}?format=csv"))
    assert {"codebook_version", "notes", "first_release", "last_release"} <= set(every)


def test_the_release_columns_hold_the_releases_of_the_json(server):
    rows = table(get(server, "/v1/events?format=csv&fields=first_release,last_release&sort=id"))
    events = json.loads(get(server, "/v1/events?fields=first_release,last_release&sort=id&limit=500"))["data"]
    assert [(r["id"], int(r["first_release"]), int(r["last_release"])) for r in rows] == \
        [(e["id"], e["first_release"], e["last_release"]) for e in events]


def features(body: bytes) -> list[dict]:
    collection = json.loads(body)  # (a body cut short by a failure in the stream does not parse)
    assert collection["type"] == "FeatureCollection"
    return collection["features"]


@pytest.mark.parametrize("url", ["/v1/events?format=geojson", "/v1/participants/imad-khamis/events?format=geojson"])
@pytest.mark.parametrize("chosen", ["title_en,place", "date", "id"])
def test_geojson_honours_fields_with_its_csv_columns(server, url, chosen):
    whole = features(get(server, url))
    picked = features(get(server, f"{url}&fields={chosen}"))
    assert whole and [f["id"] for f in picked] == [f["id"] for f in whole]  # every located event still
    assert [f["geometry"] for f in picked] == [f["geometry"] for f in whole]
    columns = header(get(server, f"{url.replace('geojson', 'csv')}&fields={chosen}"))
    assert all(list(f["properties"]) == columns for f in picked)

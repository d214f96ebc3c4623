"""CSV, NDJSON and GeoJSON exports of the collections."""
from __future__ import annotations

import csv
import io
import json

import pytest


def test_ndjson_has_one_valid_record_per_line(client):
    expected = client.get("/v1/events?limit=500&include_undated=true").get_json()["data"]
    response = client.get("/v1/events?format=ndjson&include_undated=true")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/x-ndjson")
    assert 'filename="events-' in response.headers["Content-Disposition"]
    lines = response.get_data(as_text=True).splitlines()
    assert len(lines) == len(expected)
    assert [json.loads(line) for line in lines] == expected


@pytest.mark.parametrize("kind", ["events", "statements", "participants", "places"])
def test_csv_parses_and_keeps_arabic(client, kind):
    response = client.get(f"/v1/{kind}?format=csv&limit=500" if kind != "events" else "/v1/events?format=csv&include_undated=true")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode("utf-8"))  # the BOM spreadsheets need for Arabic
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    records = client.get(f"/v1/{kind}?limit=500&include_undated=true" if kind == "events" else f"/v1/{kind}?limit=500").get_json()["data"]
    assert [row["id"] for row in rows] == [r["id"] for r in records]
    by_id = {r["id"]: r for r in records}
    for row in rows:
        record = by_id[row["id"]]
        if kind == "statements":
            assert row["text_ar"] == record["text_ar"]  # round trip of Arabic, quotes and commas included
            assert row["speaker_name_ar"] == record["speaker"]["name_ar"]
        elif kind == "events":
            listed = [pid for pid in row["participant_ids"].split(";") if pid]  # a passive event may name no one
            assert listed == [p["participant"]["id"] for p in record["participants"]]
            assert row["source_actor_ids"] == ";".join(p["id"] for p in record["source_actors"])
            assert row["evidence_ar"].startswith(record["evidence"][0]["text"])
        else:
            assert row["name_ar"] == record["name_ar"]


def test_accept_header_chooses_the_format(client):
    response = client.get("/v1/places", headers={"Accept": "text/csv"})
    assert response.headers["Content-Type"].startswith("text/csv")
    response = client.get("/v1/places", headers={"Accept": "application/x-ndjson"})
    assert response.headers["Content-Type"].startswith("application/x-ndjson")


@pytest.mark.parametrize("accept,chosen", [
    ("application/json;q=0, */*", "text/csv"),  # the specific range's q=0 rules JSON out (RFC 9110 12.5.1)
    ("*/*;q=0.1, application/json;q=0", "text/csv"),
    ("application/*;q=0, */*", "text/csv"),
    ("text/csv;q=0.5, */*", "application/json"),  # */* rates JSON 1, the CSV 0.5
    ("text/csv, application/json", "text/csv"),  # a tie: the range named first
    ("application/geo+json;q=0.5, text/csv;q=0.9", "text/csv"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/json"),  # a browser
    ("application/*", "application/json"),
])
def test_the_most_specific_media_range_rates_a_format(client, accept, chosen):
    response = client.get("/v1/events?limit=1", headers={"Accept": accept})
    assert response.status_code == 200 and response.mimetype == chosen, (accept, response.status_code)


@pytest.mark.parametrize("accept", ["application/json;q=0, */*", "text/csv;q=0, text/*", "application/*;q=0, */*;q=0"])
def test_a_range_that_rules_json_out_is_a_406_where_json_is_all_there_is(client, accept):
    response = client.get("/v1/events/khamis-meets-rouhani", headers={"Accept": accept})
    assert response.status_code == 406 and response.mimetype == "application/problem+json", accept


def test_geojson_is_a_valid_feature_collection_in_lon_lat_order(client):
    response = client.get("/v1/events?format=geojson&include_undated=true")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/geo+json")
    collection = response.get_json(force=True)
    assert collection["type"] == "FeatureCollection"
    events = client.get("/v1/events?limit=500&include_undated=true").get_json()["data"]
    with_place = [e for e in events if e["place"] and e["place"]["lat"] is not None]
    assert [f["id"] for f in collection["features"]] == [e["id"] for e in with_place]
    places = {p["id"]: p for p in client.get("/v1/places").get_json()["data"]}
    for feature in collection["features"]:
        assert feature["type"] == "Feature"
        assert feature["geometry"]["type"] == "Point"
        lon, lat = feature["geometry"]["coordinates"]
        place = places[feature["properties"]["place_id"]]
        assert (lon, lat) == (place["lon"], place["lat"])  # RFC 7946: longitude first
        assert -180 <= lon <= 180 and -90 <= lat <= 90
        assert isinstance(feature["properties"], dict)
    tehran = next(f for f in collection["features"] if f["properties"]["place_id"] == "tehran")
    assert tehran["geometry"]["coordinates"][0] > tehran["geometry"]["coordinates"][1]  # Tehran: lon 51 > lat 35


def test_exports_follow_filters(client):
    lines = client.get("/v1/events?format=ndjson&participant=hassan-rouhani").get_data(as_text=True).splitlines()
    ids = [json.loads(line)["id"] for line in lines]
    assert ids == [e["id"] for e in client.get("/v1/events?participant=hassan-rouhani").get_json()["data"]]

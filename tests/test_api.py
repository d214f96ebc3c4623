"""The v1 resources through the Flask test client, on SQLite and on PostgreSQL."""
from __future__ import annotations


import pytest

from .conftest import SOURCE, count_queries



def get(client, url, status=200, **kwargs):
    response = client.get(url, **kwargs)
    assert response.status_code == status, (url, response.status_code, response.get_data(as_text=True)[:500])
    return response


def data(client, url):
    return get(client, url).get_json()


def ids(client, url):
    return [record["id"] for record in data(client, url)["data"]]


def all_pages(client, url):
    """Follow links.next to the end; return every record."""
    records, seen = [], 0
    while url:
        body = data(client, url)
        records.extend(body["data"])
        url = body["links"]["next"]
        seen += 1
        assert seen < 200
    return records


# --------------------------------------------------------------------------- envelope


@pytest.mark.parametrize("url", [
    "/v1/events", "/v1/participants", "/v1/statements", "/v1/places", "/v1/sources", "/v1/event-types",
    "/v1/participants/imad-khamis/events", "/v1/participants/imad-khamis/statements",
])
def test_collections_have_data_meta_links(client, url):
    body = data(client, url)
    assert isinstance(body["data"], list) and body["data"]
    assert set(body["meta"]) >= {"dataset_version", "limit", "total", "next_cursor"}
    assert body["meta"]["total"] >= len(body["data"])
    assert set(body["links"]) == {"self", "next"}
    assert len(body["meta"]["dataset_version"]) == 16


@pytest.mark.parametrize("url", [
    "/v1/events/khamis-meets-rouhani", "/v1/participants/imad-khamis", "/v1/statements/khamis-hopes-astana-solution",
    "/v1/places/tehran", f"/v1/sources/{SOURCE}",
])
def test_single_records_have_data_and_meta(client, url):
    body = data(client, url)
    assert isinstance(body["data"], dict)
    assert body["data"]["id"] == url.rsplit("/", 1)[1]
    assert set(body) == {"data", "meta"}


def test_arabic_is_sent_as_characters_not_escapes(client):
    response = get(client, "/v1/participants/imad-khamis")
    raw = response.get_data(as_text=True)
    assert "عماد خميس" in raw
    assert "\\u0639" not in raw
    assert response.headers["Content-Type"].startswith("application/json")


def test_event_fields_follow_the_contract(client):
    event = data(client, "/v1/events/khamis-meets-rouhani")["data"]
    assert {"id", "title_en", "summary_en", "cameo", "plover", "status", "date", "place", "participants", "evidence",
            "statements", "confidence", "source"} <= set(event)
    assert set(event["cameo"]) >= {"code", "root", "label"}
    assert set(event["date"]) >= {"start", "end", "precision", "expression", "resolution"}
    assert event["place"]["id"] == "tehran"
    for link in event["participants"]:
        assert set(link) == {"participant", "role"}
        assert {"id", "name_en", "name_ar"} <= set(link["participant"])
    for span in event["evidence"]:
        assert set(span) == {"source", "start", "end", "text"}


def test_spans_in_the_api_match_the_source_text(client):
    text = data(client, f"/v1/sources/{SOURCE}")["data"]["text"]
    spans = []
    for event in all_pages(client, "/v1/events?include_undated=true&limit=500"):
        spans += event["evidence"] + ([event["date"]["expression"]] if event["date"]["expression"] else [])
    for statement in all_pages(client, "/v1/statements?limit=500"):
        spans += [statement["span"], *statement["evidence"]]
        assert statement["text_ar"] == statement["span"]["text"]
    for participant in all_pages(client, "/v1/participants?limit=500"):
        spans += participant["mentions"]
    assert len(spans) > 50
    for span in spans:
        assert text[span["start"]:span["end"]] == span["text"], span


# --------------------------------------------------------------------------- filters


def test_participant_filter_is_repeatable_and_means_all(client):
    khamis = set(ids(client, "/v1/events?participant=imad-khamis&limit=500"))
    rouhani = set(ids(client, "/v1/events?participant=hassan-rouhani&limit=500"))
    both = set(ids(client, "/v1/events?participant=imad-khamis&participant=hassan-rouhani&limit=500"))
    assert both == khamis & rouhani
    assert "khamis-meets-rouhani" in both
    assert both != khamis


def test_country_matches_participants_or_place(client):
    events = data(client, "/v1/events?country=KAZ&limit=500")["data"]
    assert [e["id"] for e in events] == ["astana-talks-planned"]
    lower = ids(client, "/v1/events?country=kaz")
    assert lower == ["astana-talks-planned"]
    for event in data(client, "/v1/events?country=IRN&limit=500")["data"]:
        countries = {p["participant"]["country"] for p in event["participants"]} | {(event["place"] or {}).get("country")}
        assert "IRN" in countries


def test_type_is_a_cameo_prefix(client):
    consult = data(client, "/v1/events?type=04&limit=500&include_undated=true")["data"]
    assert consult and all(e["cameo"]["code"].startswith("04") for e in consult)
    exact = data(client, "/v1/events?type=040&limit=500")["data"]
    assert exact and all(e["cameo"]["code"].startswith("040") for e in exact)
    assert len(exact) < len(consult)


@pytest.mark.parametrize("param,value,check", [
    ("status", "planned", lambda e: e["status"] == "planned"),
    ("plover", "CONSULT", lambda e: (e["plover"] or {}).get("type") == "CONSULT"),
    ("place", "tehran", lambda e: (e["place"] or {}).get("id") == "tehran"),
    ("topic", "astana_talks", lambda e: "astana_talks" in e["topics"]),
    ("source", SOURCE, lambda e: e["source"] == SOURCE),
])
def test_simple_event_filters(client, param, value, check):
    events = data(client, f"/v1/events?{param}={value}&limit=500")["data"]
    assert events
    assert all(check(e) for e in events)
    everything = data(client, "/v1/events?limit=500")["data"]
    assert len([e for e in everything if check(e)]) == len(events)


def test_date_filter_uses_interval_overlap_and_excludes_undated(client):
    on_17th = set(ids(client, "/v1/events?from=2017-01-17&to=2017-01-17&limit=500"))
    assert "khamis-talks-iranian-officials" in on_17th
    assert "khamis-meets-velayati" in on_17th  # a 16–18 January range overlaps the 17th
    assert "khamis-meets-rouhani" not in on_17th  # the 18th
    assert "syrian-army-recaptures-aleppo" not in on_17th  # undated
    with_undated = set(ids(client, "/v1/events?from=2017-01-17&to=2017-01-17&include_undated=true&limit=500"))
    assert "syrian-army-recaptures-aleppo" in with_undated
    assert on_17th < with_undated
    planned = ids(client, "/v1/events?from=2017-01-20")
    assert planned == ["astana-talks-planned"]


def test_statement_filters(client):
    by_velayati = data(client, "/v1/statements?speaker=ali-akbar-velayati&limit=500")["data"]
    assert by_velayati and all(s["speaker"]["id"] == "ali-akbar-velayati" for s in by_velayati)
    direct = data(client, "/v1/statements?mode=direct&limit=500")["data"]
    assert direct and all(s["mode"] == "direct" for s in direct)
    at_meeting = data(client, "/v1/statements?event=khamis-meets-rouhani&limit=500")["data"]
    event = data(client, "/v1/events/khamis-meets-rouhani")["data"]
    assert sorted(s["id"] for s in at_meeting) == sorted(event["statements"])
    us = ids(client, "/v1/statements?topic=us_participation")
    assert us == ["velayati-iran-opposes-us-participation"]


def test_participant_and_place_filters(client):
    people = data(client, "/v1/participants?kind=person&limit=500")["data"]
    assert people and all(p["kind"] == "person" for p in people)
    iranians = data(client, "/v1/participants?country=IRN&limit=500")["data"]
    assert {"hassan-rouhani", "ali-akbar-velayati"} <= {p["id"] for p in iranians}
    cities = data(client, "/v1/places?kind=city")["data"]
    assert {"tehran", "astana", "aleppo"} <= {p["id"] for p in cities}


def test_participant_subresources(client):
    events = ids(client, "/v1/participants/hassan-rouhani/events?limit=500&include_undated=true")
    assert "khamis-meets-rouhani" in events
    assert set(events) == set(ids(client, "/v1/events?participant=hassan-rouhani&limit=500"))
    statements = data(client, "/v1/participants/hassan-rouhani/statements?limit=500")["data"]
    assert statements and all(s["speaker"]["id"] == "hassan-rouhani" for s in statements)
    get(client, "/v1/participants/nobody/events", 404)


# --------------------------------------------------------------------------- order and pages


@pytest.mark.parametrize("sort", ["date", "-date", "id", "-id"])
def test_cursor_pages_walk_the_whole_list_in_order(client, sort):
    everything = data(client, f"/v1/events?sort={sort}&limit=500")["data"]
    paged = all_pages(client, f"/v1/events?sort={sort}&limit=3")
    assert [e["id"] for e in paged] == [e["id"] for e in everything]
    keys = [((e["date"]["start"] or e["date"]["end"] or "") if "date" in sort else "", e["id"]) for e in everything]
    ordered = sorted(keys, reverse=sort.startswith("-"))
    assert keys == [k for k in ordered if k[0] != ""] + [k for k in ordered if k[0] == ""]  # undated last


def test_pages_report_total_and_next(client):
    body = data(client, "/v1/events?limit=2")
    assert body["meta"]["limit"] == 2 and len(body["data"]) == 2
    assert body["meta"]["total"] == len(data(client, "/v1/events?limit=500")["data"])
    assert body["meta"]["next_cursor"] and "cursor=" in body["links"]["next"]
    last = data(client, "/v1/events?limit=500")
    assert last["meta"]["next_cursor"] is None and last["links"]["next"] is None


def test_cursor_from_another_query_or_edited_is_rejected(client):
    cursor = data(client, "/v1/events?limit=2")["meta"]["next_cursor"]
    for url in (f"/v1/events?limit=2&status=planned&cursor={cursor}", f"/v1/statements?cursor={cursor}",
                f"/v1/events?limit=2&sort=-date&cursor={cursor}", f"/v1/events?limit=2&cursor={cursor[:-2]}xy",
                "/v1/events?cursor=not-a-cursor"):
        body = get(client, url, 400).get_json()
        assert "cursor" in body["errors"], url
    # the limit may change between pages
    get(client, f"/v1/events?limit=5&cursor={cursor}")


def test_sparse_fields(client):
    events = data(client, "/v1/events?fields=title_en,status")["data"]
    assert events and all(set(e) == {"id", "title_en", "status"} for e in events)
    single = data(client, "/v1/participants/imad-khamis?fields=name_ar")["data"]
    assert single == {"id": "imad-khamis", "name_ar": "عماد خميس"}


def test_include_embeds_related_records(client):
    event = data(client, "/v1/events/khamis-meets-rouhani?include=statements,participants,place")["data"]
    assert event["statements"] and all(isinstance(s, dict) and s["event"] == "khamis-meets-rouhani" for s in event["statements"])
    assert all("aliases" in link["participant"] and "mention_count" in link["participant"] for link in event["participants"])
    assert "kind" in event["place"] and "mention_count" in event["place"]
    assert all("mentions" not in link["participant"] for link in event["participants"])  # too many to embed
    assert "mentions" not in event["place"]
    statement = data(client, "/v1/statements/khamis-hopes-astana-solution?include=event,speaker")["data"]
    assert statement["event"]["id"] == "khamis-meets-rouhani"
    assert "aliases" in statement["speaker"] and "mentions" not in statement["speaker"]
    # the embedded form is the full record but for its mentions and its releases (those of the record served)
    full = data(client, f"/v1/participants/{statement['speaker']['id']}")["data"]
    assert full["mentions"] and isinstance(full["first_release"], int) and isinstance(full["last_release"], int)
    own = ("mentions", "first_release", "last_release")
    assert {k: v for k, v in full.items() if k not in own} == statement["speaker"]


def test_list_pages_run_a_constant_number_of_queries(database_url):
    """No N+1: a page costs the dataset-version lookup, the page (its records' releases read with
    them), the total and one query for all its embedded records, of every kind (and, by date
    ascending, one more for the undated events after the last page of dated ones)."""
    from api import create_app

    def fresh():  # no response cache, no cached totals
        return create_app({"DATABASE_URL": database_url, "RESPONSE_CACHE_BYTES": 0}).test_client()

    url = "/v1/events?include_undated=true&include=statements,participants,place&limit={}"
    for limit in (1, 2, 500):
        with count_queries() as statements:
            get(fresh(), url.format(limit))
        assert len(statements) <= 3 + 1 + 1, statements
    with count_queries() as statements:
        body = get(fresh(), url.format(500)).get_json()
    assert len(body["data"]) > 10
    assert len(statements) == 3 + 1 + 1, statements
    assert all(isinstance(event["first_release"], int) for event in body["data"])
    for path, embeds in (("/v1/statements?include=event,speaker&limit={}", 1), ("/v1/participants?limit={}", 0),
                         ("/v1/places?limit={}", 0)):
        with count_queries() as statements:
            get(fresh(), path.format(500))
        assert len(statements) == 3 + embeds, (path, statements)


@pytest.mark.parametrize("fmt", ["ndjson", "csv", "geojson"])
def test_an_export_with_a_limit_reads_no_more_rows_than_it_sends(database_url, fmt):
    """An export of ``limit`` records asks each query for at most limit + 1 rows (the one past the
    end says whether more follow), as a page does; it read a first batch of 2,001 before (an export
    of 50 cost 18 ms of CPU at 100,000 events, 2.2 ms after). And it sends the page's records."""
    import ast

    from api import create_app

    client = create_app({"DATABASE_URL": database_url, "RESPONSE_CACHE_BYTES": 0}).test_client()
    page = ids(client, "/v1/events?sort=-date&limit=2")
    with count_queries() as statements:
        answer = get(client, f"/v1/events?sort=-date&limit=2&format={fmt}&include=participants")
        text = answer.get_data(as_text=True)  # (a streamed body: read inside the block)
    asked = [value for statement in statements for value in ast.literal_eval(statement)[1]
             if isinstance(value, int) and not isinstance(value, bool)]
    assert asked and max(asked) <= 3, statements
    assert all(event_id in text for event_id in page)
    assert len(page) == 2 and not any(event_id in text for event_id in ids(client, "/v1/events?sort=-date&limit=4")[2:])


def test_one_record_with_everything_embedded_takes_two_queries(database_url):
    """Besides the dataset-version lookup: the record with its releases, then every record it embeds."""
    from api import create_app

    client = create_app({"DATABASE_URL": database_url, "RESPONSE_CACHE_BYTES": 0}).test_client()
    for path in ("/v1/events/khamis-meets-rouhani?include=participants,statements,place",
                 "/v1/statements/velayati-hopes-astana-security?include=event,speaker"):
        with count_queries() as statements:
            body = get(client, path).get_json()
        data_queries = [s for s in statements if "dataset_meta" not in s]  # (count_queries keeps SELECTs)
        assert len(data_queries) == 2, data_queries
        assert body["data"]["first_release"] == 1


def test_the_total_is_counted_once_per_listing(database_url):
    from api import create_app

    client = create_app({"DATABASE_URL": database_url, "RESPONSE_CACHE_BYTES": 0}).test_client()
    first = get(client, "/v1/events?limit=2&status=occurred").get_json()
    with count_queries() as statements:
        second = get(client, first["links"]["next"]).get_json()
    assert second["meta"]["total"] == first["meta"]["total"]
    assert not any("COUNT(" in s for s in statements), statements


# --------------------------------------------------------------------------- sources and types


def test_source_has_full_text_and_highlights(client):
    body = data(client, f"/v1/sources/{SOURCE}?highlight=khamis-meets-rouhani")["data"]
    assert body["published_at"] == "2017-01-18T19:04:00+02:00"
    assert body["publisher"] == "SyriaNews" and body["language"] == "ar"
    assert len(body["sha256"]) == 64
    assert body["highlight"] == {"kind": "event", "id": "khamis-meets-rouhani"}
    assert body["highlights"]
    for span in body["highlights"]:
        assert body["text"][span["start"]:span["end"]] == span["text"]
    assert body["text_marked"].count("<mark>") >= 1
    listed = data(client, "/v1/sources")["data"][0]
    assert "text" not in listed
    # an unknown record is a bad parameter of a source that exists, not a missing source
    problem = get(client, f"/v1/sources/{SOURCE}?highlight=nothing-like-this", 400).get_json()
    assert list(problem["errors"]) == ["highlight"] and "nothing-like-this" in problem["detail"]


def test_event_types_list_codes_in_use_with_plover(client):
    types = data(client, "/v1/event-types")["data"]
    by_code = {t["code"]: t for t in types}
    events = data(client, "/v1/events?limit=500&include_undated=true")["data"]
    for event in events:
        entry = by_code[event["cameo"]["code"]]
        assert entry["label"] == event["cameo"]["label"]
        assert entry["root"] == event["cameo"]["code"][:2]
    assert sum(t["event_count"] for t in types) == len(events)
    assert by_code["040"]["plover"]["type"] == "CONSULT"


# --------------------------------------------------------------------------- HTTP behaviour


def test_etag_and_304(client):
    first = get(client, "/v1/events?limit=3")
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith('W/')
    assert "max-age=" in first.headers["Cache-Control"]
    again = client.get("/v1/events?limit=3", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    other = get(client, "/v1/events?limit=4")
    assert other.headers["ETag"] != etag


def test_head_and_options(client):
    head = client.head("/v1/events")
    assert head.status_code == 200 and head.get_data() == b""
    options = client.options("/v1/events", headers={"Origin": "https://dash.example", "Access-Control-Request-Method": "GET"})
    assert options.status_code == 204 and options.get_data() == b""  # (a 200 with an empty text/html body before)
    assert "Content-Type" not in options.headers
    assert "GET" in options.headers["Allow"]
    assert options.headers["Access-Control-Allow-Origin"] == "*"


def test_cors_on_get(client):
    response = get(client, "/v1/events", headers={"Origin": "https://dash.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]


def test_security_headers(client):
    response = get(client, "/v1/events")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Server" not in response.headers or "werkzeug" not in response.headers["Server"].lower()


def test_health_endpoints(client):
    assert data(client, "/healthz") == {"status": "ok"}
    ready = data(client, "/readyz")
    assert ready["status"] == "ready" and len(ready["dataset_version"]) == 16

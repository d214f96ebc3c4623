"""/v1/stats/timeline, /v1/stats/facets and /v1/network.

Expectations are computed from the API's own list endpoints (/v1/events,
/v1/statements, /v1/participants) over the loaded fixtures, so the counts are
checked against the records themselves rather than against hard-coded numbers.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
import sqlite3
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path
from urllib.parse import urlencode

import pytest

from api.app import create_app
from models import load as loader
from models.db import open_database

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def db_path(tmp_path_factory):
    directory = tmp_path_factory.mktemp("stats")
    path = directory / "db.sqlite3"
    db = open_database(f"sqlite:///{path}", create_dir=True)
    loader.load(ROOT, db)
    return path


@pytest.fixture(scope="module")
def client(db_path):
    return create_app(config={"DATABASE_URL": f"sqlite:///{db_path}"}).test_client()


def get_json(client, path, params=None, status=200):
    url = path + ("?" + urlencode(params, doseq=True) if params else "")
    response = client.get(url)
    assert response.status_code == status, (url, response.get_data(as_text=True))
    return response.get_json()


def all_records(client, path, params=None) -> list[dict]:
    """Every record of a list endpoint, following the cursors."""
    params = dict(params or {}, limit=500)
    body = get_json(client, path, params)
    records = list(body["data"])
    while body["meta"]["next_cursor"]:
        body = get_json(client, path, dict(params, cursor=body["meta"]["next_cursor"]))
        records.extend(body["data"])
    return records


def total(client, params) -> int:
    return get_json(client, "/v1/events", dict(params, limit=1))["meta"]["total"]


def anchor(event: dict) -> str | None:
    """The documented counting date: date.start, else date.end."""
    return event["date"]["start"] or event["date"]["end"]


def csv_rows(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode("utf-8")), "CSV must start with a UTF-8 BOM"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


@pytest.fixture(scope="module")
def events(client):
    return all_records(client, "/v1/events")


@pytest.fixture(scope="module")
def statements(client):
    return all_records(client, "/v1/statements")


# --------------------------------------------------------------------------- timeline


def test_timeline_totals_match_the_event_list(client, events):
    body = get_json(client, "/v1/stats/timeline", {"interval": "month"})
    dated = [e for e in events if anchor(e)]
    assert dated and len(dated) < len(events), "the fixtures have dated and undated events"
    assert sum(b["count"] for b in body["data"]) == body["meta"]["total"] == len(dated)
    assert body["meta"]["undated"] == len(events) - len(dated)
    assert body["meta"]["ranged"] == sum(1 for e in dated if e["date"]["precision"] != "day") > 0
    assert sum(b["ranged"] for b in body["data"]) == body["meta"]["ranged"]
    # the default range is the span of the anchors
    assert body["meta"]["from"] == min(anchor(e) for e in dated)
    assert body["meta"]["to"] == max(anchor(e) for e in dated)


def test_month_bucket_equals_the_filtered_list(client):
    listed = all_records(client, "/v1/events", {"from": "2017-01-01", "to": "2017-01-31"})
    in_month = [e for e in listed if "2017-01-01" <= anchor(e) <= "2017-01-31"]
    assert in_month
    body = get_json(client, "/v1/stats/timeline", {"interval": "month", "from": "2017-01-01", "to": "2017-01-31"})
    assert len(body["data"]) == 1
    bucket = body["data"][0]
    assert (bucket["start"], bucket["end"]) == ("2017-01-01", "2017-01-31")
    assert bucket["count"] == len(in_month)
    day_precise = [e for e in in_month if e["date"]["precision"] == "day"]
    assert bucket["count"] - bucket["ranged"] == len(day_precise) > 0


def test_zero_fill_over_a_range_with_no_events(client):
    body = get_json(client, "/v1/stats/timeline", {"interval": "month", "from": "2016-09-15", "to": "2016-12-31"})
    assert [(b["start"], b["end"]) for b in body["data"]] == [
        ("2016-09-01", "2016-09-30"), ("2016-10-01", "2016-10-31"), ("2016-11-01", "2016-11-30"), ("2016-12-01", "2016-12-31")]
    assert all(b["count"] == 0 and b["ranged"] == 0 for b in body["data"])
    assert body["meta"]["total"] == 0 and body["meta"]["buckets"] == 4
    # around the data: empty months on both sides, the events in January
    body = get_json(client, "/v1/stats/timeline", {"interval": "month", "from": "2016-11-01", "to": "2017-03-31"})
    assert [b["count"] for b in body["data"]][:2] == [0, 0] and [b["count"] for b in body["data"]][3:] == [0, 0]
    assert body["data"][2]["count"] == body["meta"]["total"] > 0


def test_day_buckets_are_contiguous_and_count_by_anchor(client, events):
    body = get_json(client, "/v1/stats/timeline", {"interval": "day", "from": "2017-01-10", "to": "2017-01-25"})
    days = [b["start"] for b in body["data"]]
    expected_days = [(dt.date(2017, 1, 10) + dt.timedelta(days=i)).isoformat() for i in range(16)]
    assert days == expected_days
    assert all(b["start"] == b["end"] for b in body["data"])
    per_day = Counter(anchor(e) for e in events if anchor(e))
    assert {b["start"]: b["count"] for b in body["data"]} == {d: per_day.get(d, 0) for d in expected_days}
    # an event with an open start is counted on its end date, and flagged
    open_start = [e for e in events if e["date"]["start"] is None and e["date"]["end"]]
    assert open_start
    for event in open_start:
        bucket = next(b for b in body["data"] if b["start"] == event["date"]["end"])
        assert bucket["ranged"] >= 1


def test_weeks_are_iso_weeks(client, events):
    body = get_json(client, "/v1/stats/timeline", {"interval": "week", "from": "2017-01-01", "to": "2017-01-31"})
    for bucket in body["data"]:
        start, end = dt.date.fromisoformat(bucket["start"]), dt.date.fromisoformat(bucket["end"])
        assert start.weekday() == 0 and end - start == dt.timedelta(days=6)
    # 2017-01-01 is a Sunday: its week starts on Monday 2016-12-26
    assert body["data"][0]["start"] == "2016-12-26" and body["data"][-1]["end"] == "2017-02-05"
    wednesday = next(b for b in body["data"] if b["start"] <= "2017-01-18" <= b["end"])
    assert wednesday["start"] == "2017-01-16"
    expected = sum(1 for e in events if anchor(e) and "2017-01-16" <= anchor(e) <= "2017-01-22")
    assert wednesday["count"] == expected > 0


def test_year_interval_and_open_ended_range(client, events):
    body = get_json(client, "/v1/stats/timeline", {"interval": "year", "from": "2015-06-01"})
    assert [(b["start"], b["end"]) for b in body["data"]] == [
        ("2015-01-01", "2015-12-31"), ("2016-01-01", "2016-12-31"), ("2017-01-01", "2017-12-31")]
    assert body["meta"]["from"] == "2015-06-01"
    assert body["meta"]["to"] == max(anchor(e) for e in events if anchor(e))


def test_timeline_takes_the_event_filters(client):
    for params in ({"status": "occurred"}, {"participant": "imad-khamis"}, {"country": "rus"}, {"topic": "astana_talks"},
                   {"type": "04"}, {"place": "tehran"}, {"participant": ["imad-khamis", "hassan-rouhani"]}):
        listed = all_records(client, "/v1/events", params)
        body = get_json(client, "/v1/stats/timeline", dict(params, interval="day"))
        dated = [e for e in listed if anchor(e)]
        assert body["meta"]["total"] == len(dated), params
        assert body["meta"]["undated"] == len(listed) - len(dated), params
        per_day = Counter(anchor(e) for e in dated)
        assert {b["start"]: b["count"] for b in body["data"] if b["count"]} == dict(per_day), params


def test_undated_events_are_never_in_a_bucket(client, events):
    ongoing = [e for e in events if e["status"] == "ongoing"]
    assert ongoing and all(anchor(e) is None for e in ongoing)
    body = get_json(client, "/v1/stats/timeline", {"status": "ongoing"})
    assert body["data"] == [] and body["meta"]["total"] == 0
    assert body["meta"]["undated"] == len(ongoing)
    assert body["meta"]["from"] is None and body["meta"]["to"] is None
    # with a range, the buckets are still zero-filled
    body = get_json(client, "/v1/stats/timeline", {"status": "ongoing", "from": "2017-01-01", "to": "2017-03-31"})
    assert [b["count"] for b in body["data"]] == [0, 0, 0] and body["meta"]["undated"] == len(ongoing)


@pytest.mark.parametrize("group_by", ["cameo_root", "status", "participant", "topic"])
def test_timeline_groups(client, events, group_by):
    body = get_json(client, "/v1/stats/timeline", {"interval": "week", "group_by": group_by, "group_limit": 200})

    def values(event):
        if group_by == "cameo_root":
            return {event["cameo"]["root"]}
        if group_by == "status":
            return {event["status"]}
        if group_by == "participant":
            return {p["participant"]["id"] for p in event["participants"]}
        return set(event["topics"])

    expected, undated = defaultdict(Counter), Counter()
    for event in events:
        if anchor(event):
            day = dt.date.fromisoformat(anchor(event))
            week = (day - dt.timedelta(days=day.weekday())).isoformat()
            for value in values(event):
                expected[week][value] += 1
        else:
            undated.update(values(event))
    shown = [g["value"] for g in body["meta"]["groups"]]
    assert body["meta"]["groups_total"] == len(shown) == len({v for c in expected.values() for v in c})
    for bucket in body["data"]:
        assert list(bucket["groups"]) == shown  # every group in every bucket, zeros included
        assert {k: v for k, v in bucket["groups"].items() if v} == dict(expected.get(bucket["start"], {}))
        if group_by in ("cameo_root", "status"):  # one value per event: the groups add up to the count
            assert sum(bucket["groups"].values()) == bucket["count"]
    totals = Counter()
    for counts in expected.values():
        totals.update(counts)
    assert {g["value"]: g["count"] for g in body["meta"]["groups"]} == dict(totals)
    # the undated events of each value shown, apart from the buckets
    assert {g["value"]: g["undated"] for g in body["meta"]["groups"]} == {v: undated[v] for v in shown}
    assert sum(undated.values()), "the article has undated events of the groups shown"


def test_timeline_group_labels_and_limit(client, events):
    body = get_json(client, "/v1/stats/timeline", {"group_by": "cameo_root"})
    root_labels = {e["cameo"]["root"]: e["cameo"]["root_label"] for e in events}
    for group in body["meta"]["groups"]:
        assert group["label"] == root_labels[group["value"]]
    body = get_json(client, "/v1/stats/timeline", {"group_by": "participant", "group_limit": 2})
    assert len(body["meta"]["groups"]) == 2 < body["meta"]["groups_total"]
    counts = [g["count"] for g in body["meta"]["groups"]]
    assert counts == sorted(counts, reverse=True)
    assert body["meta"]["groups"][0] == {"value": "imad-khamis", "label": "Imad Khamis", "label_ar": "عماد خميس",
                                         "count": counts[0], "undated": body["meta"]["groups"][0]["undated"]}
    assert all(len(b["groups"]) == 2 for b in body["data"])


def test_timeline_csv(client, events):
    body = get_json(client, "/v1/stats/timeline", {"interval": "week", "group_by": "status"})
    response = client.get("/v1/stats/timeline?interval=week&group_by=status&format=csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="timeline-')
    rows = csv_rows(response)
    groups = [g["value"] for g in body["meta"]["groups"]]
    assert rows[0] == ["bucket_start", "bucket_end", "count", "ranged", *groups]
    assert rows[1:-1] == [[b["start"], b["end"], str(b["count"]), str(b["ranged"]), *(str(b["groups"][g]) for g in groups)]
                          for b in body["data"]]
    # the undated events, in no bucket, in all and per group value
    assert rows[-1] == ["", "", str(body["meta"]["undated"]), "0", *(str(g["undated"]) for g in body["meta"]["groups"])]
    undated = Counter(e["status"] for e in events if not anchor(e))
    assert rows[-1][4:] == [str(undated[g]) for g in groups] and any(undated[g] for g in groups)
    # chosen by Accept too
    response = client.get("/v1/stats/timeline?interval=month", headers={"Accept": "text/csv"})
    assert response.status_code == 200 and csv_rows(response)[0] == ["bucket_start", "bucket_end", "count", "ranged"]


def test_timeline_bucket_cap_names_interval(client):
    body = get_json(client, "/v1/stats/timeline", {"interval": "day", "from": "2000-01-01", "to": "2017-01-31"}, status=400)
    assert "interval" in body["errors"] and "interval" in body["detail"]
    # the same range by month is fine
    get_json(client, "/v1/stats/timeline", {"interval": "month", "from": "2000-01-01", "to": "2017-01-31"})


@pytest.mark.parametrize("params, name", [
    ({"interval": "fortnight"}, "interval"),
    ({"group_by": "place"}, "group_by"),
    ({"group_limit": "0"}, "group_limit"),
    ({"from": "2017-02-30"}, "from"),
    ({"from": "2017-02-01", "to": "2017-01-01"}, "from"),
    ({"bogus": "1"}, "bogus"),
    ({"interval": ["day", "week"]}, "interval"),
    ({"format": "geojson"}, "format"),
    ({"participant": "Not An Id"}, "participant"),
])
def test_timeline_bad_parameters(client, params, name):
    response = client.get("/v1/stats/timeline?" + urlencode(params, doseq=True))
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert name in response.get_json()["errors"]


# --------------------------------------------------------------------------- facets

# the /v1/events filter that selects each facet value
FACET_FILTERS = {"cameo_root": "type", "status": "status", "plover": "plover", "country": "country",
                 "participant": "participant", "topic": "topic", "place": "place", "source": "source"}


@pytest.mark.parametrize("base", [{}, {"status": "occurred"}, {"from": "2017-01-17", "to": "2017-01-31"},
                                  {"participant": "iran"}, {"topic": "astana_talks"}, {"q": "Astana"}])
def test_facet_counts_equal_the_filtered_list(client, base):
    facets = list(FACET_FILTERS)
    body = get_json(client, "/v1/stats/facets", dict(base, facet=facets, limit=1000))
    assert body["meta"]["total"] == total(client, base)
    assert list(body["data"]) == facets
    checked = 0
    for facet, items in body["data"].items():
        assert not body["meta"]["facets"][facet]["truncated"]
        for item in items:
            params = dict(base)
            key = FACET_FILTERS[facet]
            if key == "participant":  # repeatable: events with all of them
                params["participant"] = [*([base["participant"]] if "participant" in base else []), item["value"]]
            elif key in base and base[key] != item["value"]:
                continue  # co-occurring topics: one topic filter cannot express both
            else:
                params[key] = item["value"]
            assert item["count"] == total(client, params), (facet, item, base)
            checked += 1
    assert checked


def test_facets_against_the_records(client, events):
    facets = ["cameo_root", "cameo", "status", "plover", "country", "participant", "topic", "place", "precision", "source"]
    body = get_json(client, "/v1/stats/facets", {"facet": facets, "limit": 1000})
    expected = {
        "cameo_root": Counter(e["cameo"]["root"] for e in events),
        "cameo": Counter(e["cameo"]["code"] for e in events),
        "status": Counter(e["status"] for e in events),
        "plover": Counter(e["plover"]["type"] for e in events if e["plover"]),
        "participant": Counter(p for e in events for p in {x["participant"]["id"] for x in e["participants"]}),
        "topic": Counter(t for e in events for t in set(e["topics"])),
        "place": Counter(e["place"]["id"] for e in events if e["place"]),
        "precision": Counter(e["date"]["precision"] for e in events),
        "source": Counter(e["source"] for e in events),
    }
    for facet, counts in expected.items():
        assert {i["value"]: i["count"] for i in body["data"][facet]} == dict(counts), facet
        items = body["data"][facet]
        assert [i["count"] for i in items] == sorted((i["count"] for i in items), reverse=True)
    # events without a value are reported, not listed
    assert body["meta"]["facets"]["place"]["missing"] == sum(1 for e in events if not e["place"]) > 0
    assert body["meta"]["facets"]["status"]["missing"] == 0
    # countries: of the participants and of the place (what the country filter matches)
    assert {i["value"]: i["count"] for i in body["data"]["country"]}["SYR"] == total(client, {"country": "SYR"})


def test_facet_labels(client, events):
    body = get_json(client, "/v1/stats/facets", {"facet": ["cameo_root", "participant", "topic", "country", "place", "status"],
                                                  "limit": 1000})
    roots = {e["cameo"]["root"]: e["cameo"]["root_label"] for e in events}
    assert all(i["label"] == roots[i["value"]] for i in body["data"]["cameo_root"])
    for item in body["data"]["participant"]:
        participant = get_json(client, f"/v1/participants/{item['value']}")["data"]
        assert (item["label"], item["label_ar"]) == (participant["name_en"], participant["name_ar"])
    places = {e["place"]["id"]: (e["place"]["name_en"], e["place"]["name_ar"]) for e in events if e["place"]}
    assert all((i["label"], i["label_ar"]) == places[i["value"]] for i in body["data"]["place"])
    # the other kinds have no Arabic label of their own
    assert all(i["label_ar"] is None for name in ("cameo_root", "topic", "country", "status") for i in body["data"][name])
    topics = {t["id"]: t["label"] for t in json.loads((ROOT / "fixtures" / "codebook.json").read_text(encoding="utf-8"))["topics"]}
    assert all(i["label"] == topics[i["value"]] for i in body["data"]["topic"])
    assert all(i["label"] == i["value"] for i in body["data"]["country"] + body["data"]["status"])
    assert {"value": "hassan-rouhani", "label": "Hassan Rouhani", "label_ar": "حسن روحاني",
            "count": total(client, {"participant": "hassan-rouhani"})} in body["data"]["participant"]


def test_facet_parameters(client):
    default = get_json(client, "/v1/stats/facets")
    assert list(default["data"]) == ["cameo_root", "status", "country", "participant", "topic"]
    assert get_json(client, "/v1/stats/facets", {"facet": "status,topic"})["data"].keys() == {"status", "topic"}
    limited = get_json(client, "/v1/stats/facets", {"facet": "participant", "limit": 3})
    assert len(limited["data"]["participant"]) == 3 and limited["meta"]["facets"]["participant"]["truncated"]
    assert limited["data"]["participant"] == default["data"]["participant"][:3]
    for params, name in (({"facet": "colour"}, "facet"), ({"limit": "0"}, "limit"), ({"facets": "status"}, "facets"),
                         ({"status": "won"}, "status"), ({"format": "ndjson"}, "format")):
        body = get_json(client, "/v1/stats/facets", params, status=400)
        assert name in body["errors"], (params, body)


def test_facets_csv(client):
    body = get_json(client, "/v1/stats/facets", {"facet": ["participant", "topic"]})
    response = client.get("/v1/stats/facets?facet=participant&facet=topic", headers={"Accept": "text/csv"})
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = csv_rows(response)
    assert rows[0] == ["facet", "value", "label", "label_ar", "count"]
    assert rows[1:] == [[facet, i["value"], i["label"], i["label_ar"] or "", str(i["count"])]
                        for facet, items in body["data"].items() for i in items]


# --------------------------------------------------------------------------- network


def expected_graph(events, statements):
    """The graph by the documented rule: actors = participants + speakers of linked statements."""
    actors = {e["id"]: {p["participant"]["id"] for p in e["participants"]} for e in events}
    participants = {k: set(v) for k, v in actors.items()}
    for statement in statements:
        event = statement["event"] if isinstance(statement["event"], str) else (statement["event"] or {}).get("id")
        if event in actors:
            actors[event].add(statement["speaker"]["id"])
    nodes = Counter(a for members in actors.values() for a in members)
    edges = defaultdict(list)
    spoken = Counter()
    for event, members in actors.items():
        for pair in combinations(sorted(members), 2):
            edges[pair].append(event)
            if not set(pair) <= participants[event]:
                spoken[pair] += 1
    return nodes, edges, spoken


def test_network_matches_the_records(client, events, statements):
    body = get_json(client, "/v1/network", {"edge_events": 100})
    nodes, edges, spoken = expected_graph(events, statements)
    assert {n["id"]: n["events"] for n in body["data"]["nodes"]} == dict(nodes)
    assert {(e["source"], e["target"]): e["events"] for e in body["data"]["edges"]} == {k: sorted(v) for k, v in edges.items()}
    for edge in body["data"]["edges"]:
        assert edge["source"] < edge["target"]
        assert edge["weight"] == len(edge["events"])
        assert edge["statement_events"] == spoken[(edge["source"], edge["target"])]
    weights = [e["weight"] for e in body["data"]["edges"]]
    assert weights == sorted(weights, reverse=True)
    assert body["meta"]["events"] == len(events) and body["meta"]["actors_total"] == len(nodes)
    assert body["meta"]["truncated"] is False


def test_network_edge_between_khamis_and_rouhani(client):
    body = get_json(client, "/v1/network")
    edge = next(e for e in body["data"]["edges"] if (e["source"], e["target"]) == ("hassan-rouhani", "imad-khamis"))
    shared = total(client, {"participant": ["imad-khamis", "hassan-rouhani"]})
    assert edge["weight"] == shared >= 1
    assert "khamis-meets-rouhani" in edge["events"]
    nodes = {n["id"]: n for n in body["data"]["nodes"]}
    for pid in ("imad-khamis", "hassan-rouhani"):
        record = get_json(client, f"/v1/participants/{pid}")["data"]
        assert {k: nodes[pid][k] for k in ("name_en", "name_ar", "kind", "country")} == \
               {k: record[k] for k in ("name_en", "name_ar", "kind", "country")}
        assert nodes[pid]["events"] == total(client, {"participant": pid})
    assert nodes["hassan-rouhani"]["name_ar"] == "حسن روحاني"


def test_network_takes_the_event_filters(client):
    params = {"participant": "hassan-rouhani"}
    matching = {e["id"] for e in all_records(client, "/v1/events", params)}
    body = get_json(client, "/v1/network", dict(params, edge_events=100))
    assert body["meta"]["events"] == len(matching)
    assert body["data"]["nodes"][0]["id"] == "hassan-rouhani"
    assert body["data"]["nodes"][0]["events"] == len(matching)
    assert body["data"]["edges"] and all(set(e["events"]) <= matching for e in body["data"]["edges"])
    assert all("hassan-rouhani" in (e["source"], e["target"]) or e["weight"] >= 1 for e in body["data"]["edges"])
    # an open-started event ("before 16 January") overlaps any earlier range, as in /v1/events
    early = {"from": "1990-01-01", "to": "1990-12-31"}
    body = get_json(client, "/v1/network", early)
    assert body["meta"]["events"] == total(client, early) > 0
    empty = get_json(client, "/v1/network", {"from": "2030-01-01"})
    assert empty["data"] == {"nodes": [], "edges": []} and empty["meta"]["events"] == 0


def test_network_limits(client):
    full = get_json(client, "/v1/network")
    body = get_json(client, "/v1/network", {"limit": 3, "edge_events": 1})
    assert body["data"]["nodes"] == full["data"]["nodes"][:3]
    assert body["meta"]["truncated"] is True and body["meta"]["actors_total"] == len(full["data"]["nodes"])
    shown = {n["id"] for n in body["data"]["nodes"]}
    assert all({e["source"], e["target"]} <= shown for e in body["data"]["edges"])
    assert all(len(e["events"]) <= 1 for e in body["data"]["edges"])
    # the same under a filter
    ego = get_json(client, "/v1/network", {"participant": "imad-khamis"})
    top = get_json(client, "/v1/network", {"participant": "imad-khamis", "limit": 3})
    assert top["data"]["nodes"] == ego["data"]["nodes"][:3]
    shown = {n["id"] for n in top["data"]["nodes"]}
    assert top["data"]["edges"] == [e for e in ego["data"]["edges"] if {e["source"], e["target"]} <= shown]
    heavy = get_json(client, "/v1/network", {"min_weight": 2})
    assert heavy["data"]["edges"] == [e for e in full["data"]["edges"] if e["weight"] >= 2]
    assert heavy["data"]["edges"]
    ids = get_json(client, "/v1/network", {"edge_events": 0})
    assert all(e["events"] == [] for e in ids["data"]["edges"])
    assert [e["weight"] for e in ids["data"]["edges"]] == [e["weight"] for e in full["data"]["edges"]]
    for params, name in (({"limit": "0"}, "limit"), ({"min_weight": "0"}, "min_weight"), ({"edge_events": "-1"}, "edge_events"),
                         ({"facet": "status"}, "facet"), ({"type": "4"}, "type")):
        assert name in get_json(client, "/v1/network", params, status=400)["errors"]


def test_network_counts_a_statement_linked_to_an_event(db_path, tmp_path):
    """A statement by A linked to an event of B's joins A and B even when A is no participant."""
    copy = tmp_path / "db.sqlite3"
    shutil.copy(db_path, copy)
    with sqlite3.connect(copy) as connection:
        source = connection.execute("SELECT source_id FROM event WHERE id = 'khamis-meets-rouhani'").fetchone()[0]
        connection.execute(
            "INSERT INTO statement (id, source_id, speaker_id, event_id, mode, cameo_code, cameo_root, sort_date, doc) "
            "VALUES ('test-muallem-on-rouhani-meeting', ?, 'walid-al-muallem', 'khamis-meets-rouhani', 'reported', '010', '01', "
            "'2017-01-18', '{}')", (source,))
        # a second statement by the same speaker on the same event changes nothing; one by another
        # outsider joins the two speakers
        for statement_id, speaker in (("test-muallem-again", "walid-al-muallem"), ("test-russia", "russia")):
            connection.execute(
                "INSERT INTO statement (id, source_id, speaker_id, event_id, mode, cameo_code, cameo_root, sort_date, doc) "
                "VALUES (?, ?, ?, 'khamis-meets-rouhani', 'reported', '010', '01', '2017-01-18', '{}')",
                (statement_id, source, speaker))
    client = create_app(config={"DATABASE_URL": f"sqlite:///{copy}"}).test_client()
    body = get_json(client, "/v1/network", {"edge_events": 100})
    edges = {(e["source"], e["target"]): e for e in body["data"]["edges"]}
    edge = edges[("imad-khamis", "walid-al-muallem")]
    assert edge == {"source": "imad-khamis", "target": "walid-al-muallem", "weight": 1, "statement_events": 1,
                    "events": ["khamis-meets-rouhani"]}
    rouhani = edges[("hassan-rouhani", "walid-al-muallem")]
    assert rouhani["weight"] == 2 and rouhani["statement_events"] == 1
    assert sorted(rouhani["events"]) == ["khamis-meets-rouhani", "muallem-visits-tehran"]
    nodes = {n["id"]: n["events"] for n in body["data"]["nodes"]}
    assert nodes["walid-al-muallem"] == 2  # muallem-visits-tehran as participant + the statement
    assert edges[("russia", "walid-al-muallem")] == {"source": "russia", "target": "walid-al-muallem", "weight": 1,
                                                     "statement_events": 1, "events": ["khamis-meets-rouhani"]}
    # a speaker who is also a participant adds nothing: Khamis already took part
    assert edges[("hassan-rouhani", "imad-khamis")]["statement_events"] == 0
    # the same rule under a filter
    filtered = get_json(client, "/v1/network", {"status": "occurred"})
    assert ("imad-khamis", "walid-al-muallem") in {(e["source"], e["target"]) for e in filtered["data"]["edges"]}


def test_network_csv(client):
    body = get_json(client, "/v1/network")
    response = client.get("/v1/network?format=csv")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="network-')
    rows = csv_rows(response)
    assert rows[0] == ["source", "target", "weight", "statement_events"]
    assert rows[1:] == [[e["source"], e["target"], str(e["weight"]), str(e["statement_events"])]
                        for e in body["data"]["edges"]]


# --------------------------------------------------------------------------- HTTP


@pytest.mark.parametrize("url", ["/v1/stats/timeline?interval=week&group_by=topic", "/v1/stats/facets?facet=participant",
                                 "/v1/network?participant=imad-khamis", "/v1/stats/timeline?format=csv"])
def test_stats_are_cacheable(client, url):
    first = client.get(url)
    assert first.status_code == 200 and first.headers["ETag"]
    assert "max-age" in first.headers["Cache-Control"]
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.get_data()
    assert again.headers["ETag"] == first.headers["ETag"]
    other = client.get(url + "&from=2017-01-17")
    assert other.headers["ETag"] != first.headers["ETag"]


def test_accept_header_negotiation(client):
    for url in ("/v1/stats/timeline", "/v1/stats/facets", "/v1/network"):
        assert client.get(url, headers={"Accept": "application/geo+json"}).status_code == 406
        assert client.get(url, headers={"Accept": "application/json"}).headers["Content-Type"] == "application/json"
        assert client.get(url, headers={"Accept": "text/csv;q=0.9, application/json;q=0.1"}).headers["Content-Type"].startswith("text/csv")


def test_documented_in_openapi(client):
    spec = get_json(client, "/v1/openapi.json")
    expected = {"/v1/stats/timeline": {"interval", "group_by", "group_limit", "from", "to", "participant", "q", "format"},
                "/v1/stats/facets": {"facet", "limit", "status", "topic", "format"},
                "/v1/network": {"limit", "min_weight", "edge_events", "country", "format"}}
    for path, params in expected.items():
        operation = spec["paths"][path]["get"]
        assert params <= {p["name"] for p in operation["parameters"]}
        assert {"200", "400", "406"} <= set(operation["responses"])
        assert "text/csv" in operation["responses"]["200"]["content"]

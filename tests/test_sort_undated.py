"""Undated events come last under sort=date and sort=-date, and a cursor walk over small pages
gives exactly the full list, over a real gunicorn on both backends."""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from tests.conftest import fetch


@pytest.fixture(scope="module")
def server(database_url):
    from tests.conftest import Gunicorn

    gunicorn = Gunicorn(database_url, workers=1).wait()
    yield gunicorn.base
    gunicorn.stop()


def get(server: str, url: str) -> dict:
    status, _, body = fetch(server + url)
    assert status == 200, body
    return json.loads(body)


def undated(event: dict) -> bool:
    return event["date"]["start"] is None and event["date"]["end"] is None


def walk(server: str, url: str, limit: int) -> list[dict]:
    """Every page of ``url`` by its cursor."""
    events, cursor = [], None
    for _ in range(200):
        page = get(server, f"{url}&limit={limit}" + (f"&cursor={cursor}" if cursor else ""))
        assert len(page["data"]) <= limit
        events += page["data"]
        cursor = page["meta"]["next_cursor"]
        if cursor is None:
            return events
    raise AssertionError("the walk did not end")


LISTINGS = [
    "/v1/events?fields=date",
    "/v1/events?fields=date&from=2017-01-01&include_undated=true",
    "/v1/events?fields=date&q=" + quote("أستانا"),
    "/v1/participants/imad-khamis/events?fields=date",
]


@pytest.mark.parametrize("url", LISTINGS)
@pytest.mark.parametrize("sort", ["date", "-date"])
def test_undated_last_and_the_cursor_walk_is_exact(server, url, sort):
    full = get(server, f"{url}&sort={sort}&limit=500")["data"]
    flags = [undated(event) for event in full]
    assert flags == sorted(flags), "an undated event before a dated one"
    dated = [event["date"]["start"] or event["date"]["end"] for event in full if not undated(event)]
    assert dated == sorted(dated, reverse=sort.startswith("-"))
    for limit in (1, 2, 5):
        assert [e["id"] for e in walk(server, f"{url}&sort={sort}", limit)] == [e["id"] for e in full]


def test_the_article_has_undated_events_to_order(server):
    everything = get(server, "/v1/events?fields=date&sort=date&limit=500")["data"]
    assert sum(undated(event) for event in everything) >= 2
    assert not undated(everything[0]) and undated(everything[-1])

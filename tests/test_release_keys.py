"""A reverted edit brings back an earlier dataset version (a hash of the files) in a later
release: the answers served after it, their ETags and the response cache are those of the new
release, never replayed from the earlier one (api.database.serving_key)."""
from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys

import pytest

from .conftest import ROOT, SOURCE, Gunicorn, copy_dataset

EVENT = "khamis-arrives-tehran"
URLS = [f"/v1/events/{EVENT}", "/v1/releases", "/v1/events?limit=3&fields=title_en", "/v1/changes?since=1",
        "/v1/events?updated_since=1&fields=id"]


def load(root, url: str) -> None:
    done = subprocess.run([sys.executable, "-m", "api.cli", "load", "--root", str(root), "--database-url", url],
                          cwd=ROOT, env={**os.environ, "EVENT_RECORDS_LOAD_JOBS": "1"}, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def retitle(root, title: str) -> None:
    path = root / "fixtures" / SOURCE / "events.json"
    events = json.loads(path.read_text(encoding="utf-8"))
    next(e for e in events if e["id"] == EVENT)["title_en"] = title
    path.write_text(json.dumps(events, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


@pytest.fixture()
def served(tmp_path):
    root = copy_dataset(tmp_path / "tree")
    url = f"sqlite:///{tmp_path / 'events.sqlite3'}"
    load(root, url)
    server = Gunicorn(url, workers=1).wait("/healthz")
    # one keep-alive connection: every request reaches the worker whose cache holds the answers
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)

    def get(path: str, headers: dict | None = None):
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()

    yield root, url, get
    connection.close()
    server.stop()


def test_a_reverted_edit_is_served_as_its_own_release(served):
    root, url, get = served
    first = {path: get(path) for path in URLS}
    assert all(status == 200 for status, _, _ in first.values())
    original = json.loads(first[URLS[0]][2])["data"]["title_en"]
    assert json.loads(first[URLS[0]][2])["meta"]["release"] == 1

    retitle(root, original + " (edited)")
    load(root, url)
    retitle(root, original)
    load(root, url)  # release 3: the files hash as release 1's did

    status, headers, body = get(URLS[0])
    answer = json.loads(body)
    assert status == 200
    assert answer["meta"]["release"] == 3
    assert answer["meta"]["dataset_version"] == json.loads(first[URLS[0]][2])["meta"]["dataset_version"]
    assert answer["data"]["title_en"] == original and answer["data"]["last_release"] == 3
    # the total of a listing is counted again for the release, not taken from release 1's count
    assert json.loads(first[URLS[4]][2])["meta"]["total"] == 0
    changed = json.loads(get(URLS[4])[2])
    assert changed["meta"]["total"] == len(changed["data"]) == 1 and changed["data"][0]["id"] == EVENT
    releases = json.loads(get("/v1/releases")[2])["data"]
    assert max(r["number"] for r in releases) == 3
    for path, (_, first_headers, first_body) in first.items():
        status, headers, body = get(path)
        assert headers["ETag"] != first_headers["ETag"], path
        assert body != first_body, path
        # the tag of release 1 no longer validates a copy
        status, _, _ = get(path, {"If-None-Match": first_headers["ETag"]})
        assert status == 200, path


@pytest.mark.parametrize("first_page", ["/v1/events?limit=4&sort=date&fields=id", "/v1/search?q=Khamis&limit=3",
                                        "/v1/participants/imad-khamis/events?limit=2"])
def test_a_cursor_of_an_earlier_release_is_refused_not_followed(served, first_page):
    """A keyset walk is exact within one release; after a load the next page could skip a record
    whose sort key moved back past the cursor, so the cursor says so instead (409 stale-cursor)."""
    root, url, get = served
    status, _, body = get(first_page)
    cursor_page = json.loads(body)["links"]["next"]
    assert status == 200 and cursor_page
    load(root, url)  # nothing changed: no release, the cursor still holds
    status, _, body = get(cursor_page)
    assert status == 200, body

    retitle(root, "Khamis arrives in Tehran (edited)")
    load(root, url)  # release 2
    status, headers, body = get(cursor_page)
    problem = json.loads(body)
    assert status == 409 and headers["Content-Type"].startswith("application/problem+json")
    assert problem["type"].endswith("/stale-cursor") and list(problem["errors"]) == ["cursor"]
    assert "release 1" in problem["detail"] and "release 2" in problem["detail"]
    assert "/v1/changes?since=1" in problem["detail"]
    # starting again works, and the new pages' cursors do
    status, _, body = get(first_page)
    assert status == 200
    status, _, _ = get(json.loads(body)["links"]["next"])
    assert status == 200


def test_a_cursor_is_judged_by_the_release_it_came_from():
    """Older than the data: 409 stale-cursor. Newer: a read replica behind the node that issued it,
    a 503 to retry (never a 409 that points at a change feed this replica cannot serve yet)."""
    from api import pagination
    from api.errors import Problem

    secret, key = b"s", ["2017-01-18", "khamis-meets-rouhani"]
    cursor = pagination.encode(secret, "/v1/events", "date", {}, key, "abc.r5")
    assert pagination.decode(secret, cursor, "/v1/events", "date", {}, 2, "abc.r5") == key
    for now, status in (("def.r6", 409), ("abc.r4", 503)):
        with pytest.raises(Problem) as refused:
            pagination.decode(secret, cursor, "/v1/events", "date", {}, 2, now)
        assert refused.value.status == status, now
    assert refused.value.headers["Retry-After"]
    # a cursor of before cursors were bound to a release is taken as it always was
    unbound = pagination.encode(secret, "/v1/events", "date", {}, key)
    assert pagination.decode(secret, unbound, "/v1/events", "date", {}, 2, "def.r6") == key

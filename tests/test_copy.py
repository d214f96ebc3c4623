"""Keeping a copy up to date: the README's client, run against a live gunicorn while the data changes.

The client takes a dump at one release; three loads then add, change and remove
sources of a generated corpus; the client follows /v1/changes, and its copy must
be what a fresh dump holds, on both backends. Also: the dump's manifest, its
ETag, the command-line dump, and the feed's answers to bad input.
"""
from __future__ import annotations

import hashlib
import io
import json
import random
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from models import load as loader
from models.db import open_database

from .conftest import ROOT, fetch, new_pg_database
from .test_incremental import HELD_BACK, Tree

README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_client(base: str) -> dict:
    """The Python example of README's "Keeping a copy up to date", its functions bound to ``base``."""
    section = README.split("## Keeping a copy up to date", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {"__name__": "readme_client"}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README, the point of the test
    namespace["API"] = base
    return namespace


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("copy") / "corpus"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "200", "--per-source", "5",
                    "--out", str(out), "--jobs", "1", "--seed", "11"], check=True, capture_output=True, timeout=180)
    return out


def database_url(backend: str, tmp_path: Path, request) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'events.sqlite3'}"
    return new_pg_database(request.getfixturevalue("pg_server"))


def load(tree: Tree, url: str) -> int:
    return loader.load(tree.path, open_database(url, create_dir=True)).release


def changed_records(before: dict, after: dict) -> dict[str, set]:
    """Ids added, changed and removed between two copies (of every kind)."""
    out = {"added": set(), "changed": set(), "removed": set()}
    for kind in after:
        old, new = before.get(kind, {}), after[kind]
        out["added"] |= {(kind, i) for i in new.keys() - old.keys()}
        out["removed"] |= {(kind, i) for i in old.keys() - new.keys()}
        out["changed"] |= {(kind, i) for i in new.keys() & old.keys() if new[i] != old[i]}
    return out


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_readme_client_keeps_an_equal_copy(backend, corpus, tmp_path, request, gunicorn_factory):
    tree, url = Tree(corpus, tmp_path / "tree"), database_url(backend, tmp_path, request)
    first = load(tree, url)
    server = gunicorn_factory(url, workers=1).wait()
    client = readme_client(server.base)
    copy, release = client["take_copy"]()
    assert release == first and copy["event"] and copy["source"]
    before = json.loads(json.dumps(copy))

    rng = random.Random(3)
    present = tree.present()
    tree.add(HELD_BACK[0])
    assert load(tree, url) == first + 1
    tree.change(present[2], rng)
    assert load(tree, url) == first + 2
    tree.remove(present[5])
    assert load(tree, url) == first + 3

    assert client["catch_up"](copy, release) == first + 3
    fresh, fresh_release = client["take_copy"]()
    assert fresh_release == first + 3
    assert copy == fresh
    # the loads did change the copy, in every way (so the equality above is not trivially true)
    changed = changed_records(before, copy)
    assert ("source", HELD_BACK[0]) in changed["added"] and ("source", present[5]) in changed["removed"]
    assert any(kind == "event" for kind, _ in changed["changed"]), changed["changed"]
    # a copy taken after the last load has nothing to catch up
    assert client["catch_up"](fresh, fresh_release) == fresh_release and fresh == copy


def test_a_change_feed_lists_each_record_once_at_its_latest_state(corpus, tmp_path, sqlite_url):
    """A source removed then added again, and a source changed twice: each record once, as it is now.
    A cursor shown to a database whose history is shorter (rebuilt from nothing) asks for a new dump."""
    from api import create_app

    tree, url = Tree(corpus, tmp_path / "tree"), f"sqlite:///{tmp_path / 'db' / 'events.sqlite3'}"
    first = load(tree, url)
    rng = random.Random(5)
    present = tree.present()
    tree.remove(present[1])
    load(tree, url)
    tree.add(present[1])
    tree.change(present[3], rng)
    load(tree, url)
    tree.change(present[3], rng)
    last = load(tree, url)
    config = {"TESTING": True, "CURSOR_SECRET": "one secret for both databases"}
    http = create_app({**config, "DATABASE_URL": url}).test_client()
    changes, path, late = [], f"/v1/changes?since={first}&limit=7", None
    while path:
        page = http.get(path).get_json()
        changes += page["data"]
        path = page["links"]["next"]
        late = path if path and page["data"][-1]["release"] > first else late
    other = create_app({**config, "DATABASE_URL": sqlite_url}).test_client()  # one release
    refused = other.get(late)
    assert refused.status_code == 400 and "take a new dump" in refused.get_json()["errors"]["cursor"][0]
    keys = [(c["kind"], c["id"]) for c in changes]
    assert len(keys) == len(set(keys)) and ("source", present[1]) in keys  # removed, then added again: once
    # present[3]'s events changed in two releases: listed once each, at the last of them
    twice = [c for c in changes if c["kind"] == "event" and c["release"] == last]
    assert twice and all(c["change"] == "changed" for c in twice)
    for change in changes:
        assert change["change"] in ("added", "changed") and change["release"] <= last
        current = http.get(f"/v1/{change['kind']}s/{change['id']}").get_json() if change["kind"] != "source" else None
        if current is not None:
            assert current["data"] == change["record"]
            assert current["meta"]["release"] == last


def test_the_dump_manifest_etag_and_command_line(sqlite_url, tmp_path):
    from api import create_app

    http = create_app({"DATABASE_URL": sqlite_url, "TESTING": True}).test_client()
    answer = http.get("/v1/dump")
    assert answer.status_code == 200 and answer.mimetype == "application/zip" and answer.headers["ETag"]
    archive = zipfile.ZipFile(io.BytesIO(answer.data))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["release"] == http.get("/v1/releases").get_json()["meta"]["release"]
    for name, described in manifest["files"].items():
        data = archive.read(name)
        assert (hashlib.sha256(data).hexdigest(), len(data)) == (described["sha256"], described["bytes"]), name
    for kind, name in manifest["kinds"].items():
        assert len(archive.read(name).splitlines()) == manifest["counts"][kind]
    total = http.get("/v1/events?limit=1").get_json()["meta"]["total"]
    assert manifest["counts"]["event"] == total
    assert http.get("/v1/dump", headers={"If-None-Match": answer.headers["ETag"]}).status_code == 304
    assert http.get("/v1/dump").data == answer.data  # one release, one archive: the ETag is honest
    written = subprocess.run([sys.executable, "-m", "api.cli", "dump", str(tmp_path / "out"), "--database-url",
                              sqlite_url], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert written.returncode == 0, written.stderr
    for name in archive.namelist():
        assert (tmp_path / "out" / name).read_bytes() == archive.read(name), name


@pytest.mark.parametrize("query,wrong", [
    ("", "is required"), ("since=99", "after the current release"), ("since=-1", "0 or more"),
    ("since=abc", "release number"), ("since=1.5", "release number"), ("since=1&since=0", "give it once"),
])
def test_bad_since_is_a_clear_problem(client, query, wrong):
    answer = client.get(f"/v1/changes?{query}")
    assert answer.status_code == 400 and answer.mimetype == "application/problem+json"
    body = answer.get_json()
    assert body["status"] == 400 and wrong in " ".join(body["errors"]["since"]), body


def test_updated_since_filters_every_collection(client):
    for collection in ("events", "statements", "participants", "places", "sources"):
        everything = client.get(f"/v1/{collection}?limit=500").get_json()
        release = everything["meta"]["release"]
        assert everything["data"] and all(r["last_release"] <= release for r in everything["data"])
        assert client.get(f"/v1/{collection}?updated_since=0&limit=500").get_json()["data"] == everything["data"]
        assert client.get(f"/v1/{collection}?updated_since={release}").get_json()["data"] == []
        assert client.get(f"/v1/{collection}?updated_since=-2").status_code == 400


def test_the_dump_over_a_real_socket_is_chunked_and_complete(sqlite_url, gunicorn_factory):
    server = gunicorn_factory(sqlite_url, workers=1).wait()
    status, headers, body = fetch(server.base + "/v1/dump")
    assert status == 200 and (headers.get("Transfer-Encoding") == "chunked" or headers.get("Content-Length"))
    assert zipfile.ZipFile(io.BytesIO(body)).testzip() is None

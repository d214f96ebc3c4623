"""PostgreSQL specifics: the CLI on a postgresql:// URL, pooled URLs, atomic reloads under
concurrent readers, and read replicas on a real streaming hot standby."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from models import load as loader
from models.db import open_database

from .conftest import ROOT, SOURCE, copy_dataset, missing, new_pg_database



def fetch_json(url: str):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def content_copy(tmp_path: Path, drop_event: str | None = None) -> Path:
    root = tmp_path / f"content-{drop_event or 'same'}"
    copy_dataset(root)
    if drop_event:
        path = root / "fixtures" / SOURCE / "events.json"
        events = [e for e in json.loads(path.read_text(encoding="utf-8")) if e["id"] != drop_event]
        path.write_text(json.dumps(events, ensure_ascii=False), encoding="utf-8")
    return root


# an event no statement refers to, so the dataset stays valid without it
DROPPABLE = "iran-political-support-syria"


def test_cli_load_and_serve_on_postgresql(pg_server, gunicorn_factory, tmp_path):
    url = new_pg_database(pg_server)
    result = subprocess.run([sys.executable, "-m", "api.cli", "load", "--database-url", url], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    server = gunicorn_factory(url).wait("/readyz")
    status, body = fetch_json(server.base + "/v1/events?participant=ali-akbar-velayati")
    assert status == 200 and [e["id"] for e in body["data"]] == ["khamis-meets-velayati"]


def test_serve_loads_a_shared_database_only_when_it_holds_nothing(pg_server, tmp_path, capsys):
    """A node whose files differ (another commit, a rolling upgrade) started without --no-load
    replaced the dataset every node serves; it now serves what the database holds and says how to
    load. An empty database is still loaded (a first start), and one that cannot be reached is
    said to be unreachable, not "missing"."""
    from api.cli import ensure_loaded

    url = new_pg_database(pg_server)
    ensure_loaded(ROOT, url)  # nothing loaded: loaded
    assert loader.loaded_version(open_database(url)) == loader.dataset_version(ROOT)
    other = content_copy(tmp_path, drop_event=DROPPABLE)
    capsys.readouterr()
    ensure_loaded(other, url)
    said = capsys.readouterr().err
    assert "does not load" in said and "event-records load --database-url" in said, said
    assert loader.loaded_version(open_database(url)) == loader.dataset_version(ROOT)  # unchanged
    import click

    with pytest.raises(click.ClickException) as refused:
        ensure_loaded(ROOT, "postgresql://nobody@127.0.0.1:1/events")
    assert "missing" not in capsys.readouterr().err and "127.0.0.1:1" in str(refused.value.message)


def test_pooled_url_serves_the_api(pg_server):
    from api import create_app

    url = new_pg_database(pg_server)
    pooled = url.replace("postgresql://", "postgresql+pool://", 1) + "?max_connections=4&stale_timeout=30"
    loader.load(ROOT, open_database(pooled))
    client = create_app({"DATABASE_URL": pooled}).test_client()
    for _ in range(20):  # more requests than pooled connections: each is given back at teardown
        response = client.get("/v1/events?limit=2&fields=id")
        assert response.status_code == 200
    assert client.get("/readyz").get_json()["status"] == "ready"


def test_readers_see_the_old_data_or_the_new_never_a_mix(pg_server, tmp_path):
    """A reload is one transaction: a reader polling during it sees either dataset, whole."""
    from api import create_app

    url = new_pg_database(pg_server)
    old_root, new_root = content_copy(tmp_path), content_copy(tmp_path, DROPPABLE)
    old = loader.load(old_root, open_database(url))
    client = create_app({"DATABASE_URL": url, "RESPONSE_CACHE_BYTES": 0}).test_client()
    first = client.get("/v1/events?limit=500&include_undated=true&fields=id").get_json()
    old_ids = {e["id"] for e in first["data"]}
    assert first["meta"]["dataset_version"] == old.dataset_version

    seen: list[tuple[str, frozenset]] = []
    failures: list[dict] = []
    done = threading.Event()

    def read_while_loading():
        reader = create_app({"DATABASE_URL": url, "RESPONSE_CACHE_BYTES": 0}).test_client()
        deadline = time.monotonic() + 60
        while not done.is_set() and time.monotonic() < deadline:
            response = reader.get("/v1/events?limit=500&include_undated=true&fields=id")
            body = response.get_json()
            if response.status_code != 200:
                failures.append(body)
                continue
            seen.append((body["meta"]["dataset_version"], frozenset(e["id"] for e in body["data"])))

    thread = threading.Thread(target=read_while_loading)
    thread.start()
    try:
        for _ in range(3):
            new = loader.load(new_root, open_database(url))
            loader.load(old_root, open_database(url))
    finally:
        done.set()
        thread.join(70)
    assert not failures, failures[:3]
    assert seen
    allowed = {(old.dataset_version, frozenset(old_ids)), (new.dataset_version, frozenset(old_ids - {DROPPABLE}))}
    assert set(seen) <= allowed, set(seen) - allowed


@pytest.fixture()
def primary_and_standby():
    from tests import pgcluster

    reason = pgcluster.pg_available_reason()
    if reason:
        missing(reason)
    primary = pgcluster.PgCluster(replication=True)
    primary.start()
    standby = None
    try:
        primary.create_database("events")
        standby = primary.make_standby()
        yield primary, standby, pgcluster.wait_for_replay
    finally:
        primary.close()


def test_replica_serves_what_the_primary_loaded_and_failover_to_the_primary(primary_and_standby, gunicorn_factory, tmp_path):
    primary, standby, wait_for_replay = primary_and_standby
    primary_url, replica_url = primary.url("events"), standby.url("events")
    old = loader.load(content_copy(tmp_path), open_database(primary_url))
    wait_for_replay(primary, standby)

    server = gunicorn_factory(primary_url, env={"DATABASE_REPLICA_URLS": replica_url}).wait("/readyz")
    status, body = fetch_json(server.base + "/v1/events?limit=1")
    assert status == 200 and body["meta"]["dataset_version"] == old.dataset_version

    # a load on the primary reaches the API through the standby
    new = loader.load(content_copy(tmp_path, DROPPABLE), open_database(primary_url))
    wait_for_replay(primary, standby)
    status, body = fetch_json(server.base + "/v1/events?limit=1&fields=id")
    assert status == 200 and body["meta"]["dataset_version"] == new.dataset_version
    status, body = fetch_json(server.base + f"/v1/events/{DROPPABLE}")
    assert status == 404

    # reads come from the replica: with the primary down the API keeps answering
    primary.stop()
    status, body = fetch_json(server.base + "/v1/events?limit=2&sort=-date")
    assert status == 200 and body["meta"]["dataset_version"] == new.dataset_version
    primary.start()

    # with the replica down, the API falls back to the primary instead of failing
    standby.stop()
    for attempt in range(5):
        status, body = fetch_json(server.base + f"/v1/events?limit={attempt + 1}")
        assert status == 200, body
        assert body["meta"]["dataset_version"] == new.dataset_version
    status, body = fetch_json(server.base + "/readyz")
    assert status == 200

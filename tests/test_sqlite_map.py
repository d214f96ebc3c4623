"""A server reads its SQLite file through a memory map of ``SQLITE_MMAP_BYTES``
(``EVENT_RECORDS_SQLITE_MMAP_MB``); 0 reads it with ordinary calls; a load never maps.
The answers are the same either way."""
from __future__ import annotations

import pytest

from api import create_app
from models.db import open_database
from models.records import Event

MIB = 1024 * 1024


def mapped_bytes_of_a_request(url: str, setting: int) -> int:
    app = create_app({"DATABASE_URL": url, "RESPONSE_CACHE_BYTES": 0, "SQLITE_MMAP_BYTES": setting})
    response = app.test_client().get("/v1/events?limit=1")
    assert response.status_code == 200, response.get_data(as_text=True)
    # the request's connection stays bound to this thread (api/database.py bind_models)
    return Event._meta.database.execute_sql("PRAGMA mmap_size").fetchone()[0]


@pytest.mark.parametrize("setting", [8 * MIB, 64 * MIB])
def test_a_server_connection_maps_what_the_setting_says(sqlite_url, setting):
    assert mapped_bytes_of_a_request(sqlite_url, setting) == setting


def test_zero_reads_without_a_map(sqlite_url):
    assert mapped_bytes_of_a_request(sqlite_url, 0) == 0


def test_the_default_maps_and_a_writing_connection_does_not(sqlite_url, monkeypatch):
    monkeypatch.delenv("EVENT_RECORDS_SQLITE_MMAP_MB", raising=False)
    assert create_app({"DATABASE_URL": sqlite_url}).config["SQLITE_MMAP_BYTES"] == 2048 * MIB
    monkeypatch.setenv("EVENT_RECORDS_SQLITE_MMAP_MB", "0")
    assert create_app({"DATABASE_URL": sqlite_url}).config["SQLITE_MMAP_BYTES"] == 0
    writer = open_database(sqlite_url)  # as the loader opens its database (models/load)
    try:
        assert writer.execute_sql("PRAGMA mmap_size").fetchone()[0] == 0
    finally:
        writer.close()


PATHS = [
    "/v1/events?limit=100&include=participants,statements,place",
    "/v1/events?sort=-date&limit=50&include=participants",
    "/v1/events/khamis-meets-rouhani?include=participants,statements,place",
    "/v1/search?q=%D8%B7%D9%87%D8%B1%D8%A7%D9%86",
    "/v1/statements?limit=100",
    "/v1/participants?limit=100",
    "/v1/stats/timeline?interval=month",
]


def test_the_answers_are_the_same_with_and_without_the_map(sqlite_url):
    # (the map given, not taken from the default: EVENT_RECORDS_SQLITE_MMAP_MB may be 0 where the tests run)
    mapped = create_app({"DATABASE_URL": sqlite_url, "RESPONSE_CACHE_BYTES": 0,
                         "SQLITE_MMAP_BYTES": 64 * MIB}).test_client()
    unmapped = create_app({"DATABASE_URL": sqlite_url, "RESPONSE_CACHE_BYTES": 0,
                           "SQLITE_MMAP_BYTES": 0}).test_client()
    for path in PATHS:
        one, other = mapped.get(path), unmapped.get(path)
        assert one.status_code == 200, (path, one.get_data(as_text=True))
        assert one.get_data() == other.get_data(), path
        assert one.headers["ETag"] == other.headers["ETag"], path

"""Loads that fail lose nothing: what a running server answers is unchanged.

``event-records load`` writes in one transaction. Killed with SIGKILL midway
(after it reported reading half the sources of a generated 5,000-event dataset),
or stopped by a fixture broken in its very last file, it leaves the previous
dataset served exactly as before, through the same server (no restart), during
the load and after it; on SQLite a later load then still goes through. The
server runs without its response cache, so every answer is read from the
database. On PostgreSQL too (the session's server).
"""
from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from models.db import database_file

from .conftest import ROOT, fetch, new_pg_database

URLS = [
    "/v1/events?limit=500&include_undated=true",
    "/v1/events/khamis-meets-rouhani",
    "/v1/participants?limit=500",
    "/v1/statements?limit=500",
    "/v1/search?q=astana",
    "/v1/stats/facets",
    "/v1/events?format=ndjson",
]
NO_CACHE = {"EVENT_RECORDS_RESPONSE_CACHE_MB": "0"}


def served(server) -> dict:
    out = {}
    for url in URLS:
        status, headers, body = fetch(server.base + url)
        assert status == 200, (url, status, body[:300])
        assert "X-Cache" not in headers
        out[url] = body
    status, _, body = fetch(server.base + "/readyz")
    assert status == 200
    out["dataset_version"] = json.loads(body)["dataset_version"]
    return out


def start_load(root: Path, url: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "load", "--root", str(root), "--database-url", url],
        cwd=ROOT, env={**os.environ, "EVENT_RECORDS_LOAD_JOBS": "1"},  # no validation worker processes
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )


def wait_for_output(process: subprocess.Popen, needle: str, timeout: float = 60.0) -> str:
    """Read the loader's output until ``needle`` appears (bounded in time)."""
    seen = []
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                break
            line = process.stdout.readline()
            if not line:
                break
            seen.append(line)
            if needle in line:
                return "".join(seen)
    raise AssertionError(f"no {needle!r} from the loader within {timeout} s:\n{''.join(seen)}")


def kill_midway(root: Path, url: str, during=None) -> str:
    process = start_load(root, url)
    try:
        output = wait_for_output(process, "read 100/200 sources")
        # stopped where it is: the checks below may take longer than the rest of the load on a busy
        # machine, and a load that got to its commit meanwhile would not be killed midway
        os.killpg(process.pid, signal.SIGSTOP)
        assert process.poll() is None, "the load finished before it could be stopped midway"
        if during is not None:
            during()
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the loader and anything it started
        process.wait(10)
        process.stdout.close()
    assert process.returncode == -signal.SIGKILL
    return output


def finish(root: Path, url: str) -> str:
    process = start_load(root, url)
    output = process.communicate(timeout=120)[0]
    assert process.returncode == 0, output
    return output


def test_sqlite_load_killed_midway_loses_nothing(sqlite_url, synthetic_root, tmp_path, gunicorn_factory):
    path = tmp_path / "served.sqlite3"
    shutil.copy(database_file(sqlite_url), path)
    url = f"sqlite:///{path}"
    server = gunicorn_factory(url, env=NO_CACHE).wait("/readyz")
    before = served(server)

    def unchanged_while_loading():
        assert served(server) == before

    kill_midway(synthetic_root, url, during=unchanged_while_loading)
    assert served(server) == before

    # nothing was left in the way (journal, lock): the next load goes through and is served at once
    finish(synthetic_root, url)
    after = served_new(server)
    assert after["dataset_version"] != before["dataset_version"]


def served_new(server) -> dict:
    status, _, body = fetch(server.base + "/readyz")
    assert status == 200
    status, _, body = fetch(server.base + "/v1/events?limit=1")
    assert status == 200 and json.loads(body)["meta"]["total"] == 5000
    return {"dataset_version": json.loads(body)["meta"]["dataset_version"]}


def test_sqlite_load_of_a_fixture_broken_in_its_last_file_loses_nothing(sqlite_url, synthetic_root, tmp_path,
                                                                      gunicorn_factory):
    path = tmp_path / "served.sqlite3"
    shutil.copy(database_file(sqlite_url), path)
    url = f"sqlite:///{path}"
    server = gunicorn_factory(url, env=NO_CACHE).wait("/readyz")
    before = served(server)

    broken = tmp_path / "broken"
    shutil.copytree(synthetic_root, broken)
    last = sorted((broken / "fixtures").glob("*/statements.ndjson"))[-1]
    text = last.read_text(encoding="utf-8")
    last.write_text(text[: len(text) - len(text.splitlines()[-1]) // 2 - 1], encoding="utf-8")  # a truncated last record

    process = start_load(broken, url)
    output = process.communicate(timeout=120)[0]
    assert process.returncode == 1, output
    assert "read 200/200 sources" in output  # it had written everything else when it found the problem
    assert last.relative_to(broken).as_posix() in output and "nothing was loaded" in output
    assert served(server) == before


def test_postgresql_load_killed_midway_loses_nothing(pg_server, synthetic_root, gunicorn_factory):
    url = new_pg_database(pg_server)
    finish(ROOT, url)
    server = gunicorn_factory(url, env=NO_CACHE).wait("/readyz")
    before = served(server)

    def unchanged_while_loading():
        assert served(server) == before

    kill_midway(synthetic_root, url, during=unchanged_while_loading)
    assert served(server) == before

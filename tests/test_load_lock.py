"""One load at a time per database (models/backends/load_lock.py), through the real command line
on both engines: loads started while another holds the lock say they wait, change nothing while
they wait, and then plan against what was committed before them: two loads of the same files
make one release, not two (nor an engine error: a duplicate type, a deadlock, "database is locked",
as they did without the lock)."""
from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time

import pytest

from models import backends
from models.backends.load_lock import lock_file_of
from models.db import open_database

from .conftest import ROOT, new_pg_database

ENV = {**os.environ, "EVENT_RECORDS_LOAD_JOBS": "1"}
WAITING = "another load of this database is running"


def empty_url(backend: str, tmp_path, request) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'events.sqlite3'}"
    return new_pg_database(request.getfixturevalue("pg_server"))


class Load:
    """``event-records load`` of the repository's files into ``url``, its output read as it comes."""

    def __init__(self, url: str):
        self.process = subprocess.Popen([sys.executable, "-m", "api.cli", "load", "--database-url", url],
                                        cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None and self.lines.empty():
                    break
                continue
            self.output.append(line)
            if text in line:
                return line
        raise AssertionError(f"no line with {text!r} in {timeout} s: {''.join(self.output)}")

    def finish(self, timeout: float = 120.0) -> str:
        self.process.wait(timeout=timeout)
        time.sleep(0.2)  # (the reader thread's last lines)
        while not self.lines.empty():
            self.output.append(self.lines.get())
        return "".join(self.output)


def releases(url: str) -> list[tuple]:
    db = open_database(url)
    try:
        db.connect()
        return list(db.execute_sql("SELECT number, mode FROM release ORDER BY number").fetchall())
    finally:
        db.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_loads_started_together_wait_and_make_one_release(backend, tmp_path, request):
    url = empty_url(backend, tmp_path, request)
    holder = open_database(url, create_dir=True)
    holder.connect()
    said: list[str] = []
    try:
        with backends.of(holder).load_lock(holder, said.append):
            assert said == []  # (nobody else held it)
            loads = [Load(url), Load(url)]
            waiting = [load.wait_for(WAITING) for load in loads]
            if backend == "postgresql":
                pid = holder.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
                # named as pg_stat_activity shows it: the holder connected as a load does
                assert all(f"server process {pid}: 'event-records load', from 127.0.0.1" in line for line in waiting), waiting
                names = {row[0] for row in holder.execute_sql(
                    "SELECT application_name FROM pg_stat_activity WHERE datname = current_database()")}
                assert "event-records load" in names, names
            else:
                assert all(str(lock_file_of(backends.of(holder).file_path(url))) in line for line in waiting), waiting
            time.sleep(1.0)
            assert [load.process.poll() for load in loads] == [None, None]  # still waiting
            with pytest.raises(Exception) as nothing_yet:
                releases(url)
            assert backends.of(holder).is_missing_table(nothing_yet.value)
    finally:
        holder.close()
    outputs = [load.finish() for load in loads]
    assert [load.process.returncode for load in loads] == [0, 0], outputs
    assert sum("release 1: 1 source(s) added" in output for output in outputs) == 1, outputs
    assert sum("nothing changed since release 1" in output for output in outputs) == 1, outputs
    assert releases(url) == [(1, "full")]


def test_a_load_alone_neither_waits_nor_leaves_its_lock_held(tmp_path):
    url = f"sqlite:///{tmp_path / 'events.sqlite3'}"
    first = Load(url)
    output = first.finish()
    assert first.process.returncode == 0 and WAITING not in output, output
    db = open_database(url)
    said: list[str] = []
    with backends.of(db).load_lock(db, said.append):  # taken at once: the load let it go
        pass
    assert said == []


def test_a_server_starting_on_a_database_another_node_is_filling_serves_what_that_one_loaded(tmp_path, request, capsys):
    """`serve` loads a PostgreSQL database only when it holds nothing (api/cli.py: ensure_loaded).
    Found empty while another node's load was running, it waited for that load and then loaded
    its own files over it (another commit's: the rule is there so that it never does). It looks
    again once it has its turn, and serves what it finds."""
    import json
    import shutil

    from api import cli
    from models import load as loader

    from .conftest import SOURCE, copy_dataset

    url = empty_url("postgresql", tmp_path, request)
    other = copy_dataset(tmp_path / "other-commit")  # a node of another commit: one summary differs
    events_file = other / "fixtures" / SOURCE / "events.json"
    events = json.loads(events_file.read_text(encoding="utf-8"))
    events[0]["summary_en"] += " (edited on another branch)"
    events_file.write_text(json.dumps(events, ensure_ascii=False, indent=2), encoding="utf-8")
    assert loader.dataset_version(other) != loader.dataset_version(ROOT)

    started, go = threading.Event(), threading.Event()

    def first_node_progress(message: str) -> None:  # the first node's load, paused once it holds the lock
        if "rebuilding everything" in message:
            started.set()
            go.wait(60)

    first = threading.Thread(target=lambda: loader.load(ROOT, open_database(url, create_dir=True), first_node_progress))
    first.start()
    assert started.wait(60)
    second = threading.Thread(target=lambda: cli.ensure_loaded(other, url))
    second.start()
    said = ""
    deadline = time.monotonic() + 60
    while WAITING not in said and time.monotonic() < deadline:
        time.sleep(0.1)
        said += capsys.readouterr().err
    go.set()
    first.join(120)
    second.join(120)
    said += capsys.readouterr().err
    assert WAITING in said, said
    assert "Serving what it holds" in said and f"holds dataset {loader.dataset_version(ROOT)}" in said, said
    assert releases(url) == [(1, "full")]
    shutil.rmtree(other)


def test_a_link_to_the_file_is_the_same_database(tmp_path):
    """SQLite follows a link to the database file; so does the lock (it was named from the path as given)."""
    from models.backends.load_lock import file_lock

    real = tmp_path / "events.sqlite3"
    real.touch()
    link = tmp_path / "alias.sqlite3"
    link.symlink_to(real)
    said: list[str] = []
    with file_lock(link, said.append):
        waiting = threading.Thread(target=lambda: file_lock(real, said.append).__enter__(), daemon=True)
        waiting.start()
        waiting.join(1.0)
        assert waiting.is_alive() and len(said) == 1 and WAITING in said[0], said
    waiting.join(10)
    assert not waiting.is_alive()


def test_a_timeout_the_database_sets_does_not_cut_the_wait_short(tmp_path, request):
    """A lock_timeout or statement_timeout set on the database (or role) applies to the load's
    `pg_advisory_lock` too: the waiting load failed with "canceling statement due to lock timeout"."""
    url = empty_url("postgresql", tmp_path, request)
    holder = open_database(url)
    holder.connect()
    name = url.rsplit("/", 1)[1]
    holder.execute_sql(f"ALTER DATABASE \"{name}\" SET lock_timeout = '200ms'")
    holder.execute_sql(f"ALTER DATABASE \"{name}\" SET statement_timeout = '300ms'")
    try:
        with backends.of(holder).load_lock(holder, lambda message: None):
            load = Load(url)
            load.wait_for(WAITING)
            time.sleep(1.5)  # well past both timeouts
            assert load.process.poll() is None, load.finish()
    finally:
        holder.close()
    output = load.finish()
    assert load.process.returncode == 0 and "release 1" in output, output

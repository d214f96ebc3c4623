"""The loader: validation, all-or-nothing writes, idempotent reloads, and the CLI's exit codes."""
from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from models import load as loader
from models.db import open_database

from .conftest import ROOT, SOURCE, copy_dataset



@pytest.fixture()
def content(tmp_path) -> Path:
    """A writable copy of the repository's seeds and fixtures."""
    return copy_dataset(tmp_path)


def fixture_path(root: Path, kind: str) -> Path:
    return root / "fixtures" / SOURCE / f"{kind}.json"


def edit(root: Path, kind: str, change) -> None:
    path = fixture_path(root, kind)
    records = json.loads(path.read_text(encoding="utf-8"))
    change(records)
    path.write_text(json.dumps(records, ensure_ascii=False, indent=2), encoding="utf-8")


def snapshot(db_file: Path) -> dict:
    """Every row of every table, to compare a database before and after."""
    with sqlite3.connect(db_file) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'search_fts%' ORDER BY name")]
        return {t: sorted(map(repr, conn.execute(f'SELECT * FROM "{t}"').fetchall())) for t in tables}


def db_for(tmp_path: Path):
    return open_database(f"sqlite:///{tmp_path / 'db' / 'events.sqlite3'}", create_dir=True)


def test_repository_fixtures_are_valid():
    summary = loader.check(ROOT)
    assert summary.counts["sources"] == 1
    assert summary.counts["events"] > 0 and summary.counts["statements"] > 0


def test_reload_is_idempotent(content, tmp_path):
    db = db_for(tmp_path)
    first = loader.load(content, db)
    before = snapshot(tmp_path / "db" / "events.sqlite3")
    second = loader.load(content, db)
    after = snapshot(tmp_path / "db" / "events.sqlite3")
    assert first.dataset_version == second.dataset_version
    before.pop("dataset_meta")
    after.pop("dataset_meta")  # holds the load time
    assert before == after
    assert len(after["event"]) == first.counts["events"]


def test_a_full_load_announces_its_steps_and_times_each(content, tmp_path):
    messages: list[str] = []
    loader.load(content, db_for(tmp_path), messages.append, full=True)
    announced = ["writing participants, places and CAMEO codes", "writing the day counts", "summing the dyad counts",
                 "numbering the search rows in list order and building the full-text index", "checking references",
                 "building indexes", "recording the release", "committing", "optimising the search index"]
    assert [m for m in messages if m in announced] == announced
    assert messages[-1].startswith("time by step: ")
    timed = [part.rsplit(" ", 2) for part in messages[-1].removeprefix("time by step: ").split(", ")]
    assert [name for name, _, _ in timed] == ["records", "entities", "day counts", "dyad counts", "search index",
                                              "references", "indexes", "release", "commit", "optimise"]
    assert all(unit == "s" and float(seconds) >= 0 for _, seconds, unit in timed)
    # an unchanged tree is not a rebuild: no steps
    messages.clear()
    loader.load(content, db_for(tmp_path), messages.append)
    assert not any(m.startswith("time by step") for m in messages)


def test_broken_fixture_leaves_the_loaded_database_exactly_as_it_was(content, tmp_path):
    db = db_for(tmp_path)
    loader.load(content, db)
    before = snapshot(tmp_path / "db" / "events.sqlite3")

    def break_last_event(events):
        events[-1]["participants"][0]["participant"] = "nobody-at-all"

    edit(content, "events", break_last_event)
    with pytest.raises(loader.LoadError) as caught:
        loader.load(content, db)
    assert snapshot(tmp_path / "db" / "events.sqlite3") == before
    messages = [str(p) for p in caught.value.problems]
    assert any("unknown participant 'nobody-at-all'" in m and m.startswith(f"fixtures/{SOURCE}/events.json: [") for m in messages)


def test_every_error_is_reported_with_file_and_json_path(content):
    ids = [s["id"] for s in json.loads(fixture_path(content, "statements").read_text(encoding="utf-8"))]

    def break_statements(statements):
        statements[3]["span"]["text"] = "كلام لم يرد في النص"[: len(statements[3]["span"]["text"])].ljust(len(statements[3]["span"]["text"]), "x")
        statements[0]["mode"] = "shouted"

    edit(content, "statements", break_statements)
    with pytest.raises(loader.LoadError) as caught:
        loader.check(content)
    messages = [str(p) for p in caught.value.problems]
    assert any(m.startswith(f"fixtures/{SOURCE}/statements.json: [3] (id {ids[3]}).span: text at ") and "but the record says" in m for m in messages), messages
    assert any(m.startswith(f"fixtures/{SOURCE}/statements.json: [0] (id {ids[0]}).mode: ") for m in messages), messages


def test_offset_shifted_by_one_is_caught(content):
    def shift(events):
        span = events[0]["evidence"][0]
        span["start"] += 1
        span["end"] += 1

    edit(content, "events", shift)
    with pytest.raises(loader.LoadError) as caught:
        loader.check(content)
    assert any(p.path == "[0] (id khamis-arrives-tehran).evidence[0]" and "text at" in p.message for p in caught.value.problems)


def test_seed_whose_hash_does_not_match_is_refused(content):
    text = content / "seeds" / f"{SOURCE}.txt"
    text.write_bytes(text.read_bytes() + b"\n")
    with pytest.raises(loader.LoadError) as caught:
        loader.check(content)
    problem = next(p for p in caught.value.problems if p.path == "sha256")
    assert problem.file == f"seeds/{SOURCE}.json"
    assert hashlib.sha256(text.read_bytes()).hexdigest() in problem.message


def test_a_seed_edited_while_it_loads_is_a_problem(content):
    """The reader holds one source's text at a time and reads it again for that source's records:
    a seed changed after its hash was checked must not have spans checked against other text."""
    from models.load.reader import DatasetReader, Sink

    text = content / "seeds" / f"{SOURCE}.txt"

    class EditsTheSeed(Sink):
        def entities(self, participants, places):  # after the entities' spans, before the records'
            text.write_bytes(b" " + text.read_bytes())

    reader = DatasetReader(content)
    reader.read(EditsTheSeed())
    problem = next(p for p in reader.problems if p.file == f"seeds/{SOURCE}.txt")
    assert "changed while it was being loaded" in problem.message
    assert not any(p.file.endswith("events.json") for p in reader.problems)  # its records were not checked


def test_an_entity_holds_its_first_mentions_and_counts_the_others():
    """What a served participant lists (its first MENTIONS_INLINE mentions, in reading order) and
    counts, without the loader holding every mention of a large corpus."""
    from models.documents import MENTIONS_INLINE
    from models.load.entities import Entity

    first = [("a", i, i + 1, "x") for i in range(MENTIONS_INLINE - 50)]
    second = [("b", i, i + 1, "y") for i in range(120)]
    entity = Entity({"id": "p"}, "fixtures/a/participants.json")
    entity.add_mentions(first)
    entity.add_mentions(second, skipped=7)  # a stored entry: 7 more than it holds
    entity.add_mentions([("c", 0, 1, "z")])
    assert entity.mentions == (first + second)[:MENTIONS_INLINE]
    assert entity.mention_count == len(first) + len(second) + 7 + 1


def test_unknown_keys_and_wrong_types_are_errors(content):
    def spoil(participants):
        participants[0]["nickname"] = "x"
        participants[1]["mentions"][0]["start"] = "12"

    edit(content, "participants", spoil)
    with pytest.raises(loader.LoadError) as caught:
        loader.check(content)
    paths = {p.path for p in caught.value.problems}
    assert "[0] (id imad-khamis).nickname" in paths
    assert "[1] (id hassan-rouhani).mentions[0].start" in paths


def test_invalid_json_is_reported_not_raised(content):
    fixture_path(content, "places").write_text("[{", encoding="utf-8")
    with pytest.raises(loader.LoadError) as caught:
        loader.check(content)
    assert any(p.file.endswith("places.json") and "invalid JSON" in p.message for p in caught.value.problems)


def test_dataset_version_follows_the_files(content):
    before = loader.dataset_version(content)
    edit(content, "events", lambda events: events[0].update(summary_en=events[0]["summary_en"] + " "))
    assert loader.dataset_version(content) != before


# --------------------------------------------------------------------------- the CLI


def run_cli(*args, cwd, env=None):
    import os

    return subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, timeout=120)


def test_cli_check_and_load_exit_codes(content, tmp_path):
    ok = run_cli("check", "--root", str(content), cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("ok: 1 source(s)")

    url = f"sqlite:///{tmp_path / 'cli' / 'db.sqlite3'}"
    loaded = run_cli("load", "--root", str(content), "--database-url", url, cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    assert "release 1: 1 source(s) added" in loaded.stdout and "rebuilt everything" in loaded.stdout
    again = run_cli("load", "--root", str(content), "--database-url", url, cwd=tmp_path)
    assert again.returncode == 0 and "nothing changed since release 1" in again.stdout, again.stdout

    edit(content, "events", lambda events: events[0].update(status="maybe"))
    bad = run_cli("check", "--root", str(content), cwd=tmp_path)
    assert bad.returncode == 1
    assert f"fixtures/{SOURCE}/events.json: [0] (id khamis-arrives-tehran).status: " in bad.stderr
    bad_load = run_cli("load", "--root", str(content), "--database-url", url, cwd=tmp_path)
    assert bad_load.returncode == 1
    assert "nothing was loaded" in bad_load.stderr


def test_cli_without_content_explains_how_to_fix(tmp_path):
    result = run_cli("check", "--root", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert result.returncode == 2
    assert "--root" in result.stderr


def test_cli_help_explains_each_command(tmp_path):
    result = run_cli("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("check", "load", "serve"):
        assert command in result.stdout


def test_serve_reloads_a_database_loaded_with_another_table_layout(tmp_path):
    from api.cli import ensure_loaded
    from models.records import SCHEMA_VERSION

    path = tmp_path / "old.sqlite3"
    url = f"sqlite:///{path}"
    loader.load(ROOT, open_database(url))
    assert loader.loaded_version(open_database(url)) == loader.dataset_version(ROOT)
    with sqlite3.connect(path) as connection:  # as an older version of the code would have left it
        connection.execute("UPDATE dataset_meta SET value = 'older' WHERE key = 'schema_version'")
    assert loader.loaded_version(open_database(url)) is None  # same data, other layout: not usable

    ensure_loaded(ROOT, url)
    with sqlite3.connect(path) as connection:
        stored = connection.execute("SELECT value FROM dataset_meta WHERE key = 'schema_version'").fetchone()[0]
    assert stored == SCHEMA_VERSION
    assert loader.loaded_version(open_database(url)) == loader.dataset_version(ROOT)


def test_the_search_rows_of_a_full_load_wait_in_a_temporary_table_not_in_the_served_file(tmp_path):
    from models import backends

    db = db_for(tmp_path)
    db.connect()
    with db.atomic(), db.bind_ctx(loader.table_models(db)):
        loader.reset_schema(db)
        main = {name for (name,) in db.execute_sql("SELECT name FROM main.sqlite_master WHERE type = 'table'")}
        temporary = {name for (name,) in db.execute_sql("SELECT name FROM temp.sqlite_master WHERE type = 'table'")}
        assert "unordered_search_doc" in temporary and "unordered_search_doc" not in main
        assert {"event", "search_doc"} <= main
        backends.of(db).write_search_rows(db, [{"kind": "event", "part": 0, "record_id": "e1", "sort_date": "2017-01-18",
                                                "body": " astana ", "forms": "astana"}])
        backends.of(db).finish_search_index(db)
        assert [row for row in db.execute_sql("SELECT record_id FROM search_doc")] == [("e1",)]
    db.close()

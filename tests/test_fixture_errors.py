"""A fixture with a JSON typo is one problem, not a cascade, and problems name records by id,
as `event-records check` prints them."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, SOURCE, copy_dataset


def check(root) -> list[str]:
    done = subprocess.run([sys.executable, "-m", "api.cli", "check", "--root", str(root)], cwd=root,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert done.returncode == 1, done.stderr
    return [line for line in done.stderr.splitlines() if line.startswith("fixtures/")]


@pytest.mark.parametrize("kind", ["events", "statements"])
def test_a_json_typo_is_one_problem(tmp_path, kind):
    root = copy_dataset(tmp_path)
    path = root / "fixtures" / SOURCE / f"{kind}.json"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("},", "}", 1), encoding="utf-8")  # one missing comma
    problems = check(root)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"fixtures/{SOURCE}/{kind}.json: $: invalid JSON: ")


def test_an_ndjson_typo_is_one_problem(tmp_path):
    root = copy_dataset(tmp_path)
    directory = root / "fixtures" / SOURCE
    events = json.loads((directory / "events.json").read_text(encoding="utf-8"))
    lines = [json.dumps(event, ensure_ascii=False) for event in events]
    lines[2] = lines[2][:-1]  # an unclosed object
    (directory / "events.json").unlink()
    (directory / "events.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = check(root)
    assert problems == [problems[0]] and problems[0].startswith(f"fixtures/{SOURCE}/events.ndjson: line 3: invalid JSON")


@pytest.mark.parametrize("kind", ["participants", "places"])
def test_a_typo_in_an_entity_file_is_one_problem(tmp_path, kind):
    """The events and statements that use its participants or places are not checked (each would
    be an "unknown participant"): the one problem is the file."""
    root = copy_dataset(tmp_path)
    path = root / "fixtures" / SOURCE / f"{kind}.json"
    path.write_text(path.read_text(encoding="utf-8").replace("},", "}", 1), encoding="utf-8")
    problems = check(root)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"fixtures/{SOURCE}/{kind}.json: $: invalid JSON: ")


def test_an_invalid_participant_is_not_also_unknown(tmp_path):
    root = copy_dataset(tmp_path)
    path = root / "fixtures" / SOURCE / "participants.json"
    records = json.loads(path.read_text(encoding="utf-8"))
    records[0]["kind"] = "wizard"
    path.write_text(json.dumps(records, ensure_ascii=False, indent=1), encoding="utf-8")
    problems = check(root)
    assert len(problems) == 1 and ".kind: " in problems[0] and records[0]["id"] in problems[0], problems


def test_problems_name_the_record_by_id(tmp_path):
    root = copy_dataset(tmp_path)
    path = root / "fixtures" / SOURCE / "events.json"
    events = json.loads(path.read_text(encoding="utf-8"))
    events[3]["status"] = "maybe"
    path.write_text(json.dumps(events, ensure_ascii=False, indent=2), encoding="utf-8")
    problems = check(root)
    assert len(problems) == 1
    assert problems[0].startswith(f"fixtures/{SOURCE}/events.json: [3] (id {events[3]['id']}).status: "), problems


@pytest.mark.parametrize("kind,index,change,says", [
    ("participants", 0, {"id": "Imad Khamis"}, "'Imad Khamis' is not an id: 2 to 80 lower-case letters"),
    ("participants", 0, {"actor_code": "syr"}, "'syr' is not a CAMEO actor code"),
    ("participants", 0, {"identifiers": {"wikidata": "123", "geonames": None}}, "Q followed by digits"),
    ("events", 0, {"cameo": "4x2"}, "'4x2' is not a CAMEO code: 2 to 4 digits"),
    ("events", 1, {"topics": ["Astana-Talks"]}, "'Astana-Talks' is not a topic id"),
], ids=["id", "actor-code", "wikidata", "cameo", "topic"])
def test_a_value_of_the_wrong_form_is_a_problem_that_says_the_form(tmp_path, kind, index, change, says):
    """(A bad id was a KeyError out of the message's formatting: the pattern's {1,79} read as a field.)"""
    root = copy_dataset(tmp_path)
    path = root / "fixtures" / SOURCE / f"{kind}.json"
    records = json.loads(path.read_text(encoding="utf-8"))
    records[index].update(change)
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    problems = check(root)
    assert any(says in problem for problem in problems), problems


def _not_utf8(path):
    path.write_bytes(path.read_bytes().replace(b'"', b'"\xff', 1))  # (inside the first string)


def _with_bom(path):
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())


def _nested_deep(path):
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")


def _a_directory(path):
    path.unlink()
    path.mkdir()


@pytest.mark.parametrize("file", ["fixtures/{source}/events.json", "fixtures/{source}/places.json",
                                  "fixtures/codebook.json", "seeds/{source}.json"])
@pytest.mark.parametrize("break_it, says", [(_not_utf8, "not UTF-8: byte 0x"), (_with_bom, "byte-order mark"),
                                            (_nested_deep, "nested thousands deep"),
                                            (_a_directory, "not a file but a directory")])
def test_an_unreadable_file_is_one_line_that_says_how_to_fix_it(tmp_path, file, break_it, says):
    """Not a traceback: a file that is not UTF-8, begins with a BOM, nests too deep or is a directory."""
    root = copy_dataset(tmp_path)
    name = file.format(source=SOURCE)
    break_it(root / name)
    done = subprocess.run([sys.executable, "-m", "api.cli", "check", "--root", str(root)], cwd=root,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    problems = [line for line in done.stderr.splitlines() if line.startswith(("fixtures/", "seeds/"))]
    assert len(problems) == 1 and problems[0].startswith(f"{name}: $: ") and says in problems[0], done.stderr


def test_a_kind_in_two_files_is_a_problem(tmp_path):
    root = copy_dataset(tmp_path)
    directory = root / "fixtures" / SOURCE
    (directory / "events.ndjson").write_text('{"id": "x", "garbage": true}\n', encoding="utf-8")
    problems = check(root)
    assert any(line.startswith(f"fixtures/{SOURCE}/events.ndjson: $: events.json is here too") for line in problems), problems


def test_a_file_that_is_not_an_array_names_the_json_type(tmp_path):
    root = copy_dataset(tmp_path)
    (root / "fixtures" / SOURCE / "events.json").write_text("{}", encoding="utf-8")
    assert check(root) == [f"fixtures/{SOURCE}/events.json: $: expected a JSON array of records, got an object"]


def test_a_bad_day_or_code_says_what_was_written_and_the_form_it_takes(tmp_path):
    root = copy_dataset(tmp_path)
    path = root / "fixtures" / SOURCE / "events.json"
    events = json.loads(path.read_text(encoding="utf-8"))
    events[0]["date"]["start"], events[1]["date"]["end"] = "2017-02-30", "16/01/2017"
    path.write_text(json.dumps(events, ensure_ascii=False), encoding="utf-8")
    codebook_path = root / "fixtures" / "codebook.json"
    codebook = json.loads(codebook_path.read_text(encoding="utf-8"))
    codebook["roles"].append({"id": "zz-test-role", "description": "a role"})
    codebook_path.write_text(json.dumps(codebook, ensure_ascii=False), encoding="utf-8")
    problems = check(root)
    assert any("date.start: '2017-02-30' is not a day: write a calendar date as YYYY-MM-DD" in p for p in problems)
    assert any("date.end: '16/01/2017' is not a day" in p for p in problems)
    assert any("roles[14].id: 'zz-test-role' is not a role id" in p for p in problems), problems

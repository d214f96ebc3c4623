"""models/load/plan.py codebook_change: which codebook edits keep a load incremental; a new codebook
version and the records coded under an earlier one (through the real command line)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.load.plan import codebook_change
from tests.conftest import ROOT, copy_dataset

from .test_curation import problem_lines, read_json, records, run, write_json

CODEBOOK = json.loads((ROOT / "fixtures" / "codebook.json").read_text(encoding="utf-8"))


def changed(edit) -> str:
    new = json.loads(json.dumps(CODEBOOK))
    edit(new)
    return codebook_change(json.dumps(CODEBOOK), json.dumps(new).encode())


def test_the_same_codebook_is_the_same_in_any_layout():
    assert codebook_change(json.dumps(CODEBOOK), json.dumps(CODEBOOK, indent=4).encode()) == "same"


@pytest.mark.parametrize("name, entry", [
    ("cameo", {"code": "0431", "label": "A new code", "goldstein": 2.8, "plover_type": "CONSULT",
               "plover_mode": None, "plover_context": []}),
    ("topics", {"id": "a_new_topic", "label": "A new topic", "description": "New."}),
    ("roles", {"id": "a-new-role", "description": "New."}),
    ("actors", {"code": "KGZ", "kind": "country", "label": "Kyrgyzstan"}),  # (a full rebuild before)
])
def test_an_entry_added_to_any_list_keeps_the_load_incremental(name, entry):
    assert changed(lambda codebook: codebook[name].append(entry)) == "added"


@pytest.mark.parametrize("edit", [
    lambda codebook: codebook["cameo"][0].update(label="changed"),
    lambda codebook: codebook["topics"].pop(0),
    lambda codebook: codebook["actors"][0].update(kind="igo"),
    lambda codebook: codebook.update(version="2"),
    lambda codebook: codebook["roles"].__setitem__(0, None),
], ids=["label-changed", "topic-removed", "actor-changed", "version", "malformed"])
def test_any_other_change_rebuilds(edit):
    assert changed(edit) == "other"


def bump_codebook(root: Path, **more) -> None:
    path = root / "fixtures" / "codebook.json"
    write_json(path, {**read_json(path), "version": "2", **more})


def test_a_codebook_version_bump_says_how_to_keep_the_records_it_leaves_valid(tmp_path):
    root = copy_dataset(tmp_path)
    bump_codebook(root)
    lines = problem_lines(run("check", root=root, check_exit=1).stderr)
    assert len(lines) == sum(len(records(root, kind)[1]) for kind in ("participants", "places", "events", "statements"))
    assert all(".codebook_version: is '1' but fixtures/codebook.json is version '2'" in line
               and "add '1' to the codebook's compatible_versions" in line for line in lines), lines[:2]
    # a version that changed nothing the records rely on lists the one before: they stay valid as they are
    bump_codebook(root, compatible_versions=["1"])
    assert run("check", root=root, check_exit=0).returncode == 0
    # a record under a version the codebook does not accept is still a problem, which names those it does
    path, events = records(root, "events")
    events[0]["codebook_version"] = "0"
    write_json(path, events)
    lines = problem_lines(run("check", root=root, check_exit=1).stderr)
    assert len(lines) == 1 and "(or one of its compatible_versions: 1)" in lines[0], lines

"""models/load/plan.py codebook_change: which codebook edits keep a load incremental."""
from __future__ import annotations

import json

import pytest

from models.load.plan import codebook_change
from tests.conftest import ROOT

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

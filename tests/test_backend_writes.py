"""The loader's writes through the backend seam (models/backends): rows inserted in bulk, and
rows written over in place.

A bulk insert of uniform rows bypasses the query builder (SQLite: one prepared INSERT; PostgreSQL:
COPY), other rows go through peewee; both must store exactly the rows given.

An incremental load writes the participants and places it touches over their stored
rows (Backend.upsert) instead of deleting and inserting them: a deleted row that
events and statements reference makes the engine visit every reference under the
deferred foreign keys. These tests hold the upsert to its promise on both engines:
changed columns take the new values, the references stay valid, new keys are added.
"""
from __future__ import annotations

import pytest

from models import backends
from models.backends import uniform_rows
from models.db import open_database
from models.records import TABLES, Event, EventParticipant, Participant

from .conftest import loaded_url


@pytest.fixture(scope="module")
def url(backend, tmp_path_factory, request):
    return loaded_url(backend, tmp_path_factory, request)


def stored_row(participant_id: str) -> dict:
    return Participant.select().where(Participant.id == participant_id).dicts().get()


@pytest.mark.parametrize("same_keys", [True, False], ids=["prepared", "through-peewee"])
def test_upsert_writes_over_referenced_rows_and_adds_new_ones(url, same_keys):
    db = open_database(url)
    db.connect()
    with db.bind_ctx(TABLES), db.atomic() as transaction:
        referenced = EventParticipant.select(EventParticipant.participant).limit(1).scalar()
        links = EventParticipant.select().where(EventParticipant.participant == referenced).count()
        before = stored_row(referenced)
        count = Participant.select().count()
        changed = {**before, "name_en": before["name_en"] + " (renamed)", "summary": '{"changed":true}'}
        new = {**before, "id": "upsert-test-new", "name_en": "A new participant"}
        if not same_keys:  # rows with other keys go through peewee's own upsert (SQLite's fallback)
            new.pop("country")
        backends.of(db).upsert(db, Participant, [changed, new])
        backends.of(db).check_references(db)
        assert stored_row(referenced) == changed
        assert stored_row("upsert-test-new")["name_en"] == "A new participant"
        assert Participant.select().count() == count + 1
        assert EventParticipant.select().where(EventParticipant.participant == referenced).count() == links > 0
        transaction.rollback()
    db.close()


@pytest.mark.parametrize("same_keys", [True, False], ids=["bypassing-peewee", "through-peewee"])
def test_bulk_insert_stores_the_rows_as_given(url, same_keys):
    db = open_database(url)
    db.connect()
    with db.bind_ctx(TABLES), db.atomic() as transaction:
        model = stored_row(Participant.select(Participant.id).limit(1).scalar())
        # text that COPY's own format would take for syntax if it were not escaped
        rows = [{**model, "id": f"bulk-test-{n}", "name_en": f"Tab\there, line\nthere, back\\slash {n}",
                 "name_ar": "وزير الخارجية", "country": None} for n in range(3)]
        if not same_keys:
            rows[1].pop("country")
        assert (uniform_rows(Participant, rows) is None) is not same_keys
        backends.of(db).bulk_insert(db, Participant, rows)
        for row in rows:
            assert stored_row(row["id"]) == {**row, "country": None}
        transaction.rollback()
    db.close()


def test_uniform_rows_refuses_rows_a_field_would_store_otherwise():
    row = {"id": "x", "name_en": "X"}
    fields, values = uniform_rows(Participant, [row, {"name_en": "Y", "id": "y"}])
    assert [f.name for f in fields] == ["id", "name_en"] and values == [("x", "X"), ("y", "Y")]
    assert uniform_rows(Participant, [row, {"id": "y", "name_ar": "Y"}]) is None  # other keys
    assert uniform_rows(Participant, [row, {"id": "y"}]) is None  # fewer keys
    assert uniform_rows(Participant, [{**row, "no_such_field": 1}]) is None
    assert uniform_rows(Event, [{"id": "e", "goldstein": "1.5"}]) is None  # a float field makes it 1.5
    assert uniform_rows(Event, [{"id": "e", "goldstein": 1.5}]) is not None
    assert uniform_rows(Event, [{"id": "e", "quad_class": 1.0}]) is None  # equal to 1, written 1.0
    assert uniform_rows(Event, [{"id": "e", "quad_class": True}]) is None

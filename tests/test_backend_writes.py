"""The loader's writes through the backend seam (models/backends): rows written over in place.

An incremental load writes the participants and places it touches over their stored
rows (Backend.upsert) instead of deleting and inserting them: a deleted row that
events and statements reference makes the engine visit every reference under the
deferred foreign keys. These tests hold the upsert to its promise on both engines:
changed columns take the new values, the references stay valid, new keys are added.
"""
from __future__ import annotations

import pytest

from models import backends
from models.db import open_database
from models.records import TABLES, EventParticipant, Participant

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

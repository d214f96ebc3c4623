"""The dataset's history: releases, when each record was first seen and last changed, tombstones.

Every load that changes something is a *release*, numbered from 1. These tables
outlive every reload, ``--full`` included (a load empties the record tables, never
these), so a client's "what changed since release n" keeps an answer for the life
of the database.
"""
from __future__ import annotations

from peewee import CharField, CompositeKey, IntegerField, TextField

from .records import BaseModel, Event, Participant, Place, Source, Statement

#: the kinds of record whose history is kept
RECORD_MODELS = {"source": Source, "event": Event, "statement": Statement, "participant": Participant, "place": Place}
RECORD_KINDS = tuple(RECORD_MODELS)


class Release(BaseModel):
    number = IntegerField(primary_key=True)
    dataset_version = CharField()
    loaded_at = CharField()  # ISO 8601, UTC
    mode = CharField()  # full / incremental
    sources = TextField()  # {"added": [...], "changed": [...], "removed": [...]} (JSON)
    counts = TextField()  # {"events": n, ...}: the records the dataset holds after the release (JSON)
    changes = TextField()  # {"event": {"added": n, "changed": n, "removed": n}, ...} (JSON)


class RecordRelease(BaseModel):
    """The current records' history; ``digest`` is a hash of the served document, so a
    record whose document did not change keeps its ``last_release``."""

    kind = CharField()
    record_id = CharField()
    digest = CharField()
    first_release = IntegerField()
    last_release = IntegerField()

    class Meta:
        primary_key = CompositeKey("kind", "record_id")


class Tombstone(BaseModel):
    """A record removed in ``release`` (it may come back later, with a new first_release)."""

    kind = CharField()
    record_id = CharField()
    release = IntegerField()

    class Meta:
        primary_key = CompositeKey("kind", "record_id", "release")


HISTORY_TABLES = [Release, RecordRelease, Tombstone]


def create_tables(db) -> None:
    """The history tables, when this database has none yet."""
    with db.bind_ctx(HISTORY_TABLES):
        for model in HISTORY_TABLES:
            # a schema manager of our own: a model's shared one holds the database last bound by *any*
            # thread (peewee sets it on bind), and requests bind these models too
            type(model._schema)(model, db).create_all(safe=True)
        db.execute_sql('CREATE INDEX IF NOT EXISTS "record_release_last_idx" ON "record_release" '
                       '("last_release", "kind", "record_id")')
        db.execute_sql('CREATE INDEX IF NOT EXISTS "tombstone_release_idx" ON "tombstone" ("release", "kind", "record_id")')


def current_release(db) -> int:
    """The newest release's number (0 before the first load)."""
    if not db.table_exists("release"):
        return 0
    with db.bind_ctx([Release]):
        from peewee import fn
        return Release.select(fn.MAX(Release.number)).scalar() or 0

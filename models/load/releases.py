"""Record a load as a release: which records were added, changed and removed, and when each was
first seen and last changed (models/history.py).

During a load the writer notes the digest of every document it writes
(``load_digest``) and which records it may have replaced or removed
(``load_touched``: all of them for a full load, those of the re-written sources and
entities for an incremental one). Comparing both with ``record_release`` in SQL gives
the release's differences without holding a million ids in memory.
"""
from __future__ import annotations

import hashlib
import json
import time

from peewee import CharField, CompositeKey, Tuple, fn

from .. import backends
from ..history import RECORD_KINDS, RECORD_MODELS, RecordRelease, Release, Tombstone, create_tables, current_release
from ..records import BaseModel, DatasetMeta

#: model -> the history kind of its rows
KIND_OF = {model: kind for kind, model in RECORD_MODELS.items()}


class LoadDigest(BaseModel):
    """The documents written by the load in progress (dropped before it commits)."""

    kind = CharField()
    record_id = CharField()
    digest = CharField()

    class Meta:
        primary_key = CompositeKey("kind", "record_id")


class LoadTouched(BaseModel):
    """Records the load in progress may have replaced or removed (dropped before it commits)."""

    kind = CharField()
    record_id = CharField()

    class Meta:
        primary_key = CompositeKey("kind", "record_id")


WORK_TABLES = [LoadDigest, LoadTouched]


def digest(doc: str) -> str:
    return hashlib.blake2b(doc.encode(), digest_size=12).hexdigest()


class ReleaseRecorder:
    """Collects digests while the writer writes; ``record`` turns them into the release."""

    BATCH = 5_000

    def __init__(self, db):
        self.db = db
        self.backend = backends.of(db)
        self.rows: list[dict] = []
        create_tables(db)
        for model in WORK_TABLES:
            type(model._schema)(model, db).drop_all(safe=True)
            type(model._schema)(model, db).create_all(safe=False)

    def written(self, model, rows: list[dict]) -> None:
        kind = KIND_OF.get(model)
        if kind is None:
            return
        self.rows.extend({"kind": kind, "record_id": row["id"], "digest": digest(row["doc"])} for row in rows)
        if len(self.rows) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.backend.bulk_insert(self.db, LoadDigest, self.rows)
            self.rows = []

    def touched(self, kind: str, ids) -> None:
        """Records an incremental load deletes (and may write again)."""
        rows = [{"kind": kind, "record_id": i} for i in dict.fromkeys(ids)]
        for start in range(0, len(rows), self.BATCH):
            self.backend.bulk_insert(self.db, LoadTouched, rows[start: start + self.BATCH])

    def record(self, *, version: str, mode: str, sources: dict, counts: dict, everything: bool) -> int:
        """Write the release (``everything``: a full load, every stored record was touched)."""
        self.flush()
        number = current_release(self.db) + 1
        with self.db.bind_ctx([RecordRelease, Release, Tombstone, LoadDigest, LoadTouched]):
            changes = self._apply(number, everything)
            Release.insert(number=number, dataset_version=version, mode=mode,
                           loaded_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                           sources=json.dumps(sources), counts=json.dumps(counts), changes=json.dumps(changes)).execute()
        # beside the dataset version, so that a request reads both in the one query it makes
        DatasetMeta.delete().where(DatasetMeta.key == "release").execute()
        DatasetMeta.insert(key="release", value=str(number)).execute()
        for model in WORK_TABLES:
            type(model._schema)(model, self.db).drop_all(safe=True)
        return number

    def _apply(self, number: int, everything: bool) -> dict:
        r, n, t = RecordRelease, LoadDigest, LoadTouched
        same_record = (n.kind == r.kind) & (n.record_id == r.record_id)
        written = fn.EXISTS(n.select(n.kind).where(same_record))
        if everything:  # a full load: every stored record it did not write is gone
            gone = ~written
        else:
            # an incremental load: only what it touched, found through the work table (a condition
            # on every record_release row would read the whole history)
            unwritten = t.select(t.kind, t.record_id).where(
                ~fn.EXISTS(n.select(n.kind).where((n.kind == t.kind) & (n.record_id == t.record_id))))
            gone = Tuple(r.kind, r.record_id).in_(unwritten)
        # the stored records the load wrote, through the work table, whose documents changed
        changed = Tuple(r.kind, r.record_id).in_(n.select(n.kind, n.record_id)) & fn.EXISTS(
            n.select(n.kind).where(same_record & (n.digest != r.digest)))
        stored = fn.EXISTS(r.select(r.kind).where((r.kind == n.kind) & (r.record_id == n.record_id)))
        counts = {kind: {"added": 0, "changed": 0, "removed": 0} for kind in RECORD_KINDS}
        for label, select in (("removed", r.select(r.kind, fn.COUNT(r.kind)).where(gone)),
                              ("changed", r.select(r.kind, fn.COUNT(r.kind)).where(changed)),
                              ("added", n.select(n.kind, fn.COUNT(n.kind)).where(~stored))):
            for kind, count in select.group_by(select.selected_columns[0]).tuples():
                counts[kind][label] = count
        Tombstone.insert_from(r.select(r.kind, r.record_id, number).where(gone),
                              [Tombstone.kind, Tombstone.record_id, Tombstone.release]).execute()
        RecordRelease.delete().where(gone).execute()
        new_digest = n.select(n.digest).where(same_record)
        RecordRelease.update(digest=new_digest, last_release=number).where(changed).execute()
        RecordRelease.insert_from(n.select(n.kind, n.record_id, n.digest, number, number).where(~stored),
                                  [r.kind, r.record_id, r.digest, r.first_release, r.last_release]).execute()
        return counts

"""The participant and place entries an incremental load merges without reading their files.

A full load merges each participant and place over every source that lists it.
An incremental load reads only the sources it re-writes; for the rest it needs
the merged entities, and reading every source's stored entry (SourceEntity) to
merge them again cost time and memory in proportion to the whole dataset. So
only the entities the load touches (listed by a re-written source, before or
after) are merged again from their entries, found by the ``(kind, entity)``
index, mentions read only until an entity's inline list is full; every other
entity is taken as the database serves it (its embedded document: the merged
record without mentions, and its mention count), which the load leaves as it is.
"""
from __future__ import annotations

import json

from .. import documents
from ..records import Participant, Place, SourceEntity
from .reader import Entity, StoredEntry

CHUNK = 500  # ids per IN (…) list
MODELS = {"participants": Participant, "places": Place}


class StoredEntities:
    """What the reader merges from the database in an incremental load.

    ``touched``: kind -> ids of the entities the re-written sources listed before this
    load (their entries are deleted before the reader runs); the entities the read
    sources list now are added by :meth:`merge`.
    """

    def __init__(self, touched: dict[str, set]):
        self.touched = touched
        #: kind -> (id -> (embedded document, mention count)) of every stored entity
        self.served: dict[str, dict] = {kind: {} for kind in MODELS}
        for kind, model in MODELS.items():
            for entity_id, embedded in model.select(model.id, model.embedded).tuples().iterator():
                doc = json.loads(embedded)
                self.served[kind][entity_id] = (doc, doc["mention_count"])
        #: kind -> ids merged again by this load (the others are as served)
        self.merged: dict[str, set] = {kind: set() for kind in MODELS}

    def merge(self, reader, merged: dict, read: list) -> None:
        """Fill ``merged`` (kind -> id -> Entity) as a full load would: the entries ``read``
        from files ((source id, (kind, path, json path, record, mentions)) in reading order)
        and the stored entries of the same entities and of ``touched``, in source order."""
        for kind in MODELS:
            self.merged[kind] = set(self.touched[kind])
        for _, (kind, _, _, record, _) in read:
            self.merged[kind].add(record["id"])
        items = [(source_id, False, entry) for source_id, entry in read]
        items += [(entry[0], True, entry) for entry in self.entries()]
        items.sort(key=lambda item: item[0])  # stable: a source's entries keep their order
        # an entity's entries in most sources are the same text: parsed and merged once each
        records: dict[tuple[str, str, str], dict] = {}
        for source_id, stored, entry in items:
            if not stored:
                reader.merge_read(merged, *entry)
                continue
            _, kind, entity_id, record, count = entry
            entity = merged[kind].get(entity_id)
            have = len(entity.mentions) if entity is not None else 0
            mentions = self.mentions(source_id, kind, entity_id) if have < documents.MENTIONS_INLINE else []
            parsed = records.get((kind, entity_id, record))
            if parsed is None:
                parsed = records[kind, entity_id, record] = json.loads(record)
                reader.merge_stored(merged[kind], StoredEntry(kind, parsed, mentions, count), source_id)
            else:  # its names and lists are in the entity already: checked, and its mentions counted
                reader.merge_stored(merged[kind], StoredEntry(kind, parsed, mentions, count), source_id,
                                    lists=False)
        for kind, served in self.served.items():
            for entity_id, (doc, count) in served.items():
                if entity_id not in self.merged[kind]:
                    merged[kind][entity_id] = Entity(doc, "", [], count)

    def entries(self):
        """(source, kind, entity, record, mention count) of the stored entries of ``self.merged``
        (in SQL: a popular participant has an entry in most sources, and peewee's row handling
        cost more than the query)."""
        db = SourceEntity._meta.database
        mark = db.param
        for kind, ids in self.merged.items():
            ids = sorted(ids)
            for start in range(0, len(ids), CHUNK):
                part = ids[start: start + CHUNK]
                yield from db.execute_sql(
                    f'SELECT "source", "kind", "entity", "record", "mention_count" FROM "source_entity" '
                    f'WHERE "kind" = {mark} AND "entity" IN ({", ".join([mark] * len(part))})', [kind, *part])

    @staticmethod
    def mentions(source_id: str, kind: str, entity_id: str) -> list:
        """One stored entry's mentions (one primary-key lookup, in SQL: a few thousand of them
        through peewee's query builder cost seconds)."""
        db = SourceEntity._meta.database
        mark = db.param
        (mentions,) = db.execute_sql(f'SELECT "mentions" FROM "source_entity" WHERE "source" = {mark} '
                                     f'AND "kind" = {mark} AND "entity" = {mark}', [source_id, kind, entity_id]).fetchone()
        return [(source_id, start, end, text) for start, end, text in json.loads(mentions)]

    def served_mentions(self, kind: str, ids) -> dict:
        """id -> (inline span documents, mention count) of entities not merged again, from
        their stored documents (their counts of events or statements may still change)."""
        model = MODELS[kind]
        out = {}
        ids = sorted(ids)
        for start in range(0, len(ids), CHUNK):
            for entity_id, doc in model.select(model.id, model.doc).where(
                    model.id.in_(ids[start: start + CHUNK])).tuples():
                doc = json.loads(doc)
                out[entity_id] = (doc["mentions"], doc["mention_count"])
        return out

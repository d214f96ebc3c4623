"""The participant and place entries an incremental load merges without reading their files.

A full load merges each participant and place over every source that lists it.
An incremental load reads only the sources it re-writes; for the rest it needs
the merged entities, and reading every source's stored entry (SourceEntity) to
merge them again cost time and memory in proportion to the whole dataset. So
only the entities the load touches (listed by a re-written source, before or
after) are merged again from their entries, read from the covering index on
``(kind, entity, source, mention_count, record_digest)``: each distinct entry text
parsed and merged once, mentions read only until an entity's inline list is full,
the other entries' mentions counted by the database; every other entity is taken
as the database serves it (its embedded document: the merged record without
mentions, and its mention count), which the load leaves as it is.
"""
from __future__ import annotations

import json
from collections import Counter

from .. import backends, documents
from ..records import Participant, Place, SourceEntity
from .entities import Entity, StoredEntry

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
        and the stored entries of the same entities and of ``touched``, in source order.

        A popular participant has an entry in most sources, nearly all of the same text. Row
        by row, in source order, are merged only the entries that can add something: each
        text's first (its names and lists) and those read while the entity's inline mention
        list is not full (their mentions). The others add their mention counts, summed by
        the database (:meth:`entries`); their names are the same text's, checked once."""
        for kind in MODELS:
            self.merged[kind] = set(self.touched[kind])
        for _, (kind, _, _, record, _) in read:
            self.merged[kind].add(record["id"])
        texts, rows = self.entries()
        items = [(source_id, False, entry) for source_id, entry in read]
        items += [(row[0], True, row) for row in rows]
        items.sort(key=lambda item: item[0])  # stable: a source's entries keep their order
        records: dict[tuple[str, str, str], dict] = {}  # (kind, entity, digest) -> the parsed text
        # (kind, entity, digest) -> the entries and the mentions of that text merged row by row
        row_entries, row_mentions = Counter(), Counter()
        for source_id, stored, entry in items:
            if not stored:
                reader.merge_read(merged, *entry)
                continue
            key = self._merge_row(reader, merged, source_id, entry, records)
            row_entries[key] += 1
            row_mentions[key] += entry[4]
        for key, (entries, mention_count) in texts.items():
            if entries > row_entries[key]:  # the entity's inline list was full before these
                self._count_the_rest(reader, merged, key, mention_count - row_mentions[key], records[key], rows)
        for kind, served in self.served.items():
            for entity_id, (doc, count) in served.items():
                if entity_id not in self.merged[kind]:
                    merged[kind][entity_id] = Entity(doc, "", [], count)

    def _merge_row(self, reader, merged: dict, source_id: str, entry: tuple, records: dict) -> tuple:
        """One stored entry (source, kind, entity, digest, mention count) merged: its text parsed
        and merged whole the first time, later only its mentions and count. Its text's key."""
        _, kind, entity_id, digest, count = entry
        entity = merged[kind].get(entity_id)
        have = len(entity.mentions) if entity is not None else 0
        mentions = self.mentions(source_id, kind, entity_id) if have < documents.MENTIONS_INLINE else []
        key = (kind, entity_id, digest)
        parsed = records.get(key)
        if parsed is None:
            parsed = records[key] = self.entry_column("record", source_id, kind, entity_id)
            reader.merge_stored(merged[kind], StoredEntry(kind, parsed, mentions, count), source_id)
        else:  # its names and lists are in the entity already: checked, and its mentions counted
            reader.merge_stored(merged[kind], StoredEntry(kind, parsed, mentions, count), source_id, lists=False)
        return key

    def _count_the_rest(self, reader, merged: dict, key: tuple, mention_count: int, record: dict, rows: list) -> None:
        """The entries of one text not merged row by row (read after the entity's inline list was
        full): their mentions counted, their names checked against the entity's."""
        kind, entity_id, _ = key
        merged[kind][entity_id].skipped += mention_count
        if not reader.same_identity(kind, merged[kind][entity_id].record, record):
            self.report_rest(reader, merged[kind], key, record, {row[0] for row in rows if tuple(row[1:4]) == key})

    def entries(self) -> tuple[dict, list]:
        """The stored entries of ``self.merged``, from the index on (kind, entity, source,
        mention count, digest) alone: per text, (kind, entity, digest) -> (entries, mentions);
        and the entries to merge row by row, (source, kind, entity, digest, mention count): each
        text's first, and those before the entity's stored entries fill an inline list.
        (In SQL: peewee's row handling cost more than the queries.)"""
        db = SourceEntity._meta.database
        mark = db.param
        inline = int(documents.MENTIONS_INLINE)
        # in the order merge() walks them (Python's), whatever the database's collation
        source = backends.of(db).bytewise('"source"')
        texts, rows = {}, []
        for kind, ids in self.merged.items():
            ids = sorted(ids)
            for start in range(0, len(ids), CHUNK):
                part = ids[start: start + CHUNK]
                where = f'"kind" = {mark} AND "entity" IN ({", ".join([mark] * len(part))})'
                for *key, entries, mentions in db.execute_sql(
                        f'SELECT "kind", "entity", "record_digest", COUNT(*), SUM("mention_count") '
                        f'FROM "source_entity" WHERE {where} GROUP BY "kind", "entity", "record_digest"', [kind, *part]):
                    texts[tuple(key)] = (entries, mentions)
                rows += db.execute_sql(
                    f'SELECT "source", "kind", "entity", "record_digest", "mention_count" FROM ('
                    f'SELECT "source", "kind", "entity", "record_digest", "mention_count", '
                    f'SUM(CASE WHEN "mention_count" > {inline} THEN {inline} ELSE "mention_count" END) OVER ('
                    f'PARTITION BY "kind", "entity" ORDER BY {source} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING'
                    f') AS "inline_before", ROW_NUMBER() OVER (PARTITION BY "kind", "entity", "record_digest" '
                    f'ORDER BY {source}) AS "nth" FROM "source_entity" WHERE {where}) AS "e" '
                    f'WHERE "nth" = 1 OR "inline_before" IS NULL OR "inline_before" < {inline}', [kind, *part]).fetchall()
        return texts, rows

    def report_rest(self, reader, entities: dict, key: tuple, record: dict, merged_sources: set) -> None:
        """The problems of the entries of one text not merged row by row, as merging each would
        report them (its names differ from the entity's first entry: only after a source read
        in this load changed them)."""
        db = SourceEntity._meta.database
        mark = db.param
        kind, entity_id, digest = key
        source = backends.of(db).bytewise('"source"')
        for (source_id,) in db.execute_sql(
                f'SELECT "source" FROM "source_entity" WHERE "kind" = {mark} AND "entity" = {mark} '
                f'AND "record_digest" = {mark} ORDER BY {source}', [kind, entity_id, digest]).fetchall():
            if source_id not in merged_sources:
                reader.merge_stored(entities, StoredEntry(kind, record, [], 0), source_id, lists=False)

    @staticmethod
    def entry_column(column: str, source_id: str, kind: str, entity_id: str):
        """One column of one stored entry, parsed (a primary-key lookup, in SQL: a few thousand
        of them through peewee's query builder cost seconds)."""
        db = SourceEntity._meta.database
        mark = db.param
        (text,) = db.execute_sql(f'SELECT "{column}" FROM "source_entity" WHERE "source" = {mark} '
                                 f'AND "kind" = {mark} AND "entity" = {mark}', [source_id, kind, entity_id]).fetchone()
        return json.loads(text)

    def mentions(self, source_id: str, kind: str, entity_id: str) -> list:
        """One stored entry's inline mentions, as (source, start, end, text)."""
        return [(source_id, start, end, text) for start, end, text in self.entry_column("mentions", source_id, kind, entity_id)]

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

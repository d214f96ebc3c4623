"""An incremental load: apply the sources added, changed or removed since the last release.

The rows of every re-written source (its events, statements, links, topics,
search rows and participant/place entries) are deleted and the added and changed
sources are read, checked and written as a full load would write them. What
depends on more than one source is then brought up to date exactly:

* participants and places named by those sources, before or after (their merged
  documents, mention lists and counts), re-rendered from every source's stored
  entry (models.records.SourceEntity);
* the CAMEO codes' counts; the day counts (models/daycounts.py), by the
  difference of the removed and added events, their running totals re-summed;
* the search index, whose new rows are numbered into the gaps a full load leaves;
  and the rows of other sources' records that contain a name whose effect on the
  index changed (a new participant's name, an alias added), written again from
  their stored documents.

Where the difference would reach other sources' documents (the short form of a
participant or place that they embed) or the numbering has no room left, the load
says why and rebuilds everything instead (:class:`FullRequired`). tests/test_incremental.py holds every endpoint of an
incrementally loaded database equal to a full load of the same files.
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

from .. import backends, daycounts, documents, dyadcounts, gazetteer, search
from ..search_index import body_words
from ..records import (
    CameoCode, DatasetMeta, Event, EventCountry, EventDyad, EventParticipant, EventTopic, Participant,
    Place, Source, SourceEntity, Statement, StatementDyad, StatementTopic, Topic,
)
from .files import LoadError, Problem, record_file
from .reader import DatasetReader
from .releases import ReleaseRecorder
from .count_updates import apply_day_counts, apply_dyad_counts, chunks
from .stored import StoredEntities
from .writer import DatabaseWriter, MentionHead



class FullRequired(Exception):
    """The difference reaches records the incremental load does not re-write: rebuild."""




def apply(root: Path, db, plan, progress):
    """Apply ``plan`` inside the caller's transaction; returns the load's Summary."""
    from . import Summary, stored_counts

    rewritten = plan.rewritten
    backends.of(db).prepare_incremental(db)
    recorder = ReleaseRecorder(db)
    old = OldRows.capture(db, rewritten)
    old.delete(db, recorder)
    old.delete_sources(rewritten, recorder)
    reader = DatasetReader(root, progress, only=set(plan.added) | set(plan.changed),
                           stored=StoredEntities(old.entities), taken=lambda kind, ids: taken_ids(kind, ids))
    writer = IncrementalWriter(db, plan, recorder, old, reader)
    reader.read(writer, plan.version)
    if reader.problems:
        raise LoadError(reader.problems)
    backends.of(db).check_references(db)
    counts = stored_counts(db)
    release = recorder.record(version=plan.version, mode="incremental", counts=counts, everything=False,
                              sources={"added": plan.added, "changed": plan.changed, "removed": plan.removed})
    return Summary(plan.version, counts, 0.0, "incremental", release, plan)


def records_naming(kind: str, entity_id: str) -> set[tuple[str, str]]:
    """(kind, id) of the stored records whose search rows hold the names of a participant or place."""
    key = json.dumps(f"{kind}:{entity_id}")
    also = Event.select(Event.id).where(Event.also_named.contains(key))
    if kind == "participant":
        own = EventParticipant.select(EventParticipant.event).where(EventParticipant.participant == entity_id)
        spoken = Statement.select(Statement.id).where(Statement.speaker == entity_id)
        found = {("statement", s) for (s,) in spoken.tuples()}
    else:
        own = Event.select(Event.id).where(Event.place == entity_id)
        found = set()
    return found | {("event", e) for select in (own, also) for (e,) in select.tuples()}


def taken_ids(kind: str, ids: list) -> dict:
    """id -> source of the records among ``ids`` that sources not re-written hold."""
    model = Event if kind == "events" else Statement
    found = {}
    for part in chunks(ids):
        found.update(model.select(model.id, model.source).where(model.id.in_(part)).tuples())
    return found


class OldRows:
    """What the re-written sources held before the load: deleted, but remembered for the
    day counts and for the participants and places whose documents change."""

    def __init__(self):
        self.events: list[str] = []
        self.statements: list[str] = []
        self.day_counts = daycounts.DayCounter()
        self.dyad_counts = dyadcounts.DyadCounter()
        self.code_counts: dict = defaultdict(Counter)  # CAMEO code -> events and statements deleted
        #: kind -> id -> the events (and statements) deleted that count for the entity's document
        self.entity_counts: dict[str, dict] = {"participants": defaultdict(Counter), "places": defaultdict(Counter)}
        self.entities: dict[str, set] = {"participants": set(), "places": set()}

    @classmethod
    def capture(cls, db, sources: list[str]) -> "OldRows":
        old = cls()
        countries = defaultdict(set)
        for part in chunks(sources):
            events = Event.select(Event.id).where(Event.source.in_(part))
            for event_id, country in EventCountry.select(EventCountry.event, EventCountry.country).where(
                    EventCountry.event.in_(events)).tuples():
                countries[event_id].add(country)
            for row in Event.select(Event.id, Event.date_start, Event.date_end, Event.sort_date, Event.date_precision,
                                    Event.cameo_root, Event.status, Event.plover_type, Event.place,
                                    Event.cameo_code).where(Event.source.in_(part)).tuples():
                event_id, start, end, anchor, precision, root, status, plover, place, code = row
                old.events.append(event_id)
                old.code_counts[code]["events"] += 1
                old.day_counts.add(start=start, end=end, anchor=anchor, precision=precision, cameo_root=root,
                                   status=status, plover=plover, countries=countries.get(event_id))
                if place:
                    old.entities["places"].add(place)
                    old.entity_counts["places"][place]["events"] += 1
            for row in EventDyad.select(EventDyad.date_start, EventDyad.date_end, EventDyad.source_actor,
                                        EventDyad.target_actor, EventDyad.quad_class, EventDyad.goldstein).where(
                    EventDyad.event.in_(events)).tuples():
                start, end, source, target, quad, goldstein = row
                old.dyad_counts.add(start=start, end=end, source=source, target=target, quad_class=quad,
                                    goldstein=goldstein)
            # an event counts once for a participant whatever its roles (COUNT DISTINCT, as a full load counts)
            links = EventParticipant.select(EventParticipant.participant).where(EventParticipant.event.in_(events))
            for (participant,) in links.group_by(EventParticipant.event, EventParticipant.participant).tuples():
                old.entities["participants"].add(participant)
                old.entity_counts["participants"][participant]["events"] += 1
            for statement_id, speaker, code in Statement.select(Statement.id, Statement.speaker, Statement.cameo_code).where(
                    Statement.source.in_(part)).tuples():
                old.statements.append(statement_id)
                old.code_counts[code]["statements"] += 1
                old.entities["participants"].add(speaker)
                old.entity_counts["participants"][speaker]["statements"] += 1
            for kind, entity in SourceEntity.select(SourceEntity.kind, SourceEntity.entity).where(
                    SourceEntity.source.in_(part)).tuples():
                old.entities[kind].add(entity)
        return old

    def delete(self, db, recorder: ReleaseRecorder) -> None:
        backend = backends.of(db)
        for kind, ids in (("event", self.events), ("statement", self.statements)):
            recorder.touched(kind, ids)
            for part in chunks(ids):
                backend.delete_search_rows(db, kind, part)
        for part in chunks(self.statements):
            for model in (StatementTopic, StatementDyad):
                model.delete().where(model.statement.in_(part)).execute()
            Statement.delete().where(Statement.id.in_(part)).execute()
        for part in chunks(self.events):
            for model in (EventTopic, EventCountry, EventParticipant, EventDyad):
                model.delete().where(model.event.in_(part)).execute()
            Event.delete().where(Event.id.in_(part)).execute()

    def delete_sources(self, sources: list[str], recorder: ReleaseRecorder) -> None:
        recorder.touched("source", sources)
        for part in chunks(sources):
            SourceEntity.delete().where(SourceEntity.source.in_(part)).execute()
            Source.delete().where(Source.id.in_(part)).execute()


class IncrementalWriter(DatabaseWriter):
    """The full load's writer, for the re-written sources, plus what depends on them."""

    def __init__(self, db, plan, recorder, old: OldRows, reader: DatasetReader):
        super().__init__(db, plan, recorder)
        self.old = old
        self.reader = reader
        self.index = search.IndexWriter(db, placed=True)
        self.new_entries: dict[str, set] = {"participants": set(), "places": set()}
        #: search rows of other sources' records that index differently after this load: (kind, id)
        self.rerender: set[tuple[str, str]] = set()

    def codebook(self, codebook: dict) -> None:
        self.codes = codebook["codes"]
        known = {t for (t,) in Topic.select(Topic.id).tuples()}
        self.insert(Topic, ({"id": t["id"], "label": t["label"], "description": t["description"]}
                            for t in codebook["topics"] if t["id"] not in known))

    # the entries of the sources read are written after the stored entries are merged
    # (StoredEntities.merge reads source_entity: written before, they would be merged twice)
    flush_early = False
    counts_dyads_here = True  # the difference of the counts is applied to the stored ones

    def entity_entry(self, source_id: str, kind: str, record: dict, mentions: list) -> None:
        self.new_entries[kind].add(record["id"])
        super().entity_entry(source_id, kind, record, mentions)

    def entities(self, participants: dict, places: dict) -> None:
        # the gazetteer entries of the participants and places as stored before this load
        stored_entries = {(kind, entity_id): gazetteer.entry_of(doc)
                          for kind, served in self.reader.stored.served.items() for entity_id, (doc, _) in served.items()}
        self.flush_entries()  # merged now (flush_early)
        super().entities(participants, places)
        rewritten = set()
        for kind, model, merged in (("participants", Participant, participants), ("places", Place, places)):
            defined = self.old.entities[kind] | self.new_entries[kind]
            rewritten |= {(kind[:-1], entity_id) for entity_id in defined}
            stored = {row[0]: row for row in self.stored_entities(model, defined)}
            for entity_id in sorted(defined):
                if self.renamed(kind, entity_id, stored.get(entity_id), merged.get(entity_id)):
                    self.rerender |= records_naming(kind[:-1], entity_id)
            self.check_unreferenced(kind, sorted(e for e in stored if e not in merged))
        # as the index's gazetteer has them (DatabaseWriter.entities)
        entries = {(kind, entity_id): gazetteer.entry_of(record)
                   for kind, records in (("participants", self.participants), ("places", self.places))
                   for entity_id, record in records.items()}
        self.rerender |= self.changed_names(stored_entries, entries, rewritten)

    @staticmethod
    def stored_entities(model, ids):
        summary = model.summary if model is Participant else model.embedded
        for part in chunks(ids):
            yield from model.select(model.id, summary, model.doc).where(model.id.in_(part)).tuples()

    def renamed(self, kind: str, entity_id: str, stored, entity) -> bool:
        """Whether the entity's names changed (other records' search rows hold them); raise
        FullRequired when its short form, which other records' documents embed, changed."""
        if stored is None or entity is None:
            return False  # a name that comes or goes: changed_names (and check_unreferenced)
        doc = json.loads(stored[2])
        if kind == "participants":
            summary = documents.participant_summary(entity.record)
            old_summary = json.loads(stored[1])
        else:
            summary, old_summary = documents.place_summary(entity.record), documents.place_summary(doc)
        if summary != old_summary:
            raise FullRequired(f"the short form (names, kind, country) of {kind[:-1]} {entity_id} changed: the "
                               "records that embed it, in any source, are rewritten with everything")
        names = ("name_en", "name_ar", "aliases", "search_forms", "title_en", "title_ar")
        return any(doc.get(n) != entity.record.get(n) for n in names if n in doc)

    def check_unreferenced(self, kind: str, gone: list[str]) -> None:
        """Participants or places no source defines any more must not be used by one."""
        users = {}
        for part in chunks(gone):
            if kind == "participants":
                selects = [("events", Event.select(EventParticipant.participant, Event.source, Event.id)
                            .join(EventParticipant).where(EventParticipant.participant.in_(part))),
                           ("statements", Statement.select(Statement.speaker, Statement.source, Statement.id)
                            .where(Statement.speaker.in_(part))),
                           ("statements", Statement.select(StatementDyad.target_actor, Statement.source, Statement.id)
                            .join(StatementDyad).where(StatementDyad.target_actor.in_(part)))]
            else:
                selects = [("events", Event.select(Event.place, Event.source, Event.id).where(Event.place.in_(part)))]
            for records, select in selects:
                users.update((entity_id, (source_id, records, record_id)) for entity_id, source_id, record_id in select.tuples())
        if kind == "participants" and gone:
            users.update(self.attributed_via(gone))
        for entity_id, (source_id, records, record_id) in sorted(users.items()):
            # named as check names it: the record's file and id (its position is in a file this load did not read)
            file = record_file(self.reader.root / "fixtures" / source_id, records)
            self.reader.problems.append(Problem(
                self.reader.rel(file) if file is not None else f"fixtures/{source_id}", f"(id {record_id})",
                f"uses {kind[:-1]} {entity_id!r}, which no source defines any more; define it in a {kind}.json "
                "or remove the references"))

    @staticmethod
    def attributed_via(gone: list[str]) -> dict:
        """participant -> (source, "statements", id) of a statement attributed via it, among ``gone``.

        No table lists these references, so this reads every statement's document (0.6 s at
        100,000 statements; only when a load leaves participants undefined); the documents
        that hold one of the ids as written are parsed, not every attributed statement's."""
        wanted = set(gone)
        found = {}
        for part in chunks(gone, 50):
            named = None
            for entity_id in part:
                holds = Statement.doc.contains('"id":' + json.dumps(entity_id, ensure_ascii=False))
                named = holds if named is None else (named | holds)
            quoted = Statement.select(Statement.source, Statement.id, Statement.doc).where(
                Statement.doc.contains('"attributed_via":[{') & named)
            for source_id, statement_id, doc in quoted.tuples().iterator():
                for via in json.loads(doc)["attributed_via"]:
                    if via["id"] in wanted:
                        found[via["id"]] = (source_id, "statements", statement_id)
        return found

    def changed_names(self, old: dict, new: dict, rewritten: set) -> set:
        """Records this load does not re-write that contain a name whose effect on the index
        changed (a new entity's name, one gone, a name now shared by two entities, …).

        ``old`` and ``new``: (kind, id) -> gazetteer entry before and after the load. Only the
        names of entities whose entry changed can change their effect, and a name's effect
        depends only on the entities that have it: so the two gazetteers compared are those of
        the entities sharing a name with a changed one (a handful), not of every entity (the
        whole gazetteer, built twice, was 15 % of an incremental load at 100k events)."""
        changed = [key for key in old.keys() | new.keys() if old.get(key) != new.get(key)]
        names = {sequence for key in changed for entry in (old.get(key), new.get(key)) if entry
                 for sequence in gazetteer.name_sequences(entry)}
        if not names:
            return set()

        def sharing(entries: dict) -> gazetteer.Gazetteer:
            return gazetteer.Gazetteer([entries[key] for key in sorted(
                key for key, entry in entries.items() if names.intersection(gazetteer.name_sequences(entry)))])

        before, after = sharing(old).effects(), sharing(new).effects()
        backend = backends.of(self.db)
        found = set()
        for sequence in sorted(names):
            if before.get(sequence) == after.get(sequence):
                continue
            for kind, record_id, body in backend.rows_with_terms(self.db, list(sequence)):
                if (kind, record_id) not in rewritten and gazetteer.contains_sequence(body_words(body), sequence):
                    found.add((kind, record_id))
        return found

    def rerender_search_rows(self, rewritten_entities: set) -> None:
        """Write again the search rows of ``self.rerender``, from the stored documents."""
        backend = backends.of(self.db)
        by_kind = defaultdict(list)
        for kind, record_id in self.rerender - rewritten_entities:
            by_kind[kind].append(record_id)
        for kind, ids in by_kind.items():
            for part in chunks(sorted(ids)):
                backend.delete_search_rows(self.db, kind, part)
                if kind == "event":
                    for doc, also_named in Event.select(Event.doc, Event.also_named).where(Event.id.in_(part)).tuples():
                        self.index.add_event(*self.event_search_input(json.loads(doc), also_named))
                elif kind == "statement":
                    for (doc,) in Statement.select(Statement.doc).where(Statement.id.in_(part)).tuples():
                        self.index.add_statement(json.loads(doc))
                else:
                    model = Participant if kind == "participant" else Place
                    for (doc,) in model.select(model.doc).where(model.id.in_(part)).tuples():
                        self.index.add_entity(kind, json.loads(doc))

    def event_search_input(self, doc: dict, also_named: str | None) -> tuple[dict, list]:
        """(document, names) as the writer gave them to the index when it wrote the event."""
        keys = [("participant", link["participant"]["id"]) for link in doc["participants"]]
        if doc["place"]:
            keys.append(("place", doc["place"]["id"]))
        keys = list(dict.fromkeys(keys))
        keys += [tuple(key.split(":", 1)) for key in json.loads(also_named or "[]")]
        return doc, self.names_of(keys)

    def finish(self, version: str) -> None:
        self.flush_entries()
        self.rewrite_entities()
        code_counts = self.code_counts_now()
        CameoCode.delete().execute()
        self.insert(CameoCode, (
            {"code": code, "label": entry["label"], "root": code[:2], "goldstein": entry["goldstein"],
             "plover_type": entry["plover_type"], "plover_mode": entry["plover_mode"],
             "doc": documents.dumps(documents.cameo_type(entry, self.codes[code[:2]], code_counts[code]))}
            for code, entry in self.codes.items()))
        apply_day_counts(self.old.day_counts, self.day_counts)
        apply_dyad_counts(self.old.dyad_counts, self.dyad_counts)
        self.index.finish()
        DatasetMeta.delete().execute()
        self.insert(DatasetMeta, self.meta_rows(version))

    def rewrite_entities(self) -> None:
        participants = (self.old.entities["participants"] | self.new_entries["participants"]
                        | set(self.participant_counts))
        places = self.old.entities["places"] | self.new_entries["places"] | set(self.place_counts)
        self.recorder.touched("participant", participants)
        self.recorder.touched("place", places)
        stored = self.reader.stored
        for kind, ids in (("participants", participants), ("places", places)):
            # entities not merged again keep their mentions: read them before their rows go
            served = stored.served_mentions(kind, ids - stored.merged[kind])
            for entity_id, (spans, count) in served.items():
                head = [(span["source"], span["start"], span["end"], span["text"]) for span in spans]
                self._mentions[kind[:-1], entity_id] = MentionHead(head, count)
        backend = backends.of(self.db)
        # the entities that stay are written over (Backend.upsert); only the ones gone are deleted
        for kind, model, ids, kept in (("participant", Participant, participants, self.participants),
                                       ("place", Place, places, self.places)):
            for part in chunks(sorted(ids)):
                backend.delete_search_rows(self.db, kind, part)
            for part in chunks(sorted(ids - set(kept))):
                model.delete().where(model.id.in_(part)).execute()
        self.participant_counts = self.counts_now("participants", participants & set(self.participants))
        self.place_counts = self.counts_now("places", places & set(self.places))
        self.insert(Participant, self.participant_rows(sorted(participants & set(self.participants))), over=True)
        self.insert(Place, self.place_rows(sorted(places & set(self.places))), over=True)
        self.rerender_search_rows({("participant", p) for p in participants} | {("place", p) for p in places})

    def counts_now(self, kind: str, ids) -> dict:
        """Events (and statements) per entity after this load: its stored document's counts, less
        the deleted rows', plus the written ones' (counting the link tables would read every row
        of a popular participant, most of them in sources this load does not touch)."""
        served, deleted = self.reader.stored.served[kind], self.old.entity_counts[kind]
        written = self.participant_counts if kind == "participants" else self.place_counts
        counts = defaultdict(Counter)
        for entity_id in ids:
            doc = served.get(entity_id, ({},))[0]
            now = counts[entity_id]
            now.update(events=doc.get("event_count", 0), statements=doc.get("statement_count", 0))
            now.subtract(deleted.get(entity_id, Counter()))
            now.update(written.get(entity_id, Counter()))
        return counts

    def code_counts_now(self) -> dict:
        """Events and statements per CAMEO code: the stored codes' counts (in their documents),
        less the deleted rows', plus the written ones' (counting the tables would read them whole)."""
        counts = defaultdict(Counter)
        for code, doc in CameoCode.select(CameoCode.code, CameoCode.doc).tuples():
            doc = json.loads(doc)
            counts[code].update(events=doc["event_count"], statements=doc["statement_count"])
        for code, deleted in self.old.code_counts.items():
            counts[code].subtract(deleted)
        for code, written in self.code_counts.items():
            counts[code].update(written)
        return counts

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
* the search index, whose new rows are numbered into the gaps a full load leaves.

Where the difference would reach records of other sources (a participant whose
names or short form change, a new or removed name that other records contain, a
numbering with no room left), the load says why and rebuilds everything instead
(:class:`FullRequired`). tests/test_incremental.py holds every endpoint of an
incrementally loaded database equal to a full load of the same files.
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

from peewee import fn

from .. import backends, daycounts, documents, search
from ..records import (
    CameoCode, DatasetMeta, Event, EventCountry, EventDayCount, EventParticipant, EventTopic, Participant, Place,
    Source, SourceEntity, Statement, StatementTopic, Topic,
)
from .files import LoadError, Problem
from .reader import DatasetReader, StoredEntry
from .releases import ReleaseRecorder
from .writer import DatabaseWriter

CHUNK = 500  # ids per IN (…) list


class FullRequired(Exception):
    """The difference reaches records the incremental load does not re-write: rebuild."""


def chunks(values, size: int = CHUNK):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start: start + size]


def apply(root: Path, db, plan, progress):
    """Apply ``plan`` inside the caller's transaction; returns the load's Summary."""
    from . import Summary, stored_counts

    rewritten = plan.rewritten
    recorder = ReleaseRecorder(db)
    old = OldRows.capture(db, rewritten)
    old.delete(db, recorder)
    old.delete_sources(rewritten, recorder)
    reader = DatasetReader(root, progress, only=set(plan.added) | set(plan.changed),
                           stored=stored_entries(db), taken=lambda kind, ids: taken_ids(kind, ids))
    writer = IncrementalWriter(db, plan, recorder, old, reader)
    reader.read(writer, plan.version)
    if reader.problems:
        raise LoadError(reader.problems)
    backends.of(db).check_references(db)
    counts = stored_counts(db)
    release = recorder.record(version=plan.version, mode="incremental", counts=counts, everything=False,
                              sources={"added": plan.added, "changed": plan.changed, "removed": plan.removed})
    return Summary(plan.version, counts, 0.0, "incremental", release, plan)


def stored_entries(db) -> dict[str, list[StoredEntry]]:
    """Every stored participant and place entry, by source (those of re-written sources were deleted)."""
    entries = defaultdict(list)
    select = SourceEntity.select(SourceEntity.source, SourceEntity.kind, SourceEntity.record, SourceEntity.mentions,
                                 SourceEntity.mention_count).order_by(SourceEntity.source).tuples()
    for source_id, kind, record, mentions, count in select.iterator():
        spans = [(source_id, start, end, text) for start, end, text in json.loads(mentions)]
        entries[source_id].append(StoredEntry(kind, json.loads(record), spans, count))
    return entries


def stored_entries_of_gazetteer() -> list:
    """The gazetteer entries of the participants and places as stored before this load."""
    return [search.entry_of(json.loads(doc)) for model in (Participant, Place)
            for (doc,) in model.select(model.embedded).tuples().iterator()]


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
                                    Event.cameo_root, Event.status, Event.plover_type, Event.place).where(
                    Event.source.in_(part)).tuples():
                event_id, start, end, anchor, precision, root, status, plover, place = row
                old.events.append(event_id)
                old.day_counts.add(start=start, end=end, anchor=anchor, precision=precision, cameo_root=root,
                                   status=status, plover=plover, countries=countries.get(event_id))
                if place:
                    old.entities["places"].add(place)
            old.entities["participants"].update(p for (p,) in EventParticipant.select(EventParticipant.participant)
                                                .where(EventParticipant.event.in_(events)).tuples())
            for statement_id, speaker in Statement.select(Statement.id, Statement.speaker).where(
                    Statement.source.in_(part)).tuples():
                old.statements.append(statement_id)
                old.entities["participants"].add(speaker)
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
            StatementTopic.delete().where(StatementTopic.statement.in_(part)).execute()
            Statement.delete().where(Statement.id.in_(part)).execute()
        for part in chunks(self.events):
            for model in (EventTopic, EventCountry, EventParticipant):
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

    def codebook(self, codebook: dict) -> None:
        self.codes = codebook["codes"]
        known = {t for (t,) in Topic.select(Topic.id).tuples()}
        self.insert(Topic, ({"id": t["id"], "label": t["label"], "description": t["description"]}
                            for t in codebook["topics"] if t["id"] not in known))

    def entity_entry(self, source_id: str, kind: str, record: dict, mentions: list) -> None:
        self.new_entries[kind].add(record["id"])
        super().entity_entry(source_id, kind, record, mentions)

    def entities(self, participants: dict, places: dict) -> None:
        stored_gazetteer = search.Gazetteer(stored_entries_of_gazetteer())
        super().entities(participants, places)
        rewritten = set()
        for kind, model, merged in (("participants", Participant, participants), ("places", Place, places)):
            defined = self.old.entities[kind] | self.new_entries[kind]
            rewritten |= {(kind[:-1], entity_id) for entity_id in defined}
            stored = {row[0]: row for row in self.stored_entities(model, defined)}
            for entity_id in sorted(defined):
                self.compare(kind, entity_id, stored.get(entity_id), merged.get(entity_id))
        self.check_gazetteer(stored_gazetteer, self.index.gazetteer, rewritten)

    @staticmethod
    def stored_entities(model, ids):
        summary = model.summary if model is Participant else model.embedded
        for part in chunks(ids):
            yield from model.select(model.id, summary, model.doc).where(model.id.in_(part)).tuples()

    def compare(self, kind: str, entity_id: str, stored, entity) -> None:
        """Raise FullRequired when the entity's change reaches other sources' records."""
        if stored is None or entity is None:
            if entity is None and stored is not None:
                self.check_unreferenced(kind, entity_id)
            return  # a name that comes or goes: check_gazetteer
        doc = json.loads(stored[2])
        if kind == "participants":
            summary = documents.participant_summary(entity.record)
            old_summary = json.loads(stored[1])
        else:
            summary, old_summary = documents.place_summary(entity.record), documents.place_summary(doc)
        names = ("name_en", "name_ar", "aliases", "search_forms", "title_en", "title_ar")
        if summary != old_summary or any(doc.get(n) != entity.record.get(n) for n in names if n in doc):
            raise FullRequired(f"the names or short form of {kind[:-1]} {entity_id} changed: records of other "
                               "sources embed them")

    def check_unreferenced(self, kind: str, entity_id: str) -> None:
        """A participant or place no source defines any more must not be used by one."""
        if kind == "participants":
            users = (Event.select(Event.source).join(EventParticipant)
                     .where(EventParticipant.participant == entity_id).limit(1).tuples())
            users = list(users) or list(Statement.select(Statement.source).where(
                (Statement.speaker == entity_id) | Statement.doc.contains(f'"id": "{entity_id}"')).limit(1).tuples())
        else:
            users = list(Event.select(Event.source).where(Event.place == entity_id).limit(1).tuples())
        if users:
            self.reader.problems.append(Problem(
                f"fixtures/{users[0][0]}", "$", f"uses {kind[:-1]} {entity_id!r}, which no source defines any more; "
                                                f"define it in a {kind}.json or remove the references"))

    def check_gazetteer(self, old: search.Gazetteer, new: search.Gazetteer, rewritten: set) -> None:
        """Raise FullRequired when a name whose effect on the index changed (a new entity's name,
        a name now shared by two entities, …) occurs in a record this load does not re-write."""
        before, after = old.effects(), new.effects()
        backend = backends.of(self.db)
        for sequence in sorted(set(before) | set(after)):
            if before.get(sequence) == after.get(sequence):
                continue
            for kind, record_id, body in backend.rows_with_terms(self.db, list(sequence)):
                if (kind, record_id) not in rewritten and search.contains_sequence(body.split(), sequence):
                    raise FullRequired(f"the name {' '.join(sequence)!r} now indexes differently, and the {kind} "
                                       f"{record_id} of another source contains it")

    def finish(self, version: str) -> None:
        self.flush_entries()
        self.rewrite_entities()
        CameoCode.delete().execute()
        code_counts = self.stored_code_counts()
        self.insert(CameoCode, (
            {"code": code, "label": entry["label"], "root": code[:2], "goldstein": entry["goldstein"],
             "plover_type": entry["plover_type"], "plover_mode": entry["plover_mode"],
             "doc": documents.dumps(documents.cameo_type(entry, self.codes[code[:2]], code_counts[code]))}
            for code, entry in self.codes.items()))
        apply_day_counts(self.old.day_counts, self.day_counts)
        self.index.finish()
        DatasetMeta.delete().execute()
        self.insert(DatasetMeta, self.meta_rows(version))

    def rewrite_entities(self) -> None:
        participants = (self.old.entities["participants"] | self.new_entries["participants"]
                        | set(self.participant_counts))
        places = self.old.entities["places"] | self.new_entries["places"] | set(self.place_counts)
        self.recorder.touched("participant", participants)
        self.recorder.touched("place", places)
        backend = backends.of(self.db)
        for kind, model, ids in (("participant", Participant, participants), ("place", Place, places)):
            for part in chunks(sorted(ids)):
                backend.delete_search_rows(self.db, kind, part)
                model.delete().where(model.id.in_(part)).execute()
        self.participant_counts = self.stored_participant_counts(participants & set(self.participants))
        self.place_counts = self.stored_place_counts(places & set(self.places))
        self.insert(Participant, self.participant_rows(sorted(participants & set(self.participants))))
        self.insert(Place, self.place_rows(sorted(places & set(self.places))))

    @staticmethod
    def stored_participant_counts(ids) -> dict:
        counts = defaultdict(Counter)
        for part in chunks(ids):
            for pid, n in (EventParticipant.select(EventParticipant.participant, fn.COUNT(fn.DISTINCT(EventParticipant.event)))
                           .where(EventParticipant.participant.in_(part)).group_by(EventParticipant.participant).tuples()):
                counts[pid]["events"] = n
            for pid, n in (Statement.select(Statement.speaker, fn.COUNT(Statement.id)).where(Statement.speaker.in_(part))
                           .group_by(Statement.speaker).tuples()):
                counts[pid]["statements"] = n
        return counts

    @staticmethod
    def stored_place_counts(ids) -> dict:
        counts = defaultdict(Counter)
        for part in chunks(ids):
            for pid, n in Event.select(Event.place, fn.COUNT(Event.id)).where(Event.place.in_(part)).group_by(Event.place).tuples():
                counts[pid]["events"] = n
        return counts

    @staticmethod
    def stored_code_counts() -> dict:
        counts = defaultdict(Counter)
        for label, model in (("events", Event), ("statements", Statement)):
            for code, n in model.select(model.cameo_code, fn.COUNT(model.id)).group_by(model.cameo_code).tuples():
                counts[code][label] = n
        return counts


def apply_day_counts(removed: daycounts.DayCounter, added: daycounts.DayCounter) -> None:
    """Bring EventDayCount to what a full load would write: the counts' difference applied,
    rows of no events dropped, each touched series' running totals summed again."""
    sep = daycounts.DayCounter.SEP
    delta = defaultdict(lambda: [0, 0])
    for counter, sign in ((removed, -1), (added, 1)):
        for key, n in counter.counts.items():
            delta[key][0] += sign * n
        for key, n in counter.ranged.items():
            delta[key][1] += sign * n
    by_series = defaultdict(dict)
    for key, change in delta.items():
        dimension, edge, value, day = key.split(sep)
        by_series[dimension, edge, value][day] = change
    groups = set()
    for (dimension, edge, value), changes in by_series.items():
        groups.add((dimension, value))
        series = (EventDayCount.dimension == dimension) & (EventDayCount.edge == edge) & (EventDayCount.value == value)
        rows = {day: [n, ranged] for day, n, ranged in EventDayCount.select(
            EventDayCount.day, EventDayCount.n, EventDayCount.ranged).where(series).tuples()}
        for day, (dn, dr) in changes.items():
            row = rows.setdefault(day, [0, 0])
            row[0] += dn
            row[1] += dr
        EventDayCount.delete().where(series).execute()
        running, out = 0, []
        for day in sorted(rows):
            n, ranged = rows[day]
            if n <= 0 and edge != "undated":
                continue
            running += n
            out.append({"dimension": dimension, "edge": edge, "value": value, "day": day, "n": n, "ranged": ranged,
                        "cum": running})
        for part in chunks(out, 2_000):
            EventDayCount.insert_many(part).execute()
    for dimension, value in groups:
        group = (EventDayCount.dimension == dimension) & (EventDayCount.value == value)
        if not EventDayCount.select().where(group & (EventDayCount.n > 0)).exists():
            EventDayCount.delete().where(group).execute()
        elif not EventDayCount.select().where(group & (EventDayCount.edge == "undated")).exists():
            EventDayCount.insert(dimension=dimension, edge="undated", value=value, day="", n=0, ranged=0, cum=0).execute()

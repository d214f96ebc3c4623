"""Write validated records: each row once, its document final when it is written."""
from __future__ import annotations

import bisect
import hashlib
import json
import time
from array import array
from collections import Counter, defaultdict

from .. import backends, daycounts, documents, dyadcounts, gazetteer, search
from ..vocabulary import quad_class
from .directed import dyads
from ..records import (
    SCHEMA_VERSION,
    CameoCode,
    DatasetMeta,
    DyadCount,
    Event,
    EventCountry,
    EventDayCount,
    EventDyad,
    EventParticipant,
    EventTopic,
    Participant,
    Place,
    Source,
    SourceEntity,
    Statement,
    StatementDyad,
    StatementTopic,
    Topic,
)
from .reader import Sink
from .steps import no_steps

INSERT_BATCH = 2_000


class DatabaseWriter(Sink):
    """Writes validated records; the caller owns the transaction.

    Every row is inserted once, with its final document: events and statements
    as each source is read, participants, places and CAMEO codes at the end, when
    the counts their documents carry are known (the foreign keys are checked at
    commit, so the order does not matter).
    """

    #: whether a batch of entries is written as soon as it is full (an incremental load holds them
    #: until it has merged the stored ones: IncrementalWriter)
    flush_early = True
    counts_dyads_here = False

    def __init__(self, db, plan, recorder=None, steps=no_steps):
        self.db = db
        self.steps = steps  # models/load/steps.py: announces and times the steps of finish
        self.plan = plan  # models/load/plan.py: the fingerprints and codebook the Source and meta rows keep
        self.recorder = recorder  # models/load/releases.py: notes each document written
        self.entries: list[dict] = []
        self.backend = backends.of(db)
        self.codes: dict = {}
        self.participants: dict = {}
        self.places: dict = {}
        self.participant_counts: dict = defaultdict(Counter)
        self.place_counts: dict = defaultdict(Counter)
        self.code_counts: dict = defaultdict(Counter)
        self.index = search.IndexWriter(db)
        self.day_counts = daycounts.DayCounter()
        #: the dyad counts of the events written, where a load needs them in memory (an incremental
        #: load's difference); a full load sums ``event_dyad`` in the database at the end
        self.dyad_counts = dyadcounts.DyadCounter() if self.counts_dyads_here else None
        #: source id -> its participant and place mentions, given with its entries (entity_entry)
        self.mentions_by_source: dict[str, SourceMentions] = defaultdict(SourceMentions)

    def insert(self, model, rows, over: bool = False) -> None:
        """Write ``rows`` in batches; ``over``: over the stored rows with the same key (Backend.upsert)."""
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) >= INSERT_BATCH:
                self.write_batch(model, batch, over)
                batch = []
        self.write_batch(model, batch, over)

    def write_batch(self, model, batch: list[dict], over: bool = False) -> None:
        (self.backend.upsert if over else self.backend.bulk_insert)(self.db, model, batch)
        if self.recorder is not None:
            self.recorder.written(model, batch)

    def entity_entry(self, source_id: str, kind: str, record: dict, mentions: list) -> None:
        """A source's own entry for a participant or place, kept for incremental loads; its
        mentions kept until the source's events are written (names_for_event)."""
        self.mentions_by_source[source_id].add((kind[:-1], record["id"]), mentions)
        text = documents.dumps({k: v for k, v in record.items() if k != "mentions"})
        self.entries.append({
            "source": source_id, "kind": kind, "entity": record["id"], "mention_count": len(mentions),
            "record": text, "record_digest": hashlib.blake2b(text.encode(), digest_size=8).hexdigest(),
            "mentions": json.dumps([m[1:] for m in mentions[: documents.MENTIONS_INLINE]], ensure_ascii=False),
        })
        if self.flush_early and len(self.entries) >= INSERT_BATCH:
            self.flush_entries()

    def flush_entries(self) -> None:
        self.insert(SourceEntity, self.entries)
        self.entries = []

    def codebook(self, codebook: dict) -> None:
        self.codes = codebook["codes"]
        self.insert(Topic, ({"id": t["id"], "label": t["label"], "description": t["description"]}
                            for t in codebook["topics"]))

    def entities(self, participants: dict, places: dict) -> None:
        self.participants = {pid: e.record for pid, e in participants.items()}
        self.places = {pid: e.record for pid, e in places.items()}
        self._mentions = {}
        for kind, entities in (("participant", participants), ("place", places)):
            for entity_id, entity in entities.items():
                # only the inline mentions and the count are needed from here on (see finish)
                self._mentions[kind, entity_id] = MentionHead(entity.mentions, entity.mention_count)
                entity.mentions = []
        self.index.set_entities([gazetteer.entry_of(r) for r in (*self.participants.values(), *self.places.values())])
        self.participant_summaries = {pid: documents.participant_summary(r) for pid, r in self.participants.items()}
        self.place_summaries = {pid: documents.place_summary(r) for pid, r in self.places.items()}

    def cameo_doc(self, code: str) -> dict:
        return documents.cameo(self.codes[code], self.codes[code[:2]])

    def plover_of(self, code: str, override: dict | None) -> dict | None:
        entry = self.codes[code]
        if override is not None:  # a record's own type and mode; the context is the code's
            return documents.plover(override["type"], override["mode"], entry.get("plover_context", []))
        return documents.plover(entry["plover_type"], entry["plover_mode"], entry.get("plover_context", []))

    def source(self, source_id, meta, text, events, statements) -> None:
        self.flush_entries()
        counts = {"events": len(events), "statements": len(statements)}
        signature, fingerprint = self.plan.fingerprints[source_id]
        self.insert(Source, [{
            "fingerprint": f"{signature}:{fingerprint}",
            "id": source_id, "publisher": meta["publisher"], "publisher_ar": meta["publisher_ar"], "title": meta["title"],
            "published_at": meta["published_at"].isoformat(), "language": meta["language"], "sha256": meta["sha256"],
            "url": meta["url"], "doc": documents.dumps(documents.source(meta, source_id, counts)), "text": text,
        }])
        statements_by_event = defaultdict(list)
        for record in statements:
            if record["event"] is not None:
                statements_by_event[record["event"]].append(record["id"])
        # each source is written once
        mentions_in = MentionLocator(self.mentions_by_source.pop(source_id, SourceMentions()).tuples())
        rows = EventRows()
        for record in events:
            self.event(record, source_id, statements_by_event.get(record["id"], []), mentions_in, rows)
        rows.write(self)
        reported_on = meta["published_at"].date().isoformat()
        statement_rows, topic_rows, dyad_rows = [], [], []
        for record in statements:
            statement_rows.append(self.statement(record, source_id, reported_on))
            topic_rows.extend({"statement": record["id"], "topic": t} for t in dict.fromkeys(record["topics"]))
            dyad_rows.extend({"statement": record["id"], "source_actor": s, "target_actor": t}
                             for s, t in dyads([record["speaker"]], record["addressees"]))
        self.insert(Statement, statement_rows)
        self.insert(StatementTopic, topic_rows)
        self.insert(StatementDyad, dyad_rows)

    def event(self, record: dict, source_id: str, statement_ids: list, mentions_in, rows: "EventRows") -> None:
        """One event's rows (event, links, countries, topics), its day counts and search row."""
        date = record["date"]
        start = date["start"].isoformat() if date["start"] else None
        end = date["end"].isoformat() if date["end"] else None
        plover_doc = self.plover_of(record["cameo"], record["plover"])
        place = self.places.get(record["place"]) if record["place"] else None
        links = [{"participant": self.participant_summaries[link["participant"]], "role": link["role"]}
                 for link in record["participants"]]
        doc = documents.event(
            record, source_id=source_id, cameo_doc=self.cameo_doc(record["cameo"]), plover_doc=plover_doc,
            place_doc=self.place_summaries[record["place"]] if place else None, participants=links,
            statement_ids=statement_ids, actors=self.actor_summaries(record),
        )
        row = {
            "id": record["id"], "source": source_id, "title_en": record["title_en"],
            "cameo_code": record["cameo"], "cameo_root": record["cameo"][:2],
            "plover_type": plover_doc["type"] if plover_doc else None, "status": record["status"],
            "date_start": start, "date_end": end, "date_precision": date["precision"],
            "sort_date": start or end or "", "place": record["place"], **self.scores(record["cameo"]),
            "doc": documents.record_text(doc),
        }
        rows.events.append(row)
        copied = {"date_start": start, "date_end": end, "sort_date": row["sort_date"], "goldstein": row["goldstein"],
                  "quad_class": row["quad_class"]}
        for s, t in dyads(record["source_actors"], record["target_actors"]):
            rows.dyads.append({"event": record["id"], "source_actor": s, "target_actor": t, **copied})
            if self.dyad_counts is not None:
                self.dyad_counts.add(start=start, end=end, source=s, target=t, quad_class=row["quad_class"],
                                     goldstein=row["goldstein"])
        countries = self.link_participants(record, rows)
        if place:
            self.place_counts[record["place"]]["events"] += 1
            if place["country"]:
                countries.add(place["country"])
        rows.countries.extend({"event": record["id"], "country": c} for c in sorted(countries))
        rows.topics.extend({"event": record["id"], "topic": t} for t in dict.fromkeys(record["topics"]))
        self.day_counts.add(start=start, end=end, anchor=row["sort_date"], precision=date["precision"],
                            cameo_root=row["cameo_root"], status=row["status"], plover=row["plover_type"],
                            countries=countries)
        self.code_counts[record["cameo"]]["events"] += 1
        names, also_named = self.names_for_event(record, mentions_in)
        row["also_named"] = json.dumps(also_named) if also_named else None
        self.index.add_event(doc, names)

    def scores(self, code: str) -> dict:
        return {"goldstein": self.codes[code]["goldstein"], "quad_class": quad_class(code)}

    def actor_summaries(self, record: dict) -> dict:
        return {key: [self.participant_summaries[pid] for pid in record[key]] for key in ("source_actors", "target_actors")}

    def link_participants(self, record: dict, rows: "EventRows") -> set[str]:
        """The event's (participant, role) links, once each; returns the participants' countries."""
        seen, countries = set(), set()
        for position, link in enumerate(record["participants"]):
            key = (link["participant"], link["role"])
            if key in seen:
                continue
            seen.add(key)
            rows.links.append({"event": record["id"], "participant": link["participant"], "role": link["role"],
                               "position": position})
            country = self.participants[link["participant"]]["country"]
            if country:
                countries.add(country)
        for participant_id in {link["participant"] for link in record["participants"]}:
            self.participant_counts[participant_id]["events"] += 1
        return countries

    def statement(self, record: dict, source_id: str, reported_on: str) -> dict:
        doc = documents.statement(
            record, source_id=source_id, speaker=self.participant_summaries[record["speaker"]],
            attributed_via=[self.participant_summaries[p] for p in record["attributed_via"]],
            cameo_doc=self.cameo_doc(record["cameo"]), plover_doc=self.plover_of(record["cameo"], None),
            reported_on=reported_on, addressees=[self.participant_summaries[p] for p in record["addressees"]],
        )
        self.participant_counts[record["speaker"]]["statements"] += 1
        self.code_counts[record["cameo"]]["statements"] += 1
        self.index.add_statement(doc)
        return {
            "id": record["id"], "source": source_id, "speaker": record["speaker"], "event": record["event"],
            "mode": record["mode"], "cameo_code": record["cameo"], "cameo_root": record["cameo"][:2],
            "sort_date": reported_on, **self.scores(record["cameo"]), "doc": documents.record_text(doc),
        }

    def names_for_event(self, record: dict, mentions_in: "MentionLocator") -> tuple[list[tuple], list[str]]:
        """Names that make an event findable in either language, as (key, [names]) per entity,
        and the keys ("kind:id") of those named only in its evidence.

        The event's participants and place, and every participant or place
        mentioned inside its evidence: an Arabic sentence naming أستانا makes the
        event findable as "Astana" too.
        """
        own = [("participant", link["participant"]) for link in record["participants"]]
        if record["place"]:
            own.append(("place", record["place"]))
        evidence = []
        for span in record["evidence"]:
            evidence.extend((kind, entity["id"]) for kind, entity in mentions_in(span["start"], span["end"],
                                                                                 self.participants, self.places))
        keys = list(dict.fromkeys(own))
        also = [key for key in dict.fromkeys(evidence) if key not in keys]
        return self.names_of(keys + also), [f"{kind}:{entity_id}" for kind, entity_id in also]

    def names_of(self, keys: list[tuple[str, str]]) -> list[tuple]:
        """(key, [name_en, name_ar, aliases…]) of each (kind, id)."""
        out = []
        for kind, entity_id in keys:
            entity = (self.participants if kind == "participant" else self.places)[entity_id]
            out.append(((kind, entity_id), [entity["name_en"], entity["name_ar"], *entity["aliases"]]))
        return out

    def finish(self, version: str) -> None:
        self.flush_entries()
        self.steps("writing participants, places and CAMEO codes", "entities")
        self.insert(Participant, self.participant_rows())
        self.insert(Place, self.place_rows())
        self.insert(CameoCode, (
            {"code": code, "label": entry["label"], "root": code[:2], "goldstein": entry["goldstein"],
             "plover_type": entry["plover_type"], "plover_mode": entry["plover_mode"],
             "doc": documents.dumps(documents.cameo_type(entry, self.codes[code[:2]], self.code_counts[code]))}
            for code, entry in self.codes.items()))
        columns = ("dimension", "edge", "value", "day", "n", "ranged", "cum")
        self.steps("writing the day counts", "day counts")
        self.insert(EventDayCount, (dict(zip(columns, values)) for values in self.day_counts.rows()))
        self.steps("summing the dyad counts", "dyad counts")
        self.insert(DyadCount, dyadcounts.rows_from_event_dyads(self.db))
        self.steps("numbering the search rows in list order and building the full-text index", "search index")
        self.index.finish()
        self.insert(DatasetMeta, self.meta_rows(version))

    def meta_rows(self, version: str) -> list[dict]:
        return [
            {"key": "dataset_version", "value": version},
            {"key": "schema_version", "value": SCHEMA_VERSION},
            {"key": "loaded_at", "value": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
            {"key": "codebook", "value": self.plan.codebook.decode("utf-8", "replace")},
        ]

    def participant_rows(self, ids=None):
        for pid in self.participants if ids is None else ids:
            record = self.participants[pid]
            doc = documents.participant(record, self._mentions["participant", pid].spans(), self.participant_counts[pid])
            self.index.add_entity("participant", doc)
            yield {"id": pid, "name_en": record["name_en"], "name_ar": record["name_ar"], "kind": record["kind"],
                   "country": record["country"], "summary": documents.dumps(self.participant_summaries[pid]),
                   "embedded": documents.dumps(documents.embedded(doc)), "doc": documents.record_text(doc)}

    def place_rows(self, ids=None):
        for pid in self.places if ids is None else ids:
            record = self.places[pid]
            doc = documents.place(record, self._mentions["place", pid].spans(), self.place_counts[pid])
            self.index.add_entity("place", doc)
            yield {"id": pid, "name_en": record["name_en"], "name_ar": record["name_ar"], "kind": record["kind"],
                   "country": record["country"], "lat": record["lat"], "lon": record["lon"],
                   "embedded": documents.dumps(documents.embedded(doc)), "doc": documents.record_text(doc)}


class EventRows:
    """The rows of one source's events, written together."""

    def __init__(self):
        self.events: list[dict] = []
        self.links: list[dict] = []
        self.countries: list[dict] = []
        self.topics: list[dict] = []
        self.dyads: list[dict] = []

    def write(self, writer: DatabaseWriter) -> None:
        writer.insert(Event, self.events)
        writer.insert(EventParticipant, self.links)
        writer.insert(EventCountry, self.countries)
        writer.insert(EventTopic, self.topics)
        writer.insert(EventDyad, self.dyads)


def span_dicts(mentions: list[tuple[str, int, int, str]]) -> list[dict]:
    """An entity's (source, start, end, text) mentions as the span documents of its record."""
    return [documents.span(source_id, {"start": start, "end": end, "text": text}) for source_id, start, end, text in mentions]


class Mentions(list):
    """An entity's first ``MENTIONS_INLINE`` span documents, with ``len`` the number of all
    its mentions: what :func:`documents.participant` and :func:`documents.place` read
    (the inline slice and the count), without keeping millions of spans until the end."""

    def __init__(self, head: list[dict], count: int):
        super().__init__(head)
        self.count = count

    def __len__(self) -> int:
        return self.count


class MentionHead:
    """An entity's first ``MENTIONS_INLINE`` mentions as (source, start, end, text) tuples and the
    number of all its mentions, kept from the reading of the entities to the writing of its row,
    where :meth:`spans` makes their documents (as dicts all along, the heads of a million events'
    5,250 entities held ~0.3 GiB)."""

    __slots__ = ("head", "count")

    def __init__(self, head: list[tuple[str, int, int, str]], count: int):
        self.head, self.count = head, count

    def spans(self) -> Mentions:
        return Mentions(span_dicts(self.head), self.count)


class SourceMentions:
    """One source's participant and place mentions as three flat columns: 24 bytes a mention,
    where a tuple each held ~130 (five million mentions at a million events)."""

    __slots__ = ("starts", "ends", "keys")

    def __init__(self):
        self.starts, self.ends = array("q"), array("q")
        self.keys: list[tuple[str, str]] = []  # (kind, entity id), one tuple per entry

    def add(self, key: tuple[str, str], mentions: list) -> None:
        for _, start, end, _ in mentions:
            self.starts.append(start)
            self.ends.append(end)
            self.keys.append(key)

    def tuples(self) -> list[tuple[int, int, str, str]]:
        return [(start, end, *key) for start, end, key in zip(self.starts, self.ends, self.keys)]


class MentionLocator:
    """Which participants and places one source mentions inside a character range."""

    def __init__(self, mentions: list[tuple[int, int, str, str]]):
        self.mentions = sorted(mentions)
        self.starts = [m[0] for m in self.mentions]

    def __call__(self, start: int, end: int, participants: dict, places: dict) -> list[tuple[str, dict]]:
        found = []
        for m_start, m_end, kind, entity_id in self.mentions[bisect.bisect_left(self.starts, start):]:
            if m_start >= end:
                break
            if m_end <= end:
                found.append((kind, (participants if kind == "participant" else places)[entity_id]))
        return found



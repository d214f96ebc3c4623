"""Read seeds and fixtures, validate them, and hand the valid records to a sink.

Every problem is reported as ``file: json-path: what is wrong``; the reader goes
on after a problem so that one run lists them all. ``check`` gives it a sink that
keeps nothing; ``load`` gives it the database writer (models/load/writer.py).
"""
from __future__ import annotations

import hashlib
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable, Iterator

from . import directed, spans
from .entities import Entity, StoredEntry
from ..vocabulary import SOURCE_ID_PATTERN
from .files import (UNPARSABLE, Problem, dataset_version, files_twice, id_named, loaded_json, preview,
                    record_file, unknown_files)
from .codebook import read_codebook, version_problem
from .honest_time import reported_past_problem, role_as_of_problem
from .schemas import SeedMetaSchema
from .validate import Prefetcher, validate_file

RECORD_KINDS = ("participants", "places", "events", "statements")
ENTITY_KINDS = ("participants", "places")


class Sink:
    """Receives validated records. The base class keeps nothing (``check``)."""

    def codebook(self, codebook: dict) -> None: ...
    def entity_entry(self, source_id: str, kind: str, record: dict, mentions: list) -> None: ...
    def entities(self, participants: dict, places: dict) -> None: ...
    def source(self, source_id: str, meta: dict, text: str, events: list, statements: list) -> None: ...
    def finish(self, version: str) -> None: ...


NOTHING = Sink()


@dataclass(frozen=True)
class Seed:
    """A seed text that passed its checks, read again from its file each time it is needed: a
    load holds one source's text at a time, not a thousand (~0.7 MiB each at the generated
    corpus's sizes, with the UTF-8 copy the database driver makes of it)."""

    path: Path
    sha256: str


class Known:
    """The ids a record may refer to: the valid entities and those whose record failed its schema
    (already reported; referring to one is not a second problem)."""

    def __init__(self, valid: dict, failed: set):
        self.valid, self.failed = valid, failed

    def __contains__(self, entity_id) -> bool:
        return entity_id in self.valid or entity_id in self.failed


class DatasetReader:
    """Reads the tree. ``only`` limits the sources whose files are read (an incremental load);
    the others' participant and place entries come from ``stored`` (models/load/stored.py),
    and ``taken`` says which of a source's record ids another source already holds."""

    def __init__(self, root: Path, progress: Callable[[str], None] | None = None, *, only: set | None = None,
                 stored=None, taken: Callable[[str, list], dict] | None = None):
        self.root = Path(root)
        self.only = only
        self.stored = stored
        self._stored_files: dict[tuple[str, str], str] = {}  # (source, kind) -> the file named in problems
        self.taken = taken
        # id -> the file that has it first (a duplicate's problem names where the other one is)
        self._global_event_ids: dict[str, str] = {}
        self._global_statement_ids: dict[str, str] = {}
        self.problems: list[Problem] = []
        #: files that could not be read as records: what refers to their records is not checked
        self.unparsable: set[Path] = set()
        #: ids of participant and place records that failed their schema: they exist, so a
        #: reference to one is not also an "unknown" problem
        self.failed_entities: dict[str, set] = {"participants": set(), "places": set()}
        #: sources whose participants or places file does not parse: their records' references
        #: cannot be checked, and each would be an "unknown" problem
        self.entities_unreadable: set[str] = set()
        self.counts: Counter = Counter()
        self.progress = progress or (lambda message: None)
        self.prefetch: "Prefetcher | None" = None

    # -- helpers
    def rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def problem(self, path: Path, json_path: str, message: str) -> None:
        self.problems.append(Problem(self.rel(path), json_path, message))

    def validated(self, path: Path, kind: str, failed_ids: set | None = None) -> Iterator[tuple[str, dict]]:
        """The valid records of one file; its problems reported (validated ahead of time in a
        worker process when a prefetcher runs). The ids of the invalid ones go to ``failed_ids``:
        they exist, so what refers to them is not also an "unknown" problem."""
        results = self.prefetch.take(path, kind) if self.prefetch is not None else validate_file(path, kind)
        for ok, json_path, value in results:
            if ok:
                yield json_path, value
            else:
                self.problem(path, json_path, value)
                if failed_ids is not None and id_named(json_path):
                    failed_ids.add(id_named(json_path))
                if str(value).startswith(UNPARSABLE):
                    self.unparsable.add(path)

    def check_span(self, path: Path, json_path: str, text: str, span: dict) -> bool:
        if span.get("start") is None:
            found = len(spans.occurrences(text, span["text"]))
            if not found:  # (--fix cannot place it either)
                self.problem(path, json_path, f'span "{preview(span["text"])}" has no start/end and its text does not '
                                              "occur in the source: copy the words exactly as the text writes them")
                return False
            self.problem(path, json_path, f'span "{preview(span["text"])}" has no start/end (it occurs {found} '
                                          "time(s) in the text); run `event-records check --fix` to fill them in")
            return False
        actual = text[span["start"] : span["end"]]
        if span["end"] > len(text):
            self.problem(path, json_path, f"span {span['start']}-{span['end']} is past the end of the text ({len(text)} characters)")
            return False
        if actual != span["text"]:
            self.problem(
                path,
                json_path,
                f'text at {span["start"]}-{span["end"]} is "{preview(actual)}" but the record says "{preview(span["text"])}"'
                + spans.hint(text, span["text"]),
            )
            return False
        return True

    def sink_for(self, sink: Sink) -> Sink:
        """``sink`` while nothing is wrong; once a problem is found, one that keeps nothing: the
        walk goes on to report every problem, and nothing is written that a check refused."""
        return sink if not self.problems else NOTHING

    # -- the walk
    #: a progress line every this many sources (and after the last)
    PROGRESS_EVERY = 20

    def rate_line(self, number: int, total: int, started: float) -> str:
        """Sources read so far, records per second and the time left at that rate."""
        elapsed = max(time.perf_counter() - started, 1e-6)
        records = self.counts["events"] + self.counts["statements"]
        left = elapsed / number * (total - number)
        eta = f", about {left:.0f} s left" if number < total else f" in {elapsed:.0f} s"
        return (f"read {number}/{total} sources, {self.counts['events']} events, {self.counts['statements']} "
                f"statements ({records / elapsed:,.0f} records/s{eta})")

    def reads(self, source_id: str) -> bool:
        return self.only is None or source_id in self.only

    def read(self, sink: Sink, version: str | None = None) -> str:
        version = version or dataset_version(self.root)
        codebook = self.read_codebook()
        sources = self.read_seeds()
        if codebook is not None:
            self.sink_for(sink).codebook(codebook)
        self.prefetch = Prefetcher.start(self.record_files_in_reading_order(sources))
        try:
            participants, places = self.read_entities(sources, codebook, sink)
            self.sink_for(sink).entities(participants, places)
            read_now = [(s, entry) for s, entry in sorted(sources.items()) if self.reads(s)]
            started = time.perf_counter()
            for number, (source_id, (meta, seed)) in enumerate(read_now, 1):
                text = self.seed_text(seed)
                if text is None:
                    continue
                events, statements = self.read_source_records(source_id, text, codebook, participants, places,
                                                              meta["published_at"].date())
                self.sink_for(sink).source(source_id, meta, text, events, statements)
                self.counts["sources"] += 1
                if number % self.PROGRESS_EVERY == 0 or number == len(read_now):
                    self.progress(self.rate_line(number, len(read_now), started))
        finally:
            if self.prefetch is not None:
                self.prefetch.close()
                self.prefetch = None
        for kind, entities in (("participants", participants), ("places", places)):
            self.counts[kind] = len(entities)
        self.sink_for(sink).finish(version)
        return version

    def record_files_in_reading_order(self, sources) -> list[tuple[Path, str]]:
        """(path, kind) of every record file, in the order ``read`` validates them."""
        order = []
        for kinds in (ENTITY_KINDS, ("events", "statements")):
            for source_id in sorted(s for s in sources if self.reads(s)):
                for kind in kinds:
                    path = record_file(self.root / "fixtures" / source_id, kind)
                    if path is not None:
                        order.append((path, kind))
        return order

    def read_codebook(self) -> dict | None:
        return read_codebook(self.root / "fixtures" / "codebook.json", self.problem)

    def seed_text(self, seed: Seed) -> str | None:
        """The text of a checked seed; None (and a problem) when the file changed since its check."""
        raw = seed.path.read_bytes()
        if hashlib.sha256(raw).hexdigest() != seed.sha256:
            self.problem(seed.path, "$", "the seed changed while it was being loaded: run the load again "
                                         "once the edit is finished")
            return None
        return raw.decode("utf-8")

    def read_seeds(self) -> dict[str, tuple[dict, Seed]]:
        sources = {}
        seed_dir = self.root / "seeds"
        texts = sorted(seed_dir.glob("*.txt"))
        if not texts:
            self.problem(seed_dir, "$", "no seeds/*.txt source texts found")
        for text_path in texts:
            source_id = text_path.stem
            meta_path = text_path.with_suffix(".json")
            if not re.match(SOURCE_ID_PATTERN, source_id):
                self.problem(text_path, "$", f"the file name {source_id!r} is not a source id ({SOURCE_ID_PATTERN}: "
                                             "lower-case letters, digits, '_' and '-'); rename the seed and its "
                                             "fixtures directory")
                continue
            if not self.reads(source_id):
                continue  # an incremental load: unchanged since it was checked (its fingerprint says so)
            raw = text_path.read_bytes()
            if not meta_path.exists():
                self.problem(meta_path, "$", f"missing: every seed needs its metadata (publisher, published_at, language, title, sha256={hashlib.sha256(raw).hexdigest()})")
                continue
            meta = loaded_json(meta_path, SeedMetaSchema(), partial(self.problem, meta_path))
            if meta is None:
                continue
            actual = hashlib.sha256(raw).hexdigest()
            if actual != meta["sha256"]:
                self.problem(meta_path, "sha256", f"the text's sha256 is {actual} but the metadata says {meta['sha256']}: the seed was changed; restore it or re-check every span and update the hash")
                continue
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as error:
                self.problem(text_path, "$", f"not UTF-8: {error}")
                continue
            if not (self.root / "fixtures" / source_id).is_dir():
                self.problem(self.root / "fixtures" / source_id, "$", "missing: every seed needs a fixtures directory of the same name")
                continue
            self.check_record_files(self.root / "fixtures" / source_id)
            sources[source_id] = (meta, Seed(text_path, actual))
        for directory in sorted((self.root / "fixtures").glob("*/")):
            if directory.suffix in (".json", ".ndjson"):
                continue  # a file's name made a directory: reported where the file is read
            if directory.is_dir() and directory.name not in sources and not (seed_dir / f"{directory.name}.txt").exists():
                self.problem(directory, "$", f"no seed seeds/{directory.name}.txt for this fixtures directory")
        return sources

    def check_record_files(self, directory: Path) -> None:
        """A source's directory holds its four record files, each once, and nothing else: a file
        missing or misnamed (statement.json) would drop every record of its kind from the
        dataset without a word."""
        for path, message in files_twice(directory, RECORD_KINDS):
            self.problem(path, "$", message)
        for kind in RECORD_KINDS:
            if record_file(directory, kind) is None:
                self.problem(directory / f"{kind}.json", "$", f"missing: a source's {kind} are in {kind}.json (or "
                                                             f".ndjson); write [] there if the source has none")
        for path, message in unknown_files(directory, RECORD_KINDS):
            self.problem(path, "$", message)

    IDENTITY = {
        "participants": ("name_en", "name_ar", "kind", "country"),
        "places": ("name_en", "name_ar", "kind", "country", "lat", "lon"),
    }

    def read_entities(self, sources, codebook, sink: Sink = NOTHING) -> tuple[dict, dict]:
        merged: dict[str, dict[str, Entity]] = {"participants": {}, "places": {}}
        read = ((source_id, entry) for source_id in sorted(s for s in sources if self.reads(s))
                for entry in self.entity_entries(source_id, *sources[source_id], codebook, sink))
        if self.stored is None:
            for _, entry in read:  # merged as read: the problems come in reading order
                self.merge_read(merged, *entry)
        else:  # an incremental load: the other sources' entries come from the database
            self.stored.merge(self, merged, list(read))
        return merged["participants"], merged["places"]

    def entity_entries(self, source_id: str, meta: dict, seed: Seed, codebook, sink: Sink):
        """(kind, path, json path, record, checked mentions) of one source's valid participant
        and place entries, each given to the sink."""
        text = self.seed_text(seed)
        if text is None:
            return
        for kind in ENTITY_KINDS:
            path = record_file(self.root / "fixtures" / source_id, kind)
            if path is None:
                continue
            seen_here = set()
            for json_path, record in self.validated(path, kind, self.failed_entities[kind]):
                self.check_codebook_version(path, json_path, record, codebook)
                if kind == "participants":
                    self.check_participant(path, json_path, record, codebook, source_id, meta["published_at"].date())
                if record["id"] in seen_here:
                    self.problem(path, f"{json_path}.id", f"duplicate id {record['id']}")
                    continue
                seen_here.add(record["id"])
                # (source, start, end, text) tuples, names shared: a large corpus has millions
                mentions = [
                    (source_id, s["start"], s["end"], sys.intern(s["text"]))
                    for i, s in enumerate(record["mentions"])
                    if self.check_span(path, f"{json_path}.mentions[{i}]", text, s)
                ]
                self.sink_for(sink).entity_entry(source_id, kind, record, mentions)
                yield kind, path, json_path, record, mentions
            if path in self.unparsable:
                self.entities_unreadable.add(source_id)

    def merge_read(self, merged: dict, kind: str, path: Path, json_path: str, record: dict, mentions: list) -> None:
        """An entry read from a file merged into the entity of its id."""
        entity = merged[kind].get(record["id"])
        if entity is None:
            merged[kind][record["id"]] = entity = Entity(record, self.rel(path))
            entity.add_mentions(mentions)
            return
        for key in self.IDENTITY[kind]:
            if entity.record[key] != record[key]:
                self.problem(path, f"{json_path}.{key}", f"{record['id']} has {key} {record[key]!r} here but {entity.record[key]!r} in {entity.file}")
        self.merge_into(entity, record, mentions)

    @staticmethod
    def merge_into(entity: Entity, record: dict, mentions: list, skipped: int = 0, lists: bool = True) -> None:
        """A later source's entry merged into an entity: its new aliases and search forms (unless
        ``lists`` is false: an entry merged before), its mentions."""
        if lists:
            for key in ("aliases", "search_forms", "roles_at_sources"):
                known = entity.record.setdefault(key, [])
                known.extend(v for v in record.get(key, []) if v not in known)
        entity.add_mentions(mentions, skipped)

    def same_identity(self, kind: str, record: dict, other: dict) -> bool:
        return all(record[key] == other[key] for key in self.IDENTITY[kind])

    def merge_stored(self, entities: dict, entry: StoredEntry, source_id: str, lists: bool = True) -> None:
        """A stored entry merged as :meth:`read_entities` merges one read from a file (the
        stored entries were checked when their source was loaded)."""
        skipped = entry.count - len(entry.mentions)
        file = self._stored_files.get((source_id, entry.kind))
        if file is None:
            directory = self.root / "fixtures" / source_id
            file = self._stored_files[source_id, entry.kind] = self.rel(record_file(directory, entry.kind) or directory)
        entity = entities.get(entry.record["id"])
        if entity is None:
            entities[entry.record["id"]] = entity = Entity(entry.record, file)
            entity.add_mentions(entry.mentions, skipped)
            return
        for key in self.IDENTITY[entry.kind]:
            if entity.record[key] != entry.record[key]:
                self.problem(self.root / entity.file, f"{entry.record['id']}.{key}",
                             f"{entry.record['id']} has {key} {entity.record[key]!r} here but "
                             f"{entry.record[key]!r} in {file}")
        self.merge_into(entity, entry.record, entry.mentions, skipped, lists)

    def check_participant(self, path, json_path, record, codebook, source_id, published) -> None:
        """Its actor code against the codebook; its role at this source kept by source."""
        directed.check_actor_code(lambda where, message: self.problem(path, where, message), json_path,
                                  record["actor_code"], codebook)
        role = record.pop("role_at_source")
        if wrong := role_as_of_problem(role, published):
            self.problem(path, f"{json_path}.role_at_source.as_of", wrong)
        record["roles_at_sources"] = [{"source": source_id, **role, "as_of": role["as_of"].isoformat()}] if role else []

    def check_codebook_version(self, path, json_path, record, codebook) -> None:
        wrong = codebook is not None and version_problem(record["codebook_version"], codebook)
        if wrong:
            self.problem(path, f"{json_path}.codebook_version", wrong)

    def check_cameo(self, path, json_path, code, codebook) -> bool:
        if codebook is not None and code not in codebook["codes"]:
            self.problem(path, json_path, f"CAMEO code {code} is not in fixtures/codebook.json; add it there (label from the reference table)")
            return False
        return codebook is not None

    def check_topics(self, path, json_path, topics, codebook) -> None:
        if codebook is None:
            return
        for index, topic in enumerate(topics):
            if topic not in codebook["topic_ids"]:
                self.problem(path, f"{json_path}.topics[{index}]", f"unknown topic {topic!r}; topics in the codebook: {', '.join(sorted(codebook['topic_ids']))}")

    def read_source_records(self, source_id, text, codebook, participants, places, published=None):
        directory = self.root / "fixtures" / source_id
        events: list[dict] = []
        statements: list[dict] = []
        if source_id in self.entities_unreadable:
            return events, statements  # its participants or places are unknown: fix that file first
        participants = Known(participants, self.failed_entities["participants"])
        places = Known(places, self.failed_entities["places"])
        event_ids: set[str] = set()
        path = record_file(directory, "events")
        if path is not None:
            for json_path, record in self.validated(path, "events", event_ids):
                if self.check_event(path, json_path, record, text, codebook, participants, places, event_ids) \
                        and self.check_reported_past(path, json_path, record, published):
                    events.append(record)
                event_ids.add(record["id"])
            if path in self.unparsable:
                # the events it holds are unknown: every statement would be an "unknown event"
                return events, statements
        path = record_file(directory, "statements")
        statement_ids: set[str] = set()
        if path is not None:
            for json_path, record in self.validated(path, "statements"):
                if self.check_statement(path, json_path, record, text, codebook, participants, event_ids, statement_ids):
                    statements.append(record)
                statement_ids.add(record["id"])
        if self.taken is not None:
            self.check_taken(directory, "events", events, source_id)
            self.check_taken(directory, "statements", statements, source_id)
        self.counts["events"] += len(events)
        self.counts["statements"] += len(statements)
        return events, statements

    def check_taken(self, directory: Path, kind: str, records: list, source_id: str) -> None:
        """Ids another source (not read again by this load) already uses."""
        holders = self.taken(kind, [r["id"] for r in records])
        path = record_file(directory, kind)
        for record in records:
            if record["id"] in holders:
                self.problem(path, f"(id {record['id']}).id", f"duplicate {kind[:-1]} id {record['id']}: source "
                                                                  f"{holders[record['id']]} already has it; give one of "
                                                                  "them another id")

    def check_unique(self, path: Path, json_path: str, record_id: str, kind: str, seen, first_in: dict) -> None:
        """An id used once in the dataset: a second use names the file of the first."""
        if record_id in first_in or record_id in seen:
            where = first_in.get(record_id, self.rel(path))
            self.problem(path, f"{json_path}.id", f"duplicate {kind} id {record_id}: {where} has it too; give one of "
                                                  "them another id")
        first_in.setdefault(record_id, self.rel(path))

    def check_event(self, path, json_path, record, text, codebook, participants, places, seen) -> bool:
        before = len(self.problems)
        self.check_unique(path, json_path, record["id"], "event", seen, self._global_event_ids)
        self.check_codebook_version(path, json_path, record, codebook)
        self.check_cameo(path, f"{json_path}.cameo", record["cameo"], codebook)
        self.check_topics(path, json_path, record["topics"], codebook)
        if record["place"] is not None and record["place"] not in places:
            self.problem(path, f"{json_path}.place", f"unknown place {record['place']!r}; define it in places.json")
        for index, link in enumerate(record["participants"]):
            if link["participant"] not in participants:
                self.problem(path, f"{json_path}.participants[{index}].participant", f"unknown participant {link['participant']!r}; define it in participants.json")
            if codebook is not None and link["role"] not in codebook["role_ids"]:
                self.problem(path, f"{json_path}.participants[{index}].role", f"unknown role {link['role']!r}; roles in the codebook: {', '.join(sorted(codebook['role_ids']))}")
        for index, span in enumerate(record["evidence"]):
            self.check_span(path, f"{json_path}.evidence[{index}]", text, span)
        if record["date"]["expression"] is not None:
            self.check_span(path, f"{json_path}.date.expression", text, record["date"]["expression"])
        for index, quantity in enumerate(record["quantities"]):
            self.check_span(path, f"{json_path}.quantities[{index}].span", text, quantity["span"])
        directed.check_event_actors(lambda where, message: self.problem(path, where, message), json_path, record)
        return len(self.problems) == before

    def check_reported_past(self, path, json_path, record, published) -> bool:
        wrong = reported_past_problem(record, published)
        if wrong:
            self.problem(path, f"{json_path}.date.start", wrong)
        return not wrong

    def check_statement(self, path, json_path, record, text, codebook, participants, event_ids, seen) -> bool:
        before = len(self.problems)
        self.check_unique(path, json_path, record["id"], "statement", seen, self._global_statement_ids)
        self.check_codebook_version(path, json_path, record, codebook)
        self.check_cameo(path, f"{json_path}.cameo", record["cameo"], codebook)
        self.check_topics(path, json_path, record["topics"], codebook)
        if record["speaker"] not in participants:
            self.problem(path, f"{json_path}.speaker", f"unknown participant {record['speaker']!r}; define it in participants.json")
        for index, via in enumerate(record["attributed_via"]):
            if via not in participants:
                self.problem(path, f"{json_path}.attributed_via[{index}]", f"unknown participant {via!r}; define it in participants.json")
        if record["event"] is not None and record["event"] not in event_ids:
            self.problem(path, f"{json_path}.event", f"unknown event {record['event']!r}; a statement's event must be in the same source's events")
        self.check_span(path, f"{json_path}.span", text, record["span"])
        for index, span in enumerate(record["evidence"]):
            self.check_span(path, f"{json_path}.evidence[{index}]", text, span)
        if record["date"] is not None and record["date"]["expression"] is not None:
            self.check_span(path, f"{json_path}.date.expression", text, record["date"]["expression"])
        directed.check_statement_actors(lambda where, message: self.problem(path, where, message), json_path, record,
                                        participants)
        return len(self.problems) == before



"""Read seeds and fixtures, validate them, and write them in one transaction.

``read_dataset`` walks the files and reports every problem as
``file: json-path: what is wrong``; it hands validated records to a sink.
``check`` uses a sink that keeps nothing; ``load`` uses :class:`DatabaseWriter`,
which writes inside a single transaction that is rolled back if any problem was
found, so a broken fixture never changes the database.
"""
from __future__ import annotations

import bisect
import hashlib
import json
import os
import sys
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from marshmallow import ValidationError
from peewee import sort_models

from . import daycounts, documents
from .fixtures import RECORD_SCHEMAS, CodebookSchema, SeedMetaSchema
from .records import (
    INDEXES,
    SCHEMA_VERSION,
    TABLES,
    CameoCode,
    DatasetMeta,
    Event,
    EventCountry,
    EventDayCount,
    EventParticipant,
    EventTopic,
    Participant,
    Place,
    Source,
    Statement,
    StatementTopic,
    Topic,
)
from . import search

RECORD_KINDS = ("participants", "places", "events", "statements")
ENTITY_KINDS = ("participants", "places")
INSERT_BATCH = 2_000
LOAD_CACHE_KIB = 256 * 1024


@dataclass(frozen=True)
class Problem:
    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.message}"


class LoadError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in seeds/fixtures")


@dataclass
class Summary:
    dataset_version: str
    counts: Counter = field(default_factory=Counter)
    seconds: float = 0.0


# --------------------------------------------------------------------------- files


def dataset_files(root: Path) -> list[Path]:
    """Every file whose bytes define the dataset, in a stable order."""
    files = [p for p in (root / "seeds").glob("*") if p.suffix in (".txt", ".json")]
    files += [p for p in (root / "fixtures").rglob("*") if p.suffix in (".json", ".ndjson")]
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def dataset_version(root: Path) -> str:
    """A hash of the seeds and fixtures: it changes exactly when the data does."""
    digest = hashlib.sha256()
    for path in dataset_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def record_file(directory: Path, kind: str) -> Path | None:
    for suffix in (".json", ".ndjson"):
        path = directory / f"{kind}{suffix}"
        if path.exists():
            return path
    return None


def iter_records(path: Path, report: Callable[[str, str], None]) -> Iterator[tuple[str, object]]:
    """(json-path, record) pairs from a JSON array or an NDJSON file."""
    if path.suffix == ".ndjson":
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    yield f"line {number}", json.loads(line)
                except json.JSONDecodeError as error:
                    report(f"line {number}", f"invalid JSON: {error.msg} at column {error.colno}")
        return
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        report("$", f"invalid JSON: {error.msg} at line {error.lineno} column {error.colno}")
        return
    if not isinstance(records, list):
        report("$", f"expected a JSON array of records, got {type(records).__name__}")
        return
    for index, record in enumerate(records):
        yield f"[{index}]", record


def validate_file(path: Path, kind: str) -> list[tuple[bool, str, object]]:
    """Every record of one file through its marshmallow schema, in file order:
    ``(True, json-path, validated record)`` or ``(False, json-path, problem)``.

    What :meth:`DatasetReader.validated` does, as a list (so a worker process can
    do it ahead of the reader, see :class:`Prefetcher`).
    """
    out: list[tuple[bool, str, object]] = []
    schema = RECORD_SCHEMAS[kind]
    for json_path, raw in iter_records(Path(path), lambda p, m: out.append((False, p, m))):
        if not isinstance(raw, dict):
            out.append((False, json_path, f"expected an object, got {type(raw).__name__}"))
            continue
        try:
            out.append((True, json_path, schema.load(raw)))
        except ValidationError as error:
            for sub_path, message in flatten_errors(error.messages, ""):
                out.append((False, f"{json_path}.{sub_path}" if sub_path != "$" else json_path, message))
    return out


#: Record files add up to at least this many bytes before validation moves to worker processes.
PARALLEL_MIN_BYTES = 32 << 20


class Prefetcher:
    """Validates record files in worker processes, ahead of the reader.

    Parsing and marshmallow validation are most of a large load's time and need
    nothing but the file, so ``jobs`` processes (``EVENT_RECORDS_LOAD_JOBS``,
    default: the number of cores) run :func:`validate_file` on the files in the
    order the reader will ask for them, at most ``window`` files ahead (bounded
    memory). Every record is still validated by the same schema and every
    problem reported in the same order; all other checks stay in the reader.
    """

    def __init__(self, order: list[tuple[Path, str]], jobs: int, window: int):
        import multiprocessing

        self.order = deque(order)
        self.window = window
        self.pending: deque = deque()
        # forkserver: the workers do not inherit the loader's open database connection
        self.pool = multiprocessing.get_context("forkserver").Pool(jobs)
        self.fill()

    @classmethod
    def start(cls, order: list[tuple[Path, str]]) -> "Prefetcher | None":
        jobs = int(os.environ.get("EVENT_RECORDS_LOAD_JOBS") or os.cpu_count() or 1)
        if jobs < 2 or sum(path.stat().st_size for path, _ in order) < PARALLEL_MIN_BYTES:
            return None
        return cls(order, jobs, window=2 * jobs)

    def fill(self) -> None:
        while self.order and len(self.pending) < self.window:
            path, kind = self.order.popleft()
            self.pending.append((path, kind, self.pool.apply_async(validate_file, (path, kind))))

    def take(self, path: Path, kind: str) -> list[tuple[bool, str, object]]:
        if self.pending and self.pending[0][:2] == (path, kind):
            result = self.pending.popleft()[2]
            self.fill()
            return result.get()
        return validate_file(path, kind)  # not the file expected next: validate it here

    def close(self) -> None:
        self.pool.terminate()
        self.pool.join()


def flatten_errors(messages, prefix: str) -> Iterator[tuple[str, str]]:
    """marshmallow's nested error dict as (json-path, message) pairs."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key == "_schema":
                yield from flatten_errors(value, prefix)
            elif isinstance(key, int):
                yield from flatten_errors(value, f"{prefix}[{key}]")
            else:
                yield from flatten_errors(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(messages, list):
        for message in messages:
            yield from flatten_errors(message, prefix)
    else:
        yield prefix or "$", str(messages)


def _preview(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- reading


class Sink:
    """Receives validated records. The base class keeps nothing (``check``)."""

    def codebook(self, codebook: dict) -> None: ...
    def entities(self, participants: dict, places: dict) -> None: ...
    def source(self, source_id: str, meta: dict, text: str, events: list, statements: list) -> None: ...
    def finish(self, version: str) -> None: ...


@dataclass
class Entity:
    """A participant or place merged over every source that lists it."""

    record: dict
    file: str
    mentions: list = field(default_factory=list)  # (source id, start, end, text) of each checked span


class DatasetReader:
    def __init__(self, root: Path, progress: Callable[[str], None] | None = None):
        self.root = Path(root)
        self._global_event_ids: set[str] = set()
        self._global_statement_ids: set[str] = set()
        self.problems: list[Problem] = []
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

    def validated(self, path: Path, kind: str) -> Iterator[tuple[str, dict]]:
        if self.prefetch is not None:
            # the same walk, done ahead of time in a worker process; replayed here in order
            for ok, json_path, value in self.prefetch.take(path, kind):
                if ok:
                    yield json_path, value
                else:
                    self.problem(path, json_path, value)
            return
        schema = RECORD_SCHEMAS[kind]
        for json_path, raw in iter_records(path, lambda p, m: self.problem(path, p, m)):
            if not isinstance(raw, dict):
                self.problem(path, json_path, f"expected an object, got {type(raw).__name__}")
                continue
            try:
                yield json_path, schema.load(raw)
            except ValidationError as error:
                for sub_path, message in flatten_errors(error.messages, ""):
                    self.problem(path, f"{json_path}.{sub_path}" if sub_path != "$" else json_path, message)

    def check_span(self, path: Path, json_path: str, text: str, span: dict) -> bool:
        actual = text[span["start"] : span["end"]]
        if span["end"] > len(text):
            self.problem(path, json_path, f"span {span['start']}-{span['end']} is past the end of the text ({len(text)} characters)")
            return False
        if actual != span["text"]:
            self.problem(
                path,
                json_path,
                f'text at {span["start"]}-{span["end"]} is "{_preview(actual)}" but the record says "{_preview(span["text"])}"',
            )
            return False
        return True

    # -- the walk
    def read(self, sink: Sink) -> str:
        version = dataset_version(self.root)
        codebook = self.read_codebook()
        sources = self.read_seeds()
        if codebook is not None:
            sink.codebook(codebook)
        self.prefetch = Prefetcher.start(self.record_files_in_reading_order(sources))
        try:
            participants, places = self.read_entities(sources, codebook)
            sink.entities(participants, places)
            for number, (source_id, (meta, text)) in enumerate(sorted(sources.items()), 1):
                events, statements = self.read_source_records(source_id, text, codebook, participants, places)
                sink.source(source_id, meta, text, events, statements)
                self.counts["sources"] += 1
                if number % 100 == 0 or number == len(sources):
                    self.progress(f"read {number}/{len(sources)} sources, {self.counts['events']} events, {self.counts['statements']} statements")
        finally:
            if self.prefetch is not None:
                self.prefetch.close()
                self.prefetch = None
        for kind, entities in (("participants", participants), ("places", places)):
            self.counts[kind] = len(entities)
        sink.finish(version)
        return version

    def record_files_in_reading_order(self, sources) -> list[tuple[Path, str]]:
        """(path, kind) of every record file, in the order ``read`` validates them."""
        order = []
        for kinds in (ENTITY_KINDS, ("events", "statements")):
            for source_id in sorted(sources):
                for kind in kinds:
                    path = record_file(self.root / "fixtures" / source_id, kind)
                    if path is not None:
                        order.append((path, kind))
        return order

    def read_codebook(self) -> dict | None:
        path = self.root / "fixtures" / "codebook.json"
        if not path.exists():
            self.problem(path, "$", "missing: the codebook lists the CAMEO codes, topics and roles records may use")
            return None
        try:
            codebook = CodebookSchema().load(json.loads(path.read_text(encoding="utf-8")))
        except json.JSONDecodeError as error:
            self.problem(path, "$", f"invalid JSON: {error.msg} at line {error.lineno}")
            return None
        except ValidationError as error:
            for json_path, message in flatten_errors(error.messages, ""):
                self.problem(path, json_path, message)
            return None
        codes = {}
        for index, entry in enumerate(codebook["cameo"]):
            if entry["code"] in codes:
                self.problem(path, f"cameo[{index}].code", f"duplicate code {entry['code']}")
            codes[entry["code"]] = entry
        for index, entry in enumerate(codebook["cameo"]):
            if entry["code"][:2] not in codes:
                self.problem(path, f"cameo[{index}].code", f"the root {entry['code'][:2]} of {entry['code']} is not in the codebook")
        codebook["codes"] = codes
        codebook["topic_ids"] = {t["id"] for t in codebook["topics"]}
        codebook["role_ids"] = {r["id"] for r in codebook["roles"]}
        return codebook

    def read_seeds(self) -> dict[str, tuple[dict, str]]:
        sources = {}
        seed_dir = self.root / "seeds"
        texts = sorted(seed_dir.glob("*.txt"))
        if not texts:
            self.problem(seed_dir, "$", "no seeds/*.txt source texts found")
        for text_path in texts:
            source_id = text_path.stem
            meta_path = text_path.with_suffix(".json")
            raw = text_path.read_bytes()
            if not meta_path.exists():
                self.problem(meta_path, "$", f"missing: every seed needs its metadata (publisher, published_at, language, title, sha256={hashlib.sha256(raw).hexdigest()})")
                continue
            try:
                meta = SeedMetaSchema().load(json.loads(meta_path.read_text(encoding="utf-8")))
            except json.JSONDecodeError as error:
                self.problem(meta_path, "$", f"invalid JSON: {error.msg} at line {error.lineno}")
                continue
            except ValidationError as error:
                for json_path, message in flatten_errors(error.messages, ""):
                    self.problem(meta_path, json_path, message)
                continue
            actual = hashlib.sha256(raw).hexdigest()
            if actual != meta["sha256"]:
                self.problem(meta_path, "sha256", f"the text's sha256 is {actual} but the metadata says {meta['sha256']}: the seed was changed; restore it or re-check every span and update the hash")
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                self.problem(text_path, "$", f"not UTF-8: {error}")
                continue
            if not (self.root / "fixtures" / source_id).is_dir():
                self.problem(self.root / "fixtures" / source_id, "$", "missing: every seed needs a fixtures directory of the same name")
                continue
            sources[source_id] = (meta, text)
        for directory in sorted((self.root / "fixtures").glob("*/")):
            if directory.is_dir() and directory.name not in sources and not (seed_dir / f"{directory.name}.txt").exists():
                self.problem(directory, "$", f"no seed seeds/{directory.name}.txt for this fixtures directory")
        return sources

    def read_entities(self, sources, codebook) -> tuple[dict, dict]:
        merged: dict[str, dict[str, Entity]] = {"participants": {}, "places": {}}
        identity = {
            "participants": ("name_en", "name_ar", "kind", "country"),
            "places": ("name_en", "name_ar", "kind", "country", "lat", "lon"),
        }
        for source_id, (meta, text) in sorted(sources.items()):
            for kind in ENTITY_KINDS:
                path = record_file(self.root / "fixtures" / source_id, kind)
                if path is None:
                    continue
                seen_here = set()
                for json_path, record in self.validated(path, kind):
                    self.check_codebook_version(path, json_path, record, codebook)
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
                    entity = merged[kind].get(record["id"])
                    if entity is None:
                        merged[kind][record["id"]] = Entity(record, self.rel(path), mentions)
                        continue
                    for key in identity[kind]:
                        if entity.record[key] != record[key]:
                            self.problem(path, f"{json_path}.{key}", f"{record['id']} has {key} {record[key]!r} here but {entity.record[key]!r} in {entity.file}")
                    for alias in record["aliases"]:
                        if alias not in entity.record["aliases"]:
                            entity.record["aliases"].append(alias)
                    entity.mentions.extend(mentions)
        return merged["participants"], merged["places"]

    def check_codebook_version(self, path, json_path, record, codebook) -> None:
        if codebook is not None and record["codebook_version"] != codebook["version"]:
            self.problem(path, f"{json_path}.codebook_version", f"is {record['codebook_version']!r} but fixtures/codebook.json is version {codebook['version']!r}")

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

    def read_source_records(self, source_id, text, codebook, participants, places):
        directory = self.root / "fixtures" / source_id
        events: list[dict] = []
        statements: list[dict] = []
        event_ids: set[str] = set()
        path = record_file(directory, "events")
        if path is not None:
            for json_path, record in self.validated(path, "events"):
                if self.check_event(path, json_path, record, text, codebook, participants, places, event_ids):
                    events.append(record)
                event_ids.add(record["id"])
        path = record_file(directory, "statements")
        statement_ids: set[str] = set()
        if path is not None:
            for json_path, record in self.validated(path, "statements"):
                if self.check_statement(path, json_path, record, text, codebook, participants, event_ids, statement_ids):
                    statements.append(record)
                statement_ids.add(record["id"])
        self.counts["events"] += len(events)
        self.counts["statements"] += len(statements)
        return events, statements

    def check_event(self, path, json_path, record, text, codebook, participants, places, seen) -> bool:
        before = len(self.problems)
        if record["id"] in seen or record["id"] in self._global_event_ids:
            self.problem(path, f"{json_path}.id", f"duplicate event id {record['id']}")
        self._global_event_ids.add(record["id"])
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
        return len(self.problems) == before

    def check_statement(self, path, json_path, record, text, codebook, participants, event_ids, seen) -> bool:
        before = len(self.problems)
        if record["id"] in seen or record["id"] in self._global_statement_ids:
            self.problem(path, f"{json_path}.id", f"duplicate statement id {record['id']}")
        self._global_statement_ids.add(record["id"])
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
        return len(self.problems) == before


def check(root: Path, progress=None) -> Summary:
    """Validate seeds and fixtures without touching a database."""
    started = time.perf_counter()
    reader = DatasetReader(root, progress)
    version = reader.read(Sink())
    if reader.problems:
        raise LoadError(reader.problems)
    return Summary(version, reader.counts, time.perf_counter() - started)


# --------------------------------------------------------------------------- writing


class DatabaseWriter(Sink):
    """Writes validated records; the caller owns the transaction."""

    def __init__(self, db):
        self.db = db
        self.codes: dict = {}
        self.participants: dict = {}
        self.places: dict = {}
        self.participant_counts: dict = defaultdict(Counter)
        self.place_counts: dict = defaultdict(Counter)
        self.source_counts: dict = defaultdict(Counter)
        self.code_counts: dict = defaultdict(Counter)
        self.sources: dict = {}
        self.index = search.IndexWriter(db)
        self.day_counts = daycounts.DayCounter()

    def insert(self, model, rows: list[dict]) -> None:
        for start in range(0, len(rows), INSERT_BATCH):
            search.insert_rows(self.db, model, rows[start : start + INSERT_BATCH])

    def codebook(self, codebook: dict) -> None:
        self.codes = codebook["codes"]
        self.insert(Topic, [{"id": t["id"], "label": t["label"], "description": t["description"]} for t in codebook["topics"]])

    def entities(self, participants: dict, places: dict) -> None:
        self.participants = {pid: e.record for pid, e in participants.items()}
        self.places = {pid: e.record for pid, e in places.items()}
        self._participant_mentions = {pid: e.mentions for pid, e in participants.items()}
        self._place_mentions = {pid: e.mentions for pid, e in places.items()}
        self.mentions_by_source = defaultdict(list)
        for kind, table in (("participant", self._participant_mentions), ("place", self._place_mentions)):
            for entity_id, spans in table.items():
                for source_id, start, end, _ in spans:
                    self.mentions_by_source[source_id].append((start, end, kind, entity_id))
        # only the inline mentions and the count are needed from here on (see finish)
        for table in (self._participant_mentions, self._place_mentions):
            for entity_id, spans in table.items():
                table[entity_id] = (span_dicts(spans[: documents.MENTIONS_INLINE]), len(spans))
        for entity in (*participants.values(), *places.values()):
            entity.mentions = []  # the reader's copy: the per-source lists above hold the rest
        self.index.set_entities([
            [r["name_en"], r["name_ar"], *r["aliases"]] for r in (*self.participants.values(), *self.places.values())
        ])
        self.participant_summaries = {pid: documents.participant_summary(r) for pid, r in self.participants.items()}
        self.place_summaries = {pid: documents.place_summary(r) for pid, r in self.places.items()}
        # docs are final only when the counts are known (finish); the rows must exist first for the foreign keys
        self.insert(Participant, [
            {"id": r["id"], "name_en": r["name_en"], "name_ar": r["name_ar"], "kind": r["kind"], "country": r["country"],
             "summary": documents.dumps(self.participant_summaries[r["id"]]), "doc": "{}", "embedded": "{}"}
            for r in self.participants.values()
        ])
        self.insert(Place, [
            {"id": r["id"], "name_en": r["name_en"], "name_ar": r["name_ar"], "kind": r["kind"], "country": r["country"],
             "lat": r["lat"], "lon": r["lon"], "doc": "{}", "embedded": "{}"}
            for r in self.places.values()
        ])

    def cameo_doc(self, code: str) -> dict:
        return documents.cameo(self.codes[code], self.codes[code[:2]])

    def plover_of(self, code: str, override: dict | None) -> dict | None:
        if override is not None:
            return documents.plover(override["type"], override["mode"])
        entry = self.codes[code]
        return documents.plover(entry["plover_type"], entry["plover_mode"])

    def source(self, source_id, meta, text, events, statements) -> None:
        self.sources[source_id] = meta
        Source.insert(
            id=source_id, publisher=meta["publisher"], publisher_ar=meta["publisher_ar"], title=meta["title"],
            published_at=meta["published_at"].isoformat(), language=meta["language"], sha256=meta["sha256"],
            url=meta["url"], text=text, doc="{}",
        ).execute()
        reported_on = meta["published_at"].date().isoformat()
        statements_by_event = defaultdict(list)
        for record in statements:
            if record["event"] is not None:
                statements_by_event[record["event"]].append(record["id"])

        mentions_in = MentionLocator(self.mentions_by_source.pop(source_id, []))  # each source is written once
        event_rows, link_rows, country_rows, topic_rows = [], [], [], []
        for record in events:
            date = record["date"]
            start = date["start"].isoformat() if date["start"] else None
            end = date["end"].isoformat() if date["end"] else None
            plover_doc = self.plover_of(record["cameo"], record["plover"])
            place = self.places.get(record["place"]) if record["place"] else None
            links = [
                {"participant": self.participant_summaries[link["participant"]], "role": link["role"]}
                for link in record["participants"]
            ]
            doc = documents.event(
                record, source_id=source_id, cameo_doc=self.cameo_doc(record["cameo"]), plover_doc=plover_doc,
                place_doc=self.place_summaries[record["place"]] if place else None, participants=links,
                statement_ids=statements_by_event.get(record["id"], []),
            )
            event_rows.append({
                "id": record["id"], "source": source_id, "title_en": record["title_en"],
                "cameo_code": record["cameo"], "cameo_root": record["cameo"][:2],
                "plover_type": plover_doc["type"] if plover_doc else None, "status": record["status"],
                "date_start": start, "date_end": end, "date_precision": date["precision"],
                "sort_date": start or end or "", "place": record["place"], "doc": documents.dumps(doc),
            })
            seen_links = set()
            countries = set()
            for position, link in enumerate(record["participants"]):
                key = (link["participant"], link["role"])
                if key in seen_links:
                    continue
                seen_links.add(key)
                link_rows.append({"event": record["id"], "participant": link["participant"], "role": link["role"], "position": position})
                self.participant_counts[link["participant"]]["events_links"] += 1
                country = self.participants[link["participant"]]["country"]
                if country:
                    countries.add(country)
            for participant_id in {link["participant"] for link in record["participants"]}:
                self.participant_counts[participant_id]["events"] += 1
            if place:
                self.place_counts[record["place"]]["events"] += 1
                if place["country"]:
                    countries.add(place["country"])
            country_rows.extend({"event": record["id"], "country": c} for c in sorted(countries))
            row = event_rows[-1]
            self.day_counts.add(start=start, end=end, anchor=row["sort_date"], precision=date["precision"],
                                cameo_root=row["cameo_root"], status=row["status"], plover=row["plover_type"],
                                countries=countries)
            topic_rows.extend({"event": record["id"], "topic": t} for t in dict.fromkeys(record["topics"]))
            self.code_counts[record["cameo"]]["events"] += 1
            self.index.add_event(doc, self.names_for_event(record, mentions_in))
        self.insert(Event, event_rows)
        self.insert(EventParticipant, link_rows)
        self.insert(EventCountry, country_rows)
        self.insert(EventTopic, topic_rows)

        statement_rows, statement_topic_rows = [], []
        for record in statements:
            doc = documents.statement(
                record, source_id=source_id, speaker=self.participant_summaries[record["speaker"]],
                attributed_via=[self.participant_summaries[p] for p in record["attributed_via"]],
                cameo_doc=self.cameo_doc(record["cameo"]), plover_doc=self.plover_of(record["cameo"], None),
                reported_on=reported_on,
            )
            statement_rows.append({
                "id": record["id"], "source": source_id, "speaker": record["speaker"], "event": record["event"],
                "mode": record["mode"], "cameo_code": record["cameo"], "cameo_root": record["cameo"][:2],
                "sort_date": reported_on, "doc": documents.dumps(doc),
            })
            statement_topic_rows.extend({"statement": record["id"], "topic": t} for t in dict.fromkeys(record["topics"]))
            self.participant_counts[record["speaker"]]["statements"] += 1
            self.code_counts[record["cameo"]]["statements"] += 1
            self.index.add_statement(doc)
        self.insert(Statement, statement_rows)
        self.insert(StatementTopic, statement_topic_rows)
        self.source_counts[source_id].update(events=len(events), statements=len(statements))

    def names_for_event(self, record: dict, mentions_in: "MentionLocator") -> list[tuple]:
        """Names that make an event findable in either language, as (key, [names]) per entity.

        The event's participants and place, and every participant or place
        mentioned inside its evidence: an Arabic sentence naming أستانا makes the
        event findable as "Astana" too.
        """
        entities = [("participant", self.participants[link["participant"]]) for link in record["participants"]]
        if record["place"]:
            entities.append(("place", self.places[record["place"]]))
        for span in record["evidence"]:
            entities.extend(mentions_in(span["start"], span["end"], self.participants, self.places))
        names, seen = [], set()
        for kind, entity in entities:
            key = (kind, entity["id"])
            if key not in seen:
                seen.add(key)
                names.append((key, [entity["name_en"], entity["name_ar"], *entity["aliases"]]))
        return names

    def finish(self, version: str) -> None:
        for pid, record in self.participants.items():
            doc = documents.participant(record, Mentions(*self._participant_mentions[pid]), self.participant_counts[pid])
            Participant.update(doc=documents.dumps(doc), embedded=documents.dumps(documents.embedded(doc))).where(
                Participant.id == pid).execute()
            self.index.add_entity("participant", doc)
        for pid, record in self.places.items():
            doc = documents.place(record, Mentions(*self._place_mentions[pid]), self.place_counts[pid])
            Place.update(doc=documents.dumps(doc), embedded=documents.dumps(documents.embedded(doc))).where(
                Place.id == pid).execute()
            self.index.add_entity("place", doc)
        for source_id, meta in self.sources.items():
            doc = documents.source(meta, source_id, self.source_counts[source_id])
            Source.update(doc=documents.dumps(doc)).where(Source.id == source_id).execute()
        rows = []
        for code, entry in self.codes.items():
            root = self.codes[code[:2]]
            rows.append({
                "code": code, "label": entry["label"], "root": code[:2], "goldstein": entry["goldstein"],
                "plover_type": entry["plover_type"], "plover_mode": entry["plover_mode"],
                "doc": documents.dumps(documents.cameo_type(entry, root, self.code_counts[code])),
            })
        self.insert(CameoCode, rows)
        columns = ("dimension", "edge", "value", "day", "n", "ranged", "cum")
        batch = []
        for values in self.day_counts.rows():
            batch.append(dict(zip(columns, values)))
            if len(batch) >= INSERT_BATCH:
                self.insert(EventDayCount, batch)
                batch = []
        self.insert(EventDayCount, batch)
        self.index.finish()
        self.insert(DatasetMeta, [
            {"key": "dataset_version", "value": version},
            {"key": "schema_version", "value": SCHEMA_VERSION},
            {"key": "loaded_at", "value": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
        ])


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


def create_schema(db) -> None:
    """Empty the tables for a new load (inside the caller's transaction).

    SQLite: drop and re-create them, then bulk-insert without indexes; a reader's
    snapshot there covers the schema too, so it keeps seeing the old dataset.
    PostgreSQL: a snapshot does not cover dropped tables, so rows are deleted
    instead (MVCC keeps the old rows visible to readers until the commit); the
    tables are only re-created when the schema itself changed.

    Schema managers are made for ``db`` here: the models' own ones are shared by
    every thread, and a web request in another thread may have re-bound them.
    """
    models = sort_models(TABLES + search.index_models(db))
    if not search.is_sqlite(db) and stored_schema_version(db) == SCHEMA_VERSION:
        for model in reversed(models):
            model.delete().execute()
        return
    for model in reversed(models):
        type(model._schema)(model, db).drop_all(safe=True)
    for model in models:
        type(model._schema)(model, db).create_all(safe=False)


def stored_schema_version(db) -> str | None:
    if not db.table_exists("dataset_meta"):
        return None
    row = DatasetMeta.select(DatasetMeta.value).where(DatasetMeta.key == "schema_version").tuples().first()
    return row[0] if row else None


def create_indexes(db) -> None:
    for model, columns, unique in INDEXES:
        table = model._meta.table_name
        name = "_".join([table, *columns])[:60] + "_idx"
        column_list = ", ".join(f'"{getattr(model, c).column_name}"' for c in columns)
        db.execute_sql(f'CREATE {"UNIQUE " if unique else ""}INDEX IF NOT EXISTS "{name}" ON "{table}" ({column_list})')


def load(root: Path, db, progress=None) -> Summary:
    """Validate and (re)load everything into ``db`` in one transaction.

    Raises :class:`LoadError` (after rolling back) if any record is wrong.
    """
    started = time.perf_counter()
    reader = DatasetReader(root, progress)
    progress = progress or (lambda message: None)
    db.connect(reuse_if_open=True)
    if search.is_sqlite(db):
        # index builds and the search index sort and merge large b-trees: a larger page cache
        # than a server connection's, for this connection only
        db.execute_sql(f"PRAGMA cache_size = -{LOAD_CACHE_KIB}")
        db.execute_sql(f"PRAGMA threads = {os.cpu_count() or 1}")  # helper threads for the index builds' sorts
        # the sorts of the index builds spill to temporary files, not to this process's memory
        db.execute_sql("PRAGMA temp_store = FILE")
    try:
        with db.bind_ctx(TABLES + search.index_models(db)), db.atomic() as transaction:
            create_schema(db)
            writer = DatabaseWriter(db)
            version = reader.read(writer)
            if reader.problems:
                transaction.rollback()
                raise LoadError(reader.problems)
            progress("building indexes")
            create_indexes(db)
        if search.needs_optimize(db):
            progress("optimising the search index")
            with db.bind_ctx(search.index_models(db)):
                search.optimize(db)
    finally:
        db.close()
    return Summary(version, reader.counts, time.perf_counter() - started)


def loaded_version(db) -> str | None:
    """The dataset_version stored in ``db``, or None when it holds no loaded dataset or one
    loaded with another table layout (an older version of this code: it must be loaded again)."""
    try:
        db.connect(reuse_if_open=True)
        with db.bind_ctx([DatasetMeta]):
            stored = dict(DatasetMeta.select(DatasetMeta.key, DatasetMeta.value).where(
                DatasetMeta.key.in_(["dataset_version", "schema_version"])).tuples())
        return stored.get("dataset_version") if stored.get("schema_version") == SCHEMA_VERSION else None
    except Exception:  # a missing file or table means "not loaded"
        return None
    finally:
        db.close()

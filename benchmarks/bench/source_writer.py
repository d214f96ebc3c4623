"""One generated source (benchmarks/generate.py): its Arabic text, built sentence by sentence
with the offset of every name, date expression, quotation and sentence recorded as it is
written, and its fixture files.

Every random draw comes from the source's own stream, in a fixed order: the corpus depends only
on the seed, the source's number and its size. Reordering a draw changes every later one.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from itertools import accumulate
from pathlib import Path

from .words import (CODEBOOK_VERSION, EQUAL_ROLES, FILLERS, FIRST_DAY, LAST_DAY, MONTHS_AR, PUBLISHERS, QUOTES,
                    ROOT_VERBS, STATEMENT_ROOTS, TOPIC_PHRASES, UNDIRECTED_ROLES)

#: changes whenever the records written for the same seed change (2: a date no words of the text
#: give is flagged as inferred), so that a cached corpus of another format is made again
CORPUS_FORMAT = 2


class Text:
    """A source text built piece by piece, with the offset of every piece."""

    def __init__(self):
        self.parts: list[str] = []
        self.pos = 0

    def add(self, piece: str) -> int:
        start = self.pos
        self.parts.append(piece)
        self.pos += len(piece)
        return start

    def span(self, piece: str) -> dict:
        start = self.add(piece)
        return {"start": start, "end": start + len(piece), "text": piece}

    def value(self) -> str:
        return "".join(self.parts)


def directed_sides(actors: list[dict], first_role: str, other_role: str) -> tuple[list[str], list[str]]:
    """(source_actors, target_actors) of a generated event, by its roles."""
    ids = [a["id"] for a in actors]
    if first_role in EQUAL_ROLES and other_role in EQUAL_ROLES:
        return ids, ids
    return ids[:1], ([] if other_role in UNDIRECTED_ROLES else ids[1:])


def choose(rng, population, cum_weights, k):
    return rng.choices(population, cum_weights=cum_weights, k=k)


def _day_of(rng: random.Random, published: dt.date, status: str) -> dt.date:
    """The day an event is about: after the report for a planned one, before it otherwise."""
    if status == "planned":
        day = published + dt.timedelta(days=rng.randint(1, 60))
    else:
        day = published - dt.timedelta(days=int(rng.expovariate(1 / 90)))
    return min(max(day, FIRST_DAY), LAST_DAY)


def _in_arabic(day: dt.date) -> str:
    return f"{day.day} {MONTHS_AR[day.month - 1]} {day.year}"


def _range(rng: random.Random, day: dt.date):
    """(start, end, Arabic words, English words) of a range from ``day``, open at either end or not."""
    start, end = day, min(day + dt.timedelta(days=rng.randint(2, 60)), LAST_DAY)
    shape = rng.random()
    if shape < 0.15:
        return None, end, "في الآونة الأخيرة", "recently"
    if shape < 0.25:
        return start, None, f"منذ {_in_arabic(start)}", f"since {start.isoformat()}"
    return (start, end, f"بين {_in_arabic(start)} و{_in_arabic(end)}",
            f"between {start.isoformat()} and {end.isoformat()}")


#: the inference flag of a date no words of the text give (fixtures/FORMAT.md)
DATE_INFERRED = {"field": "date", "reason": "the text gives no date words; the curator dated it from the report's "
                                            "publication day"}


def dated(date: dict, expression: dict | None) -> dict:
    """An event's date record: the date, the span of its words and how it was read."""
    return {**date, "expression": expression,
            "resolution": "as written in the text" if expression else "from the publication date of the report"}


def flag_inferred_date(record: dict) -> None:
    """A date that no words of the text give is the curator's: flagged so (event-records check)."""
    if record["date"]["expression"] is None and record["date"]["precision"] != "unknown":
        record["inferred"] = [DATE_INFERRED]


def date_record(rng: random.Random, published: dt.date, status: str):
    """(date dict without expression, Arabic date words or None, English date words)."""
    day = _day_of(rng, published, status)
    r = rng.random()
    if r < 0.58:
        precision, start, end = "day", day, day
        words, english = f"يوم {_in_arabic(day)}", f"on {day.isoformat()}"
    elif r < 0.74:
        precision = "month"
        start = day.replace(day=1)
        end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        words, english = f"خلال شهر {MONTHS_AR[day.month - 1]} {day.year}", f"in {start:%B %Y}"
    elif r < 0.82:
        precision, start, end = "year", dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)
        words, english = f"خلال عام {day.year}", f"in {day.year}"
    elif r < 0.93:
        precision = "range"
        start, end, words, english = _range(rng, day)
    else:
        precision, start, end, words, english = "unknown", None, None, None, ""
    if words is not None and rng.random() < 0.1:
        words = None  # dated from the publication day, no words in the text
    date = {"start": start.isoformat() if start else None, "end": end.isoformat() if end else None,
            "precision": precision}
    return date, words, english


def _ranked(entities: list[dict]) -> tuple[list[dict], list[float]]:
    """Distinct ``entities`` by global rank, with cumulative Zipf weights within them."""
    kept = sorted({e["id"]: e for e in entities}.values(), key=lambda e: e["_rank"])
    return kept, list(accumulate(1.0 / (rank + 1) for rank in range(len(kept))))


def _without_private(entity: dict) -> dict:
    return {k: v for k, v in entity.items() if not k.startswith("_")}


class SourceWriter:
    """One source: its cast (drawn from the global popularity, then Zipf within the cast), its
    events and statements as the text is written, then its files."""

    def __init__(self, seed: int, index: int, pools: tuple, root_codes: dict[str, list[str]]):
        people, places, actor_weights, place_weights = pools
        self.rng = rng = random.Random(f"{seed}:{index}")
        self.index = index
        self.source_id = f"syn_{index:05d}"
        self.publisher, self.publisher_ar = rng.choice(PUBLISHERS)
        self.published = FIRST_DAY + dt.timedelta(days=rng.randint(60, (LAST_DAY - FIRST_DAY).days))
        self.cast, self.cast_weights = _ranked(choose(rng, people, actor_weights, 700))
        self.agencies = ([p for p in self.cast if p["id"].startswith("agency-")]
                         or [p for p in people if p["id"].startswith("agency-")])
        self.persons, self.person_weights = _ranked([p for p in self.cast if p["kind"] == "person"] or self.cast)
        self.places, self.place_weights = _ranked(choose(rng, places, place_weights, 120))
        self.root_codes = root_codes
        self.roots = list(ROOT_VERBS)
        self.root_weights = list(accumulate(ROOT_VERBS[r][2] for r in self.roots))
        self.text = Text()
        self.title = f"نشرة {self.publisher_ar} الإخبارية: تطورات سياسية وميدانية في المنطقة ({index})"
        self.text.add(self.title + "\n\n")
        self.mentions: dict[str, list] = {}
        self.place_mentions: dict[str, list] = {}
        self.events: list[dict] = []
        self.statements: list[dict] = []
        self._sentence_start = 0  # where the sentence being written began (see sentence())

    def name(self, entity: dict, table: dict) -> None:
        """Write the entity's name (a person's family name alone, sometimes) and record the span."""
        form = entity["name_ar"]
        if entity["aliases"] and entity["kind"] == "person" and self.rng.random() < 0.25:
            form = entity["aliases"][0]
        table.setdefault(entity["id"], []).append(self.text.span(form))

    def sentence(self) -> dict:
        """The span of the sentence being written, up to here; its text is filled in by :meth:`write`."""
        return {"start": self._sentence_start, "end": self.text.pos, "text": None}

    def event(self, number: int) -> None:
        """One event, written into the text as a sentence, and its 0–3 statements."""
        rng, text = self.rng, self.text
        event_id = f"e{self.index:05d}-{number:04d}"
        if number % 12 == 0:
            text.add(rng.choice(FILLERS) + " ")
        if number % 5 == 0:
            text.add("\n\n")
        root = rng.choices(self.roots, cum_weights=self.root_weights)[0]
        code = rng.choice(self.root_codes[root])
        verb_ar, verb_en, _, (first_role, other_role) = ROOT_VERBS[root]
        actors = self._actors(rng.choices((2, 3, 4, 5), weights=(45, 30, 15, 10))[0])
        place = choose(rng, self.places, self.place_weights, 1)[0] if rng.random() < 0.85 else None
        status = rng.choices(("occurred", "ongoing", "planned", "background"), weights=(75, 8, 7, 10))[0]
        date, date_words, date_en = date_record(rng, self.published, status)
        topic_ar, topic_en, topic_id = rng.choice(TOPIC_PHRASES)
        expression = self._event_sentence(verb_ar, actors, place, date_words, topic_ar)
        evidence = self.sentence()
        text.add(" ")
        what = f"{actors[0]['name_en']} {verb_en} {', '.join(a['name_en'] for a in actors[1:])}"
        where = f" in {place['name_en']}" if place else ""
        sources, targets = directed_sides(actors, first_role, other_role)
        record = {
            "id": event_id,
            "title_en": what + where,
            "summary_en": what + where + (f" {date_en}" if date_en else "") + f", {topic_en}.",
            "cameo": code,
            "status": status,
            "date": dated(date, expression),
            "place": place["id"] if place else None,
            "participants": [{"participant": a["id"], "role": first_role if i == 0 else other_role}
                             for i, a in enumerate(actors)],
            "source_actors": sources, "target_actors": targets,
            "topics": [topic_id] if topic_id else [],
            "evidence": [evidence],
            "confidence": rng.choices(("high", "medium", "low"), weights=(70, 25, 5))[0],
            "codebook_version": CODEBOOK_VERSION,
            "notes": None,
        }
        flag_inferred_date(record)
        if root == "04" and rng.random() < 0.3:
            record["plover"] = {"type": "CONSULT", "mode": "visit"}
        self.events.append(record)
        for s_number in range(rng.choices((0, 1, 2, 3), weights=(35, 35, 20, 10))[0]):
            self.statements.append(self._statement(f"{event_id}-s{s_number + 1}", event_id, actors, topic_id))

    def _actors(self, k: int) -> list[dict]:
        chosen: dict[str, dict] = {}
        while len(chosen) < k:
            p = choose(self.rng, self.cast, self.cast_weights, 1)[0]
            chosen.setdefault(p["id"], p)
        return list(chosen.values())

    def _event_sentence(self, verb_ar: str, actors: list[dict], place: dict | None, date_words: str | None,
                        topic_ar: str) -> dict | None:
        """Write the event's evidence sentence, recording every name as it is written; returns the
        span of its date expression (None when the text gives no date words)."""
        text = self.text
        self._sentence_start = text.pos
        before, after = verb_ar.split("{A}")
        text.add(before)
        self.name(actors[0], self.mentions)
        text.add(after + " ")
        for position, other in enumerate(actors[1:]):
            if position:
                text.add(" و")
            self.name(other, self.mentions)
        if place is not None:
            text.add(" في ")
            self.name(place, self.place_mentions)
        expression = None
        if date_words:
            text.add(" ")
            expression = text.span(date_words)
        text.add("، " + topic_ar + ".")
        return expression

    def _quotation(self) -> tuple[str, str]:
        rng = self.rng
        quote_ar, quote_en = rng.choice(QUOTES)
        if rng.random() < 0.4:
            extra_ar, extra_en = rng.choice(QUOTES)
            if extra_ar != quote_ar:
                quote_ar, quote_en = f"{quote_ar}، و{extra_ar}", f"{quote_en}, and {extra_en}"
        return quote_ar, quote_en

    def _attribution(self, speaker: dict, direct: bool) -> list[dict]:
        """Write who said it (through a news agency, sometimes), up to the quotation; returns the agency, if any."""
        text = self.text
        if self.rng.random() < 0.2:
            agency = self.rng.choice(self.agencies)
            text.add("ونقلت ")
            self.name(agency, self.mentions)
            text.add(" عن ")
            self.name(speaker, self.mentions)
            text.add(' قوله إن "' if direct else " تأكيده أن ")
            return [agency]
        text.add("وقال " if direct else "وأكد ")
        self.name(speaker, self.mentions)
        text.add(' إن "' if direct else " أن ")
        return []

    def _statement(self, statement_id: str, event_id: str, actors: list[dict], topic_id: str | None) -> dict:
        """One statement, its own sentence: said directly or reported, sometimes through an agency."""
        rng, text = self.rng, self.text
        speaker = (actors[0] if actors[0]["kind"] in ("person", "organization") and rng.random() < 0.6
                   else choose(rng, self.persons, self.person_weights, 1)[0])
        quote_ar, quote_en = self._quotation()
        self._sentence_start = text.pos
        direct = rng.random() < 0.5
        via = self._attribution(speaker, direct)
        span = text.span(quote_ar)
        text.add('".' if direct else ".")
        sentence = self.sentence()
        text.add(" ")
        link = rng.choices(("explicit", "inferred", None), weights=(70, 20, 10))[0]
        return {
            "id": statement_id,
            "speaker": speaker["id"],
            "event": event_id if link else None,
            "event_link": link,
            "span": span,
            "text_en": quote_en,
            "translation": rng.choices(("human", "machine"), weights=(30, 70))[0],
            "mode": "direct" if direct else "reported",
            "attributed_via": [a["id"] for a in via],
            "addressees": [a["id"] for a in actors if a["id"] != speaker["id"]][:1] if rng.random() < 0.4 else [],
            "cameo": rng.choice(self.root_codes[rng.choice(STATEMENT_ROOTS)]),
            "topics": [topic_id] if topic_id and rng.random() < 0.7 else [],
            "evidence": [sentence],
            "confidence": rng.choices(("high", "medium", "low"), weights=(70, 25, 5))[0],
            "codebook_version": CODEBOOK_VERSION,
            "notes": "linked by the curator's reading of the paragraph" if link == "inferred" else None,
        }

    def write(self, out: Path, by_id: dict[str, dict]) -> tuple[str, int, int, int, int, int]:
        """The seed text, its metadata and the four fixture files; returns the source's counts.
        ``by_id``: every participant of the pool, whose entries the source lists with its mentions."""
        rng = self.rng
        body = self.text.value()
        for record in (*self.events, *self.statements):
            for span in record["evidence"]:
                span["text"] = body[span["start"]: span["end"]]
        raw = body.encode("utf-8")
        fixtures = out / "fixtures" / self.source_id
        fixtures.mkdir(parents=True, exist_ok=True)
        (out / "seeds" / f"{self.source_id}.txt").write_bytes(raw)
        meta = {"publisher": self.publisher, "publisher_ar": self.publisher_ar,
                "published_at": f"{self.published.isoformat()}T{rng.randint(6, 22):02d}:{rng.randint(0, 59):02d}:00+03:00",
                "language": "ar", "title": self.title, "url": None, "sha256": hashlib.sha256(raw).hexdigest()}
        (out / "seeds" / f"{self.source_id}.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1),
                                                              encoding="utf-8")
        curation = {"confidence": "high", "codebook_version": CODEBOOK_VERSION, "notes": None}
        unknown = {"wikidata": None, "geonames": None}
        # every participant of the source is named at least once
        participants = [{**_without_private(by_id[pid]), "identifiers": unknown, "mentions": spans, **curation}
                        for pid, spans in self.mentions.items()]
        places = [{**_without_private(p), "identifiers": unknown, "mentions": self.place_mentions[p["id"]], **curation}
                  for p in self.places if p["id"] in self.place_mentions]
        for name, records in (("participants", participants), ("places", places), ("events", self.events)):
            _write_lines(fixtures / f"{name}.ndjson", records, always_end=True)
        _write_lines(fixtures / "statements.ndjson", self.statements, always_end=False)
        return (self.source_id, len(self.events), len(self.statements), len(self.mentions), len(self.place_mentions),
                len(raw))


def _write_lines(path: Path, records: list[dict], always_end: bool) -> None:
    """One JSON document per line; the file ends with a line break (an empty statements file is empty)."""
    end = "\n" if records or always_end else ""
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + end, encoding="utf-8")

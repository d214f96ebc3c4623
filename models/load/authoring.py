"""The curator's files: a new source's skeleton, where a text occurs, a source with its spans marked."""
from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from . import spans
from ..vocabulary import SOURCE_ID_PATTERN
from .files import record_file
from .reader import RECORD_KINDS



def slug(name: str) -> str:
    """A source id from a file name: its stem in lower case, each run of characters other than
    a-z, 0-9, '_' and '-' made one '-', no '-' at either end, at most 80 characters."""
    value = re.sub(r"[^a-z0-9_-]+", "-", Path(name).stem.lower()).strip("-_")
    return value[:80].rstrip("-_")


class AuthoringError(ValueError):
    """What the curator asked cannot be done (the message says why and what to do)."""


def new_source(root: Path, text_file: Path, source_id: str | None, meta: dict) -> list[Path]:
    """Copy ``text_file`` into seeds/, write its metadata (with the sha256) and empty fixture files.

    Refuses to overwrite anything. Returns the files written.
    """
    source_id = source_id or slug(text_file.name)
    if not re.match(SOURCE_ID_PATTERN, source_id):
        raise AuthoringError(f"source id {source_id!r} must match {SOURCE_ID_PATTERN}; give one with --id")
    raw, text = _source_text(text_file)
    if not re.fullmatch(r"[a-z]{2,3}", meta["language"] or ""):
        raise AuthoringError(f"--language {meta['language']!r} is not an ISO 639 code in lower case, such as ar or en")
    if not (meta.get("publisher") or "").strip():
        raise AuthoringError("--publisher is empty: who published the text, in English or transliterated")
    seed, seed_meta, directory = (root / "seeds" / f"{source_id}.txt", root / "seeds" / f"{source_id}.json",
                                  root / "fixtures" / source_id)
    for existing in (seed, seed_meta, directory):
        if existing.exists():
            raise AuthoringError(f"{existing.relative_to(root)} already exists; choose another --id")
    published = dt.datetime.fromisoformat(meta["published_at"])
    if published.tzinfo is None:
        raise AuthoringError("--published-at needs a UTC offset, e.g. 2017-01-18T19:04:00+02:00")
    seed.parent.mkdir(parents=True, exist_ok=True)
    seed.write_bytes(raw)
    document = {"publisher": meta["publisher"], "publisher_ar": meta.get("publisher_ar"),
                "published_at": published.isoformat(), "language": meta["language"],
                "title": meta.get("title") or text.strip().splitlines()[0][:300],
                "url": meta.get("url"), "sha256": hashlib.sha256(raw).hexdigest()}
    seed_meta.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    directory.mkdir(parents=True)
    written = [seed, seed_meta]
    for kind in RECORD_KINDS:
        path = directory / f"{kind}.json"
        path.write_text("[]\n", encoding="utf-8")
        written.append(path)
    return written


def _source_text(text_file: Path) -> tuple[bytes, str]:
    """(bytes, text) of a new source's file: UTF-8, not empty, without a byte-order mark (no
    character of the text: it would be offset 0 and the title's first)."""
    raw = text_file.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise AuthoringError(f"{text_file} is not UTF-8 ({error}); convert it first") from None
    if text.startswith("\ufeff"):
        raw, text = raw[len(codecs.BOM_UTF8):], text[1:]
    if not text.strip():
        raise AuthoringError(f"{text_file} holds no text; a source is the text its records point into")
    return raw, text


def source_text(root: Path, source_id: str) -> str:
    path = root / "seeds" / f"{source_id}.txt"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in (root / "seeds").glob("*.txt"))) or "none"
        raise AuthoringError(f"no seeds/{source_id}.txt (sources: {known})")
    return path.read_bytes().decode("utf-8")


@dataclass(frozen=True)
class MarkedSpan:
    start: int
    end: int
    kind: str  # participant / place / event / statement
    record: str
    where: str  # the span's key in its record: evidence, mentions, span, date.expression, …


def record_spans(root: Path, source_id: str) -> list[MarkedSpan]:
    """Every span with offsets of every record of a source, read from its fixture files as they are."""
    found = []
    for kind in RECORD_KINDS:
        path = record_file(root / "fixtures" / source_id, kind)
        if path is None:
            continue
        text = path.read_text(encoding="utf-8")
        records = ([json.loads(line) for line in text.splitlines() if line.strip()] if path.suffix == ".ndjson"
                   else json.loads(text))
        for record in records:
            for where, span in _spans_in(record, ""):
                if isinstance(span.get("start"), int) and isinstance(span.get("end"), int):
                    found.append(MarkedSpan(span["start"], span["end"], kind.rstrip("s"), record.get("id", "?"), where))
    return sorted(found, key=lambda s: (s.start, -s.end, s.record))


def _spans_in(value, where: str):
    if spans.is_span(value):
        yield where.strip("."), value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from _spans_in(inner, f"{where}.{key}")
    elif isinstance(value, list):
        for inner in value:
            yield from _spans_in(inner, where)


COLOURS = ("\x1b[30;43m", "\x1b[30;46m", "\x1b[30;42m", "\x1b[30;45m")
RESET = "\x1b[0m"


def marked_text(text: str, marks: list[MarkedSpan], colour: bool) -> str:
    """The text with each span marked: ``[…]n`` (n: its number in the legend), or in colour."""
    opening: dict[int, list[int]] = {}
    closing: dict[int, list[int]] = {}
    for number, mark in enumerate(marks, 1):
        opening.setdefault(mark.start, []).append(number)
        closing.setdefault(mark.end, []).append(number)
    # nested as brackets nest: of the spans that open at one place the longest first, of those that
    # close at one place the last opened first (the inner one), so that each ]n closes its own [
    for numbers in opening.values():
        numbers.sort(key=lambda n: (-marks[n - 1].end, n))
    for numbers in closing.values():
        numbers.sort(key=lambda n: (-marks[n - 1].start, marks[n - 1].end - marks[n - 1].start, -n))
    out, depth = [], 0
    for position, char in enumerate(text + "\0"):
        for number in closing.get(position, ()):
            depth -= 1
            out.append(f"]{number}" if not colour else (COLOURS[(depth - 1) % 4] if depth else RESET))
        for number in opening.get(position, ()):
            depth += 1
            out.append("[" if not colour else COLOURS[(depth - 1) % 4])
        if char != "\0":
            out.append(char)
    return "".join(out)


def legend(marks: list[MarkedSpan]) -> list[str]:
    return [f"{number:>4}  {mark.start}-{mark.end}  {mark.kind} {mark.record}  ({mark.where})"
            for number, mark in enumerate(marks, 1)]

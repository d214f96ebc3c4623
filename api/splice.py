"""Answers assembled from stored JSON text, never decoded (issue 20).

A record is stored as JSON text with a line break between its top-level
members (models.documents.record_text), so ``fields=`` keeps some members and
drops the others, and ``include=`` replaces one member: the summary of a
participant or place by the record others embed (its ``embedded`` text), a list
of statement ids or an event id by the stored documents. The ids are read from
the member by a pattern, the texts they name are fetched for a whole batch in one
query (models.queries.texts_by_id), and the answer is joined from the pieces.
The result is the very JSON the decode-and-encode path gave (tests/test_splice.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from collections.abc import Callable

from models import changes, documents, queries
from models.records import Event, Participant, Place, Statement

#: records assembled together (one query for the texts of their embedded records)
BATCH = 500

#: a flat JSON object that starts with its id: the summary of a participant or place, as every record
#: that names one holds it (strings may hold braces and escaped quotes; the summary holds no object)
#: (possessive: a run of plain characters is taken in one step, never given back)
SUMMARY = r'\{"id":"([^"\\]*+)"(?:[^{}"]++|"(?:[^"\\]++|\\.)*+")*+\}'
_PARTICIPANT_LINK = re.compile(r'"participant":' + SUMMARY)
#: the id at the start of a summary (a record id holds no quote or backslash: models.vocabulary)
_LINKED_ID = re.compile(r'"participant":\{"id":"([^"]*)"')
_SUMMARY_ID = re.compile(r'\{"id":"([^"]*)"')
_STRING = re.compile(r'"([^"\\]*)"')


@dataclass(frozen=True)
class Splice:
    """One ``include``: which member it rewrites, whose texts it embeds and how."""

    member: str
    model: type
    column: str  # "embedded" (participants, places as others embed them) or "doc"
    ids: Callable[[str], list[str]]  # the ids the member names
    rewrite: Callable[[str, str, dict[str, str]], str]  # (member, name, texts by id) -> member


def _linked_ids(member: str) -> list[str]:
    return _LINKED_ID.findall(member)


def _summary_id(member: str) -> list[str]:
    found = _SUMMARY_ID.match(member, member.index(":") + 1)
    return [found.group(1)] if found else []


def _list_ids(member: str) -> list[str]:
    return _STRING.findall(member, member.index(":") + 1)


def _value_id(member: str) -> list[str]:
    found = _STRING.match(member, member.index(":") + 1)
    return [found.group(1)] if found else []


def _links(member: str, name: str, texts: dict[str, str]) -> str:
    """Each participant link's summary replaced by the participant (kept when it is missing)."""
    def embedded(found: re.Match) -> str:
        text = texts.get(found.group(1))
        return '"participant":' + text if text is not None else found.group(0)
    return _PARTICIPANT_LINK.sub(embedded, member)


def _one(member: str, name: str, texts: dict[str, str]) -> str:
    """A member naming one record (a summary or an id, or null) as that record, if it exists."""
    ids = _summary_id(member) if member[len(name) + 3] == "{" else _value_id(member)
    text = texts.get(ids[0]) if ids else None
    return f'"{name}":{text}' if text is not None else member


def _many(member: str, name: str, texts: dict[str, str]) -> str:
    """A member listing ids as the list of those records (the ones that exist)."""
    return f'"{name}":[' + ",".join(texts[i] for i in _list_ids(member) if i in texts) + "]"


#: the ``include`` values of the resources (api/resources.py)
PARTICIPANTS = Splice("participants", Participant, "embedded", _linked_ids, _links)
PLACE = Splice("place", Place, "embedded", _summary_id, _one)
STATEMENTS = Splice("statements", Statement, "doc", _list_ids, _many)
SPEAKER = Splice("speaker", Participant, "embedded", _summary_id, _one)
EVENT = Splice("event", Event, "doc", _value_id, _one)


def assembled(kind: str, rows, splices: list[Splice], wanted: list[str] | None):
    """The served texts of ``rows`` (each with ``id`` and ``doc``) with only the ``wanted``
    members (and ``id``) and the records of ``splices`` embedded, batch by batch."""
    batch: list[dict[str, str]] = []
    for text in changes.with_releases(kind, rows, breaks=True):
        batch.append(_selected(documents.members(text), wanted))
        if len(batch) >= BATCH:
            yield from _finished(batch, splices)
            batch = []
    if batch:
        yield from _finished(batch, splices)


def one(text: str, splices: list[Splice], wanted: list[str] | None) -> str:
    """One record's served text (``text``: its stored text with its releases, in members)."""
    return _finished([_selected(documents.members(text), wanted)], splices)[0]


def _selected(members: dict[str, str], wanted: list[str] | None) -> dict[str, str]:
    if not wanted:
        return members
    return {name: member for name, member in members.items() if name == "id" or name in wanted}


def _finished(batch: list[dict[str, str]], splices: list[Splice]) -> list[str]:
    """The records of ``batch`` joined, the members of ``splices`` first rewritten with the texts
    of the records they name (one query for all of them)."""
    splices = [splice for splice in splices if any(splice.member in record for record in batch)]
    if splices:
        wanted: dict[tuple, list[str]] = {}
        for splice in splices:
            ids = wanted.setdefault((splice.model, splice.column), [])
            for record in batch:
                if splice.member in record:
                    ids.extend(splice.ids(record[splice.member]))
        texts = queries.texts_by_id(wanted)
        for splice in splices:
            found = texts.get((splice.model, splice.column), {})
            for record in batch:
                if splice.member in record:
                    record[splice.member] = splice.rewrite(record[splice.member], splice.member, found)
    return [documents.joined(record.values()) for record in batch]

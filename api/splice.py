"""Answers assembled from stored JSON text, never decoded (issue 20).

A record is stored as JSON text with a line break between its top-level
members (models.documents.record_text), so ``fields=`` keeps some members and
drops the others, and ``include=`` replaces one member: the summary of a
participant or place by the record others embed (its ``embedded`` text), a list
of statement ids or an event id by the stored documents. The ids are read from
the member by a pattern, the texts they name are fetched for a whole batch in one
query (models.queries.texts_by_id), and the answer is joined from the pieces.
A page that embeds only participants is joined first and its links rewritten in
one pass over the page (:func:`_page_in_one_pass`): what starts a participant
link occurs nowhere else in an event's document.
The result is the very JSON the decode-and-encode path gave (tests/test_splice.py).
"""
from __future__ import annotations

import re
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from models import changes, documents, queries
from models.records import Event, Participant, Place, Statement

from . import database

#: records assembled together (one query for the texts of their embedded records)
BATCH = 500
#: the most memory the embedded texts a process keeps may take, all kept snapshots together
#: (:class:`EmbeddedTexts`; counted as Python holds them: 2 bytes a character for Arabic)
EMBEDDED_CACHE_BYTES = 32 * 1024 * 1024

#: a flat JSON object that starts with its id: the summary of a participant or place, as every record
#: that names one holds it (strings may hold braces and escaped quotes; the summary holds no object)
#: (possessive: a run of plain characters is taken in one step, never given back)
SUMMARY = r'\{"id":"([^"\\]*+)"(?:[^{}"]++|"(?:[^"\\]++|\\.)*+")*+\}'


class Syntax:
    """What the splices look for and write in stored JSON text, as ``str`` or as UTF-8 ``bytes``:
    a page without ``fields`` is joined from the stored bytes where the backend hands them over
    (:func:`page`), other pages, items and exports from text. Every function below takes either
    and works in the type it is given (ids and texts by id in the same type as the member)."""

    def __init__(self, encode: Callable):
        self.encode = encode
        self.link = encode('"participant":{"id":"')
        self.own_link = encode('{"participant":{"id":"')  # a link as the first member of its object
        self.link_key = encode('"participant":')
        #: a participant link, summary and all
        self.link_pattern = re.compile(encode(r'"participant":' + SUMMARY))
        #: the id at the start of a summary (a record id holds no quote or backslash: models.vocabulary)
        self.linked_id = re.compile(encode(r'"participant":\{"id":"([^"]*)"'))
        self.summary_id = re.compile(encode(r'\{"id":"([^"]*)"'))
        self.string = re.compile(encode(r'"([^"\\]*)"'))
        self.open, self.close, self.backslash, self.quote = encode("{"), encode("}"), encode("\\"), encode('"')
        self.colon, self.comma, self.empty = encode(":"), encode(","), encode("")
        self.member_break, self.line_break = encode(documents.MEMBER_BREAK), encode("\n")
        self._names: dict[str, tuple] = {}

    def name(self, name: str) -> tuple:
        """``"name":`` and where member ``name`` starts as a text's first member and after a break."""
        found = self._names.get(name)
        if found is None:
            head = self.encode(f'"{name}":')
            found = self._names[name] = (head, self.open + head, self.member_break + head)
        return found


SYNTAX = {str: Syntax(lambda text: text), bytes: Syntax(str.encode)}


@dataclass(frozen=True)
class Splice:
    """One ``include``: which member it rewrites, whose texts it embeds and how."""

    member: str
    model: type
    column: str  # "embedded" (participants, places as others embed them) or "doc"
    ids: Callable[[str | bytes], list]  # the ids the member names (of the member's type)
    rewrite: Callable[[str | bytes, str, Mapping], str | bytes]  # (member, name, texts by id) -> member
    #: what it rewrites occurs in no other member of the records that embed it, nor in the releases
    #: (only the objects of an event's participants have a "participant" key: tests/test_splice.py
    #: checks it against the published schema), so a whole page can be rewritten in one pass
    page_wide: bool = False


def _linked_ids(member):
    return SYNTAX[type(member)].linked_id.findall(member)


def _summary_id(member):
    syntax = SYNTAX[type(member)]
    found = syntax.summary_id.match(member, member.index(syntax.colon) + 1)
    return [found.group(1)] if found else []


def _list_ids(member):
    syntax = SYNTAX[type(member)]
    return syntax.string.findall(member, member.index(syntax.colon) + 1)


def _value_id(member):
    syntax = SYNTAX[type(member)]
    found = syntax.string.match(member, member.index(syntax.colon) + 1)
    return [found.group(1)] if found else []


def _links(member, name: str, texts: Mapping):
    """Each participant link's summary replaced by the participant (kept when it is missing).

    The member is cut where each link starts (a quote inside a JSON string is escaped, so the
    start cannot occur in one) and a summary ends at its first ``}`` when the text before it holds
    no backslash, no ``{`` and an odd number of quotes (the id's closing quote, then pairs): then
    the brace is outside every string. A member where that does not hold (a name with a brace, an
    escape) goes through the pattern instead; both give the same text (tests/test_splice.py).
    Cutting is a third of the pattern's cost, which was 0.3 ms of a first page of 50 events."""
    syntax = SYNTAX[type(member)]
    head, *links = member.split(syntax.link)
    # No escape, so no quote inside a string; every link the first member of an object of its own
    # (as models/load/writer.py writes them), so each brings two braces of structure, its object's and
    # its summary's; and no more braces than that: then none is inside a string, no summary nests an
    # object, and each summary ends at the first brace after its start, with nothing to check per link
    plain = (syntax.backslash not in member and member.count(syntax.own_link) == len(links)
             and member.count(syntax.open) == member.count(syntax.close) == 2 * len(links))
    return _rejoined(member, head, links, None, texts, checked=not plain)


def _rejoined(text, head, links: list, ids: list | None, texts: Mapping, checked: bool = True):
    """``text`` cut before each link (``head``, then ``links``, each starting with its id, given as
    ``ids`` when known) joined again with each summary replaced by its text in ``texts`` (kept when
    missing). ``checked``: each summary is checked to end at its first ``}`` (:func:`_links`); the
    first that does not sends the whole text through the pattern."""
    syntax = SYNTAX[type(text)]
    quote, close, backslash, open_ = syntax.quote, syntax.close, syntax.backslash, syntax.open
    link_key, get, out = syntax.link_key, texts.get, [head]
    for number, link in enumerate(links):
        end = link.find(close)
        if end < 0:
            return _links_by_pattern(text, texts)
        if checked:
            summary = link[:end]
            if backslash in summary or open_ in summary or not summary.count(quote) % 2:
                return _links_by_pattern(text, texts)
        found = get(ids[number] if ids is not None else link[:link.index(quote)])
        out += (link_key, found, link[end + 1:]) if found is not None else (syntax.link, link)
    return syntax.empty.join(out)


def _links_by_pattern(member, texts: Mapping):
    syntax = SYNTAX[type(member)]

    def embedded(found: re.Match):
        text = texts.get(found.group(1))
        return syntax.link_key + text if text is not None else found.group(0)
    return syntax.link_pattern.sub(embedded, member)


def _one(member, name: str, texts: Mapping):
    """A member naming one record (a summary or an id, or null) as that record, if it exists."""
    syntax = SYNTAX[type(member)]
    ids = _summary_id(member) if member.startswith(syntax.open, len(name) + 3) else _value_id(member)
    text = texts.get(ids[0]) if ids else None
    return syntax.name(name)[0] + text if text is not None else member


def _many(member, name: str, texts: Mapping):
    """A member listing ids as the list of those records (the ones that exist)."""
    syntax = SYNTAX[type(member)]
    listed = syntax.comma.join([texts[i] for i in _list_ids(member) if i in texts])
    return syntax.encode(f'"{name}":[') + listed + syntax.encode("]")


#: the ``include`` values of the resources (api/resources.py)
PARTICIPANTS = Splice("participants", Participant, "embedded", _linked_ids, _links, page_wide=True)
PLACE = Splice("place", Place, "embedded", _summary_id, _one)
STATEMENTS = Splice("statements", Statement, "doc", _list_ids, _many)
SPEAKER = Splice("speaker", Participant, "embedded", _summary_id, _one)
EVENT = Splice("event", Event, "doc", _value_id, _one)


def member_span(text, name: str) -> tuple[int, int] | None:
    """Where the member ``name`` of a stored record text is (models.documents.record_text): found
    by its name after a member break, one search in C, no split of the whole text."""
    syntax = SYNTAX[type(text)]
    _, first, later = syntax.name(name)
    if text.startswith(first):
        start = 1
    else:
        start = text.find(later)
        if start < 0:
            return None
        start += len(syntax.member_break)
    end = text.find(syntax.member_break, start)
    return start, end if end >= 0 else len(text) - 1


class Members:
    """A record's stored text (with its releases) cut into the members ``fields=`` keeps."""

    __slots__ = ("members",)

    def __init__(self, text: str, wanted: list[str]):
        self.members = {name: member for name, member in documents.members(text).items()
                        if name == "id" or name in wanted}

    def get(self, name: str) -> str | None:
        return self.members.get(name)

    def put(self, name: str, member: str) -> None:
        self.members[name] = member

    def served(self) -> str:
        return documents.joined(self.members.values())


class Whole:
    """A record's stored text (with its releases) served whole: the members that are replaced
    are found where they are (:func:`member_span`), and the text is joined again once, with
    all of them replaced (cutting and joining the text for each member was a sixth of the
    assembly of a first page of 50 events)."""

    __slots__ = ("text", "spans", "found")

    def __init__(self, text: str | bytes, wanted: None = None):
        self.text = text
        self.spans: dict[str, tuple[int, int]] = {}  # of the members got
        self.found: list[tuple[int, int, str | bytes]] = []  # (start, end, new member): put, in any order

    def get(self, name: str) -> str | bytes | None:
        span = self.spans[name] = member_span(self.text, name)
        return self.text[span[0]:span[1]] if span else None

    def put(self, name: str, member: str | bytes) -> None:
        start, end = self.spans.get(name) or member_span(self.text, name)
        self.found.append((start, end, member))

    def pieces(self, end: int | None = None) -> list:
        """The text up to ``end`` as consecutive pieces, the members put in place of theirs (still
        with the member breaks)."""
        text, parts, at = self.text, [], 0
        for start, stop, member in sorted(self.found):
            parts += (text[at:start], member)
            at = stop
        parts.append(text[at:end])
        return parts

    def served(self) -> str:
        return documents.compact("".join(self.pieces()) if self.found else self.text)


def assembled(kind: str, rows, splices: list[Splice], wanted: list[str] | None):
    """The served texts of ``rows`` (each with ``id`` and ``doc``) with only the ``wanted``
    members (and ``id``) and the records of ``splices`` embedded, batch by batch. (The snapshot's
    key is taken now: an export's body is read after the request's context is gone.)"""
    return _assembled(kind, rows, splices, wanted, database.snapshot_key())


def _assembled(kind: str, rows, splices: list[Splice], wanted: list[str] | None, snapshot: tuple | None):
    cut = Members if wanted else Whole
    batch: list[Members | Whole] = []
    for text in changes.with_releases(kind, rows, breaks=True):
        batch.append(cut(text, wanted))
        if len(batch) >= BATCH:
            yield from _finished(batch, splices, snapshot)
            batch = []
    if batch:
        yield from _finished(batch, splices, snapshot)


def page(kind: str, rows: list, splices: list[Splice], wanted: list[str] | None):
    """The records of a page (``rows``, each with ``id`` and ``doc``) as one JSON array, as
    served: UTF-8 bytes when the documents were read so (models.changes.release_columns), else
    text; with ``fields`` (``wanted``) the documents must be text.

    Without ``fields`` the array is joined at once from slices of the stored documents, the
    rewritten members and the releases, and its member breaks are removed in one pass: record by
    record (:func:`assembled`), cutting, joining and compacting each text and then joining the
    records again was most of what ``include`` cost a page of 50 events; decoding the stored
    documents and encoding the page again were a sixth of the first page."""
    if wanted:
        return "[" + ",".join(assembled(kind, rows, splices, wanted)) + "]"
    if not rows:
        return "[]"
    return _whole_page(rows, changes.releases_of_rows(kind, rows), splices, database.snapshot_key())


def _whole_page(rows: list, releases: list[tuple], splices: list[Splice], snapshot: tuple | None):
    syntax = SYNTAX[type(rows[0].doc)]
    if len(splices) <= 1 and all(splice.page_wide for splice in splices):
        return _page_in_one_pass(rows, releases, splices, snapshot, syntax)
    records = [Whole(row.doc) for row in rows]
    _rewrite(records, splices, snapshot)
    parts = [syntax.encode("[")]
    for record, (first, last) in zip(records, releases):
        parts += record.pieces(-1)  # (its closing brace comes after the releases)
        parts += (syntax.encode(changes.release_members(first, last)), syntax.comma)
    parts[-1] = syntax.encode("]")
    return syntax.empty.join(parts).replace(syntax.line_break, syntax.empty)


def _page_in_one_pass(rows: list, releases: list[tuple], splices: list[Splice], snapshot: tuple | None,
                      syntax: Syntax):
    """:func:`_whole_page` when no splice or one page-wide one is asked for: the stored documents and
    their releases joined as they are, then the splice's links rewritten over the whole page at once
    (finding the member of each record and rewriting it record by record was a third of a page of
    50 events with its participants)."""
    encode, releases_text = syntax.encode, {}
    parts = [encode("[")]
    for row, pair in zip(rows, releases):
        tail = releases_text.get(pair)
        if tail is None:
            tail = releases_text[pair] = encode(changes.release_members(*pair)) + syntax.comma
        parts += (row.doc[:-1], tail)
    parts[-1] = parts[-1][:-1] + encode("]")
    text = syntax.empty.join(parts)
    for splice in splices:
        text = _links_of_page(text, splice, snapshot, syntax)
    return text.replace(syntax.line_break, syntax.empty)


def _links_of_page(text, splice: Splice, snapshot: tuple | None, syntax: Syntax):
    """Every link of a page's text replaced by the record it names, in one pass: the page cut
    where each link starts (a literal that cannot occur inside a JSON string: its quotes would
    be escaped), each piece starting with the id; a summary ends at its first ``}`` when the
    text before it holds no backslash, no ``{`` and an odd number of quotes (the id's closing
    quote, then pairs): then the brace is outside every string. A piece where that does not
    hold (a name with a brace, an escape) sends the page through the pattern instead, which
    gives the same text (tests/test_splice.py). Unlike a member, a page holds other texts, so
    every summary is checked."""
    head, *links = text.split(syntax.link)
    if not links:
        return text
    key = (splice.model, splice.column)
    try:
        ids = [link[:link.index(syntax.quote)] for link in links]
    except ValueError:  # a link cut short (no quote after its id): no writer makes one; the pattern decides
        texts = _texts({key: splice.ids(text)}, snapshot, utf8=isinstance(text, bytes)).get(key, {})
        return _links_by_pattern(text, texts)
    texts = _texts({key: ids}, snapshot, utf8=isinstance(text, bytes)).get(key, {})
    return _rejoined(text, head, links, ids, texts)


def one(text: str, splices: list[Splice], wanted: list[str] | None) -> str:
    """One record's served text (``text``: its stored text with its releases, in members)."""
    record = Members(text, wanted) if wanted else Whole(text)
    return _finished([record], splices, database.snapshot_key())[0]


class EmbeddedTexts:
    """Participants and places as other records embed them, kept per snapshot.

    A page of 50 events names ~175 participants, most of them the same few hundred on every
    page; reading their texts was a query of its own on every page (0.14 ms of a 3.4 ms first
    page at 100,000 events). A text is kept under the (dataset version, release) of the snapshot
    it was read in, and a load that changes anything makes a new one: a request finds only texts
    of its own snapshot's key, so what it splices is what the database held for it. Two keys are
    kept (replicas, or a load landing while requests of the old one finish); once the kept texts
    take ``max_bytes`` (both keys together), no more are kept until the older key goes. Pages
    joined as bytes keep their own copies (keys ending in True), apart from the text ones that
    items, ``fields=`` pages and exports use: both count against the one bound."""

    def __init__(self, max_bytes: int = EMBEDDED_CACHE_BYTES):
        self.max_bytes = max_bytes
        #: snapshot key -> ({(model, column, utf8): {id: text}}, [bytes kept]) (utf8: both as bytes)
        self.snapshots: dict[tuple, tuple[dict, list]] = {}
        self.lock = threading.Lock()  # (taken to keep texts only: a page whose texts are kept reads freely)

    def _of(self, snapshot: tuple) -> tuple[dict, list]:
        kept = self.snapshots.get(snapshot)
        if kept is None:
            with self.lock:
                kept = self.snapshots.get(snapshot)
                if kept is None:
                    kept = ({}, [0])
                    self.snapshots = {**dict(list(self.snapshots.items())[-1:]), snapshot: kept}
        return kept

    def texts(self, snapshot: tuple, key: tuple) -> dict:
        """The texts of kind ``key`` kept for ``snapshot``, by id (read only: :meth:`keep` adds)."""
        return self._of(snapshot)[0].get(key) or {}

    @staticmethod
    def cost(record_id: str | bytes, text: str | bytes) -> int:
        """The memory one kept text takes: the two strings as Python holds them, and its dict slot."""
        return sys.getsizeof(text) + sys.getsizeof(record_id) + 100

    def keep(self, snapshot: tuple, key: tuple, found: dict) -> None:
        by_key, size = self._of(snapshot)
        with self.lock:
            texts = by_key.setdefault(key, {})
            used = sum(kept[1][0] for kept in self.snapshots.values())
            for record_id, text in found.items():
                if record_id in texts:  # (another thread read it too)
                    continue
                cost = self.cost(record_id, text)
                if used + cost > self.max_bytes:
                    return
                texts[record_id] = text
                size[0] += cost
                used += cost


EMBEDDED = EmbeddedTexts()


def _texts(wanted: dict[tuple, list], snapshot: tuple | None, utf8: bool = False) -> dict[tuple, Mapping]:
    """:func:`models.queries.texts_by_id`, with the embedded texts kept in :data:`EMBEDDED` for
    ``snapshot`` (the request's (dataset version, release)) read from there: when all of a kind's
    ids are kept, the kept texts themselves are handed on (the rewrites only look up the ids they
    find), not copied; when some were read, one dict of the request's ids.
    ``utf8``: the ids are bytes, and so are the texts given for them (kept apart from the text ones)."""
    known: dict[tuple, Mapping] = {}
    to_read: dict[tuple, list] = {}
    for key, ids in wanted.items():
        if key[1] == "embedded" and snapshot is not None:
            known[key] = kept = EMBEDDED.texts(snapshot, (*key, utf8))
            to_read[key] = [record_id for record_id in ids if record_id not in kept]
        else:
            to_read[key] = ids
    for key, texts in _read({key: ids for key, ids in to_read.items() if ids}, utf8).items():
        if key in known:
            EMBEDDED.keep(snapshot, (*key, utf8), texts)
            # the texts of this request's ids, read or kept, in one dict (a text past the bound is
            # not kept); a ChainMap over both cost a Python call per lookup, a tenth of a deep page
            kept = known[key]
            known[key] = {record_id: text for record_id in wanted[key]
                          if (text := texts.get(record_id, kept.get(record_id))) is not None}
        else:
            known[key] = texts
    return known


def _read(wanted: dict[tuple, list], utf8: bool) -> dict[tuple, dict]:
    """:func:`models.queries.texts_by_id`, for ids and texts as bytes when ``utf8``."""
    if not wanted:
        return {}
    if not utf8:
        return queries.texts_by_id(wanted)
    found = queries.texts_by_id({key: [i.decode() for i in ids] for key, ids in wanted.items()})
    return {key: {i.encode(): text.encode() for i, text in texts.items()} for key, texts in found.items()}


def _finished(batch: list[Members | Whole], splices: list[Splice], snapshot: tuple | None) -> list[str]:
    """The records of ``batch`` as served, the members of ``splices`` first rewritten."""
    _rewrite(batch, splices, snapshot)
    return [record.served() for record in batch]


def _rewrite(batch: list[Members | Whole], splices: list[Splice], snapshot: tuple | None) -> None:
    """Put in each record of ``batch`` the members of ``splices`` rewritten with the texts of the
    records they name (one query for all of them), in the type the records hold (str or bytes)."""
    found_members = [(splice, [(record, record.get(splice.member)) for record in batch]) for splice in splices]
    found_members = [(splice, [(r, m) for r, m in pairs if m is not None]) for splice, pairs in found_members]
    found_members = [(splice, pairs) for splice, pairs in found_members if pairs]
    if not found_members:
        return
    wanted: dict[tuple, list] = {}
    for splice, pairs in found_members:
        ids = wanted.setdefault((splice.model, splice.column), [])
        for _, member in pairs:
            ids.extend(splice.ids(member))
    texts = _texts(wanted, snapshot, utf8=isinstance(found_members[0][1][0][1], bytes))
    for splice, pairs in found_members:
        found = texts.get((splice.model, splice.column), {})
        for record, member in pairs:
            record.put(splice.member, splice.rewrite(member, splice.member, found))

"""Full-text search: one query language, one way of building index rows, for every backend.

The user's text is never passed to an engine as syntax: it is parsed here
(:func:`parse_query`), reduced to normalised tokens (models/text.py), and each
backend quotes every token in its own syntax (models/backends/). Index rows
(models/search_index.py) hold each record's words and their forms, plus every
name of the participants and places it names (:class:`Gazetteer`), so the
English and Arabic spellings of a name find the same records.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import backends
from . import text as textnorm
from .search_index import END_ONLY, STARTED, UNDATED
from .vocabulary import MAX_QUERY_LENGTH, SEARCH_KINDS

MAX_QUERY_TERMS = 12
KINDS = SEARCH_KINDS


class QueryError(ValueError):
    """The search text cannot be turned into a query (reported as a 400)."""


# --------------------------------------------------------------------------- parsing


@dataclass
class Query:
    words: list[str] = field(default_factory=list)        # each must match (prefix)
    phrases: list[list[str]] = field(default_factory=list)  # each must appear in order
    excluded: list[str] = field(default_factory=list)     # none may match (prefix)
    raw: str = ""
    #: the query in the backend's syntax, worked out once per query (a request may search several times)
    compiled: str | None = field(default=None, compare=False, repr=False)

    @property
    def positive(self) -> list[str]:
        return self.words + [w for phrase in self.phrases for w in phrase]


_PART = re.compile(r'"([^"]*)"|(\S+)')


def parse_query(raw: str) -> Query:
    """Plain words (all must match), "quoted phrases", and -word to exclude.

    Anything else (operators, ``*``, ``:``, brackets, SQL) is only text: it is
    normalised away with the punctuation. Raises QueryError for a query that is
    too long, has an unclosed quote, or finds nothing to look for.
    """
    if len(raw) > MAX_QUERY_LENGTH:
        raise QueryError(f"is {len(raw)} characters long; the limit is {MAX_QUERY_LENGTH}")
    if "\x00" in raw:
        raise QueryError("contains a NUL character")
    if raw.count('"') % 2:
        raise QueryError('has an unclosed double quote; close it to search for a phrase, or remove it')
    query = Query(raw=raw)
    for match in _PART.finditer(raw):
        phrase, word = match.groups()
        if phrase is not None:
            tokens = textnorm.tokens(phrase)
            if len(tokens) == 1:
                query.words.extend(tokens)
            elif tokens:
                query.phrases.append(tokens)
        elif word.startswith("-") and len(word) > 1:
            query.excluded.extend(textnorm.tokens(word[1:]))
        else:
            query.words.extend(textnorm.tokens(word))
    query.words = list(dict.fromkeys(query.words))
    if len(query.positive) + len(query.excluded) > MAX_QUERY_TERMS:
        raise QueryError(f"has more than {MAX_QUERY_TERMS} words")
    if not query.positive:
        raise QueryError("has no word to search for (only punctuation, operators or excluded words)")
    return query


# --------------------------------------------------------------------------- writing


_NO_CANDIDATES = ((), ())  # one shared object: Gazetteer.expand skips it by identity


class Gazetteer:
    """Every name of every participant and place, to make a record findable in both languages.

    A record whose text names an entity in one spelling or language (Astana,
    آستانا, خميس) is indexed under all of that entity's names, so the English
    and Arabic queries find the same records. Only a name of a single entity
    does that: a surname two people share names neither of them for certain.
    """

    def __init__(self, entities: list[list[str]]):
        self.names: list[list[str]] = []
        self.by_first: dict[str, list[tuple[tuple[str, ...], int]]] = {}
        self._starting: dict[str, tuple] = {}  # token -> candidates (see expand)
        owners: dict[tuple[str, ...], set[int]] = {}
        for index, names in enumerate(entities):
            tokens = []
            for name in names:
                sequence = tuple(textnorm.tokens(name))
                if sequence:
                    owners.setdefault(sequence, set()).add(index)
                    tokens.extend(sequence)
            self.names.append(list(dict.fromkeys(tokens)))
        # a name shared by several entities (a surname, "the minister") does not say which one a
        # text means: it is searchable as written, but adds nobody's other names
        for sequence, indexes in owners.items():
            if len(indexes) == 1:
                self.by_first.setdefault(sequence[0], []).append((sequence, next(iter(indexes))))
        # the same names, for expand: one-token names by token, longer ones by their first two tokens
        self._singles: dict[str, list[int]] = {}
        self._pairs: dict[tuple[str, str], list[tuple[tuple[str, ...], int]]] = {}
        for first, entries in self.by_first.items():
            for sequence, index in entries:
                if len(sequence) == 1:
                    self._singles.setdefault(first, []).append(index)
                else:
                    self._pairs.setdefault((first, sequence[1]), []).append((sequence, index))
        self._firsts = {first for first, _ in self._pairs}

    def expand(self, tokens: list[str]) -> list[str]:
        """Every name of the entities whose name (in any of its forms) appears in ``tokens``.

        A name matches at a position when the token there has the name's first token
        among its :func:`~models.text.index_forms` and the following tokens equal the
        rest of the name. Names are looked up by their first two tokens, and each
        distinct token's forms are looked up once, so the cost does not grow with the
        number of entities sharing a first token (every محمد).
        """
        found: set[int] = set()
        starting, candidates, nothing = self._starting, self._candidates, _NO_CANDIDATES
        pairs = self._pairs
        last = len(tokens) - 1
        # most tokens start no name: find the few that do without a Python-level loop step each
        entries = [starting.get(token) or candidates(token) for token in tokens]
        for position in [p for p, entry in enumerate(entries) if entry is not nothing]:
            singles, firsts = entries[position]
            if singles:
                found.update(singles)
            if firsts and position < last:
                following = tokens[position + 1]
                for form in firsts:
                    for sequence, index in pairs.get((form, following), ()):
                        if len(sequence) == 2 or tuple(tokens[position + 2:position + len(sequence)]) == sequence[2:]:
                            found.add(index)
        return [name for index in sorted(found) for name in self.names[index]]

    #: distinct tokens whose candidates are remembered (a load sees a few hundred thousand)
    CACHE_LIMIT = 500_000

    def _candidates(self, token: str) -> tuple[tuple[int, ...], tuple[str, ...]]:
        """(entities with a one-token name that is a form of ``token``,
        forms of ``token`` that start a longer name)."""
        forms = textnorm.index_forms(token)
        singles = tuple(index for form in forms for index in self._singles.get(form, ()))
        firsts = tuple(form for form in forms if form in self._firsts)
        if len(self._starting) >= self.CACHE_LIMIT:
            self._starting.clear()
        entry = self._starting[token] = (singles, firsts) if singles or firsts else _NO_CANDIDATES
        return entry

    def equivalents(self, words: list[str]) -> set[str]:
        """Every name token of the entities that a query word (a prefix) names."""
        out: set[str] = set()
        for names in self.names:
            if any(token.startswith(word) for token in names for word in words):
                out.update(names)
        return out


_gazetteers: dict[str, Gazetteer] = {}


def gazetteer_for(version: str, load_entities) -> Gazetteer:
    """The gazetteer of the loaded dataset, built once per dataset version and process."""
    gazetteer = _gazetteers.get(version)
    if gazetteer is None:
        gazetteer = Gazetteer(load_entities())
        _gazetteers.clear()
        _gazetteers[version] = gazetteer
    return gazetteer


class IndexWriter:
    """Collects search rows during a load and inserts them in batches."""

    BATCH = 2_000
    MAX_TOKEN = 200  # PostgreSQL refuses tsvector lexemes over 2 KB

    def __init__(self, db):
        self.db = db
        self.backend = backends.of(db)
        self.rows: list[dict] = []
        self.gazetteer = Gazetteer([])
        self._tokens: dict[str, list[str]] = {}
        self._forms: dict[str, list[str]] = {}
        self._entities: dict[tuple, tuple[list[str], list[str]]] = {}  # see add

    def set_entities(self, entities: list[list[str]]) -> None:
        self.gazetteer = Gazetteer(entities)
        self._entities.clear()

    #: pieces of text up to this length (names, aliases, titles) have their tokens remembered,
    #: up to TOKENS_CACHED of them (then the memo starts again: names come back often)
    SHORT_TEXT = 48
    TOKENS_CACHED = 50_000
    CACHE_LIMIT = 500_000  # distinct tokens whose index forms are remembered

    def tokens(self, piece: str) -> list[str]:
        if len(piece) > self.SHORT_TEXT:
            return [t[: self.MAX_TOKEN] for t in textnorm.tokens(piece)]
        found = self._tokens.get(piece)
        if found is None:
            if len(self._tokens) >= self.TOKENS_CACHED:
                self._tokens.clear()
            found = self._tokens[piece] = [t[: self.MAX_TOKEN] for t in textnorm.tokens(piece)]
        return found

    def forms_of(self, tokens: list[str]) -> list[str]:
        """:func:`forms_of`, remembering the forms of each distinct token."""
        cache = self._forms
        out: list[str] = []
        for token in tokens:
            forms = cache.get(token)
            if forms is None:
                if len(cache) >= self.CACHE_LIMIT:
                    cache.clear()
                forms = cache[token] = textnorm.index_forms(token)
            out.extend(forms)
        return out

    def add(self, kind: str, record_id: str, part: int, sort_date: str, texts: list[str],
            names: list[tuple] = ()) -> None:
        """One record: its own ``texts``, and the ``names`` it is also found by.

        ``names`` are (key, [name, …]) of entities: the tokens, forms and gazetteer
        expansion of one entity's names are the same in every record that names
        it, so they are worked out once per key.
        """
        tokens: list[str] = []
        for piece in texts:
            if piece:
                tokens.extend(self.tokens(piece))
        forms = self.forms_of(tokens) + self.gazetteer.expand(tokens)
        for key, entity_names in names:
            entity = self._entities.get(key)
            if entity is None:
                entity = self._entities[key] = self._entity_terms(entity_names)
            tokens.extend(entity[0])
            forms.extend(entity[1])
        self.rows.append({
            "kind": kind,
            "part": part,
            "record_id": record_id,
            "sort_date": sort_date,
            "body": " " + " ".join(tokens) + " ",
            "forms": " ".join(dict.fromkeys(forms)),
        })
        if len(self.rows) >= self.BATCH:
            self.flush()

    def _entity_terms(self, names: list[str]) -> tuple[list[str], list[str]]:
        tokens: list[str] = []
        for name in names:
            if name:
                tokens.extend(self.tokens(name))
        return tokens, self.forms_of(tokens) + self.gazetteer.expand(tokens)

    def add_event(self, doc: dict, names: list[tuple]) -> None:
        texts = [doc["title_en"], doc["summary_en"], *(s["text"] for s in doc["evidence"])]
        start, end = doc["date"]["start"], doc["date"]["end"]
        part = STARTED if start else END_ONLY if end else UNDATED
        self.add("event", doc["id"], part, start or end or "", texts, names)

    def add_statement(self, doc: dict) -> None:
        speaker = doc["speaker"]
        self.add("statement", doc["id"], STARTED, doc["reported_on"], [doc["text_ar"], doc["text_en"]],
                 [(("speaker", speaker["id"]), [speaker["name_en"], speaker["name_ar"]])])

    def add_entity(self, kind: str, doc: dict) -> None:
        texts = [doc["name_en"], doc["name_ar"], *doc["aliases"], doc.get("title_en"), doc.get("title_ar")]
        self.add(kind, doc["id"], UNDATED, "", texts)

    def flush(self) -> None:
        if self.rows:
            self.backend.write_search_rows(self.db, self.rows)
            self.rows = []

    def finish(self) -> None:
        self.flush()
        self.backend.finish_search_index(self.db)


# --------------------------------------------------------------------------- querying


def ranked_matches(query: Query, kinds: tuple[str, ...] = KINDS):
    """A select over SearchDoc of the matching records with a ``rank`` (lower is better)."""
    return backends.current().ranked_matches(query, kinds)


def matching_ids(query: Query, kind: str):
    """A subquery of record ids of ``kind`` matching ``query`` (for the ``q`` filter).

    No ranking here: a filter only needs the set, and ranking every match of a
    common word costs more than the rest of the request.
    """
    return backends.current().matching_ids(query, kind)


# --------------------------------------------------------------------------- highlighting


def highlight(text: str | None, query: Query, equivalents: set[str] = frozenset()) -> list[dict]:
    """[start, end) offsets in ``text`` (original spelling) of the words the query matched.

    ``equivalents`` are the other names of the entities the query names (see
    Gazetteer.equivalents): they matched through the index too, so they are marked.
    """
    if not text:
        return []
    wanted = query.positive + sorted(equivalents)
    marks = []
    for token, start, end in textnorm.token_spans(text):
        forms = textnorm.index_forms(token)
        if any(form.startswith(word) for form in forms for word in wanted):
            marks.append({"start": start, "end": end})
    return marks

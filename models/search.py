"""Full-text search: one query language, one way of building index rows, for every backend.

The user's text is never passed to an engine as syntax: it is parsed here
(:func:`parse_query`), reduced to normalised tokens (models/text.py), and each
backend quotes every token in its own syntax (models/backends/). Index rows
(models/search_index.py) hold each record's words and their forms, plus every
name of the participants and places it names (:class:`Gazetteer`), so the
English and Arabic spellings of a name find the same records.
"""
from __future__ import annotations

import bisect
import hashlib
import re
import threading
from dataclasses import dataclass, field

from . import backends
from . import text as textnorm
from .search_index import END_ONLY, STARTED, UNDATED
from .stemming import stems
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
    #: the query in the backend's syntax by mode (broad, exact), worked out once per query
    compiled: dict = field(default_factory=dict, compare=False, repr=False)
    #: word -> stem terms of the entities it names (see Gazetteer.alternatives)
    entity_terms: dict = field(default_factory=dict, compare=False, repr=False)

    def stems(self, word: str) -> tuple[str, ...]:
        """The stem terms a query word also matches (broad mode): its own and those of the
        entities it names."""
        return tuple(dict.fromkeys((*stems(word), *self.entity_terms.get(word, ()))))

    def knowing(self, gazetteer: "Gazetteer") -> "Query":
        """The query with the stem terms of the entities its words name (in place)."""
        self.entity_terms = gazetteer.alternatives(self)
        self.compiled.clear()
        return self

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


#: a private-use character before every entity term (see Gazetteer)
ENTITY_MARK = "\ue001"


@dataclass(frozen=True)
class Entry:
    """One entity for the gazetteer: its ``names`` (name_en, name_ar, aliases), its ``search_forms``
    (spellings and demonyms that find it but do not name it: السوري, Iranian) and a ``key`` that
    entities standing for one thing share (the participant Syria and the place Syria)."""

    names: tuple[str, ...]
    search_forms: tuple[str, ...] = ()
    key: str | None = None


def entry_of(record: dict) -> Entry:
    """The gazetteer entry of a participant or place document (or fixture record)."""
    country = record.get("country")
    key = f"country:{country}" if record.get("kind") == "country" and country else f"entity:{record['id']}"
    return Entry((record["name_en"], record["name_ar"], *record.get("aliases", ())),
                 tuple(record.get("search_forms", ())), key)


def entity_term(key: str) -> str:
    """The index term that stands for one entity: one token of letters and digits for every engine."""
    return ENTITY_MARK + hashlib.sha1(key.encode()).hexdigest()[:16]


def _sequences(entry: Entry):
    """(token sequence, is a search form) of each of an entry's names and search forms."""
    for marked, texts in ((False, entry.names), (True, entry.search_forms)):
        for text in texts:
            sequence = tuple(textnorm.tokens(text))
            if sequence:
                yield sequence, marked


class Gazetteer:
    """Every name of every participant and place, to make a record findable in both languages.

    A record whose text names an entity in one spelling or language (Astana,
    آستانا, خميس) is indexed under all of that entity's names, so the English
    and Arabic queries find the same records. A record that names an entity or
    uses one of its search forms (a demonym: الشركات الإيرانية) is also indexed
    under the entity's own term (:func:`entity_term`), which a query word naming
    the entity in any form matches (:meth:`alternatives`): Iran finds الإيرانية
    and Iranian finds إيران, below the words as written. Only a name of a single
    entity does either: a surname two people share names neither of them for certain.
    """

    def __init__(self, entities: list):
        entries = [e if isinstance(e, Entry) else Entry(tuple(e)) for e in entities]
        self.terms = [entity_term(e.key or f"#{i}") for i, e in enumerate(entries)]  # see expand
        self._starting: dict[str, tuple] = {}  # token -> candidates (see expand)
        found = [(sequence, index, marked) for index, entry in enumerate(entries)
                 for sequence, marked in _sequences(entry)]
        owners = self._collect(entries, found)
        self._forms = self._form_index()
        # a name shared by several entities (a surname, "the minister") does not say which one a
        # text means: it is searchable as written, but adds nobody's other names
        self._index_names([entry for entry in found if len(owners[entry[0]]) == 1])

    def _collect(self, entries: list[Entry], found) -> dict[tuple[str, ...], set[str]]:
        """Each entity's name tokens and sequences; returns the owners (entity keys) of each sequence."""
        self.names: list[list[str]] = [[] for _ in entries]  # name tokens of each entity
        self.sequences: list[list[tuple[str, ...]]] = [[] for _ in entries]  # names and search forms
        owners: dict[tuple[str, ...], set[str]] = {}
        for sequence, index, marked in found:
            owners.setdefault(sequence, set()).add(entries[index].key or f"#{index}")
            if not marked:
                self.names[index].extend(t for t in sequence if t not in self.names[index])
            if sequence not in self.sequences[index]:
                self.sequences[index].append(sequence)
        return owners

    def _index_names(self, found: list[tuple[tuple[str, ...], int, bool]]) -> None:
        """For expand: one-token names by token, longer ones by their first two tokens."""
        self._singles: dict[str, list[tuple[int, bool]]] = {}
        self._pairs: dict[tuple[str, str], list[tuple[tuple[str, ...], int, bool]]] = {}
        for sequence, index, marked in found:
            if len(sequence) == 1:
                self._singles.setdefault(sequence[0], []).append((index, marked))
            else:
                self._pairs.setdefault((sequence[0], sequence[1]), []).append((sequence, index, marked))
        self._firsts = {first for first, _ in self._pairs}

    def effects(self) -> dict[tuple[str, ...], tuple]:
        """What each indexed name sequence adds to a record that contains it: two gazetteers
        index a record alike exactly where the sequences it contains have equal effects."""
        out = {(token,): [] for token in self._singles}
        for sequences in self._pairs.values():
            out.update({sequence: [] for sequence, _, _ in sequences})
        for token, owners in self._singles.items():
            out[(token,)].extend((marked, tuple(self.names[i]), self.terms[i]) for i, marked in owners)
        for sequences in self._pairs.values():
            for sequence, index, marked in sequences:
                out[sequence].append((marked, tuple(self.names[index]), self.terms[index]))
        return {sequence: tuple(sorted(effect)) for sequence, effect in out.items()}

    def expand(self, tokens: list[str]) -> list[str]:
        """The index terms ``tokens`` gain through the entities they name: every name of an entity
        whose name (in any of its forms) appears, the stem terms of the names of an entity whose
        search form appears.

        A name matches at a position when the token there has the name's first token
        among its :func:`~models.text.index_forms` and the following tokens equal the
        rest of the name. Names are looked up by their first two tokens, and each
        distinct token's forms are looked up once, so the cost does not grow with the
        number of entities sharing a first token (every محمد).
        """
        named, used = self._found(tokens)
        out = [name for index in sorted(named) for name in self.names[index]]
        # the entity's own term, for every entity named or used: what a query that names the
        # entity in any form (Iranian, إيران) also matches, below the words as written
        out.extend(dict.fromkeys(self.terms[index] for index in sorted(named | used)))
        return out

    def _found(self, tokens: list[str]) -> tuple[set[int], set[int]]:
        """(entities named in ``tokens``, entities whose search form is used there)."""
        named: set[int] = set()
        used: set[int] = set()
        starting, candidates, nothing, pairs = self._starting, self._candidates, _NO_CANDIDATES, self._pairs
        last = len(tokens) - 1
        # most tokens start no name: find the few that do without a Python-level loop step each
        entries = [starting.get(token) or candidates(token) for token in tokens]
        for position in [p for p, entry in enumerate(entries) if entry is not nothing]:
            singles, firsts = entries[position]
            for index, marked in singles:
                (used if marked else named).add(index)
            if not firsts or position == last:
                continue
            following = tokens[position + 1]
            for form in firsts:
                for sequence, index, marked in pairs.get((form, following), ()):
                    if len(sequence) == 2 or tuple(tokens[position + 2:position + len(sequence)]) == sequence[2:]:
                        (used if marked else named).add(index)
        return named, used

    #: distinct tokens whose candidates are remembered (a load sees a few hundred thousand)
    CACHE_LIMIT = 500_000

    def _candidates(self, token: str) -> tuple[tuple[tuple[int, bool], ...], tuple[str, ...]]:
        """((entity, marked) of the one-token names that are a form of ``token``,
        forms of ``token`` that start a longer name)."""
        forms = textnorm.index_forms(token)
        singles = tuple(entry for form in forms for entry in self._singles.get(form, ()))
        firsts = tuple(form for form in forms if form in self._firsts)
        if len(self._starting) >= self.CACHE_LIMIT:
            self._starting.clear()
        entry = self._starting[token] = (singles, firsts) if singles or firsts else _NO_CANDIDATES
        return entry

    #: index entries a query word may scan (a one-letter word begins thousands of names)
    MAX_SCANNED = 2_000

    def _form_index(self) -> tuple[list[str], list[tuple[int, int, int]]]:
        """Every form of every token of every name and search form, sorted, with (entity,
        sequence, position): query words are looked up by prefix with a bisection."""
        entries = []
        for index, sequences in enumerate(self.sequences):
            for number, sequence in enumerate(sequences):
                for position, token in enumerate(sequence):
                    entries.extend((form, index, number, position) for form in textnorm.index_forms(token))
        entries.sort()
        return [e[0] for e in entries], [e[1:] for e in entries]

    def _matched(self, query: "Query") -> dict[int, set[str]]:
        """Entities the query names (every token of one of their names or search forms matched
        by a query word, as a prefix of one of its forms), with the words that matched them."""
        keys, values = self._forms
        hits: dict[tuple[int, int], dict[int, str]] = {}
        for word in query.positive:
            for form in textnorm.index_forms(word):  # السوري is سوري, a search form of Syria
                low = bisect.bisect_left(keys, form)
                high = min(bisect.bisect_left(keys, form + "\U0010ffff"), low + self.MAX_SCANNED)
                for index, number, position in values[low:high]:
                    hits.setdefault((index, number), {})[position] = word
        out: dict[int, set[str]] = {}
        for (index, number), positions in hits.items():
            if len(positions) == len(self.sequences[index][number]):
                out.setdefault(index, set()).update(positions.values())
        return out

    def named_by(self, query: "Query") -> list[tuple[str, ...]]:
        """The names and search forms (token sequences) of the entities the query names:
        highlights mark these where a text uses them."""
        return [sequence for index in sorted(self._matched(query)) for sequence in self.sequences[index]]

    def alternatives(self, query: "Query") -> dict[str, tuple[str, ...]]:
        """For each query word that names an entity (alone or with the others), that entity's
        term: Iranian then finds the records that name Iran, as Iran finds الإيرانية."""
        out: dict[str, list[str]] = {}
        for index, words in self._matched(query).items():
            for word in words:
                out.setdefault(word, []).append(self.terms[index])
        return {word: tuple(dict.fromkeys(terms)) for word, terms in out.items()}


def contains_sequence(tokens: list[str], sequence: tuple[str, ...]) -> bool:
    """Whether :meth:`Gazetteer.expand` would find the name ``sequence`` in ``tokens``: a token
    with the name's first token among its forms, followed by the rest of the name."""
    length = len(sequence)
    for position, token in enumerate(tokens):
        if sequence[0] in textnorm.index_forms(token) and tuple(tokens[position + 1:position + length]) == sequence[1:]:
            return True
    return False


def _word_matches(token: str, query: "Query") -> bool:
    """A query word matches the (normalised) token as written: a prefix of one of its forms."""
    forms = textnorm.index_forms(token)
    return any(form.startswith(word) for form in forms for word in query.positive)


_gazetteers: dict[str, Gazetteer] = {}
#: one build at a time: the threads that need the gazetteer meanwhile wait for it (eight
#: concurrent first searches once built it eight times over, each slower for the others)
_building = threading.Lock()


def gazetteer_for(version: str, load_entities) -> Gazetteer:
    """The gazetteer of the loaded dataset (``load_entities()`` gives its entries), built once
    per dataset version and process (api/server.py starts the build when a worker boots)."""
    gazetteer = _gazetteers.get(version)
    if gazetteer is None:
        with _building:
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

    def __init__(self, db, placed: bool = False):
        self.db = db
        self.backend = backends.of(db)
        #: an incremental load: rows go straight into the built index, numbered into its gaps
        self.placed = placed
        self.rows: list[dict] = []
        self.gazetteer = Gazetteer([])
        self._tokens: dict[str, list[str]] = {}
        self._forms: dict[str, list[str]] = {}
        self._entities: dict[tuple, tuple[list[str], list[str]]] = {}  # see add

    def set_entities(self, entities: list) -> None:
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
        """The index terms of ``tokens``: each token's forms (models/text.py) and its stem terms,
        remembering them per distinct token."""
        cache = self._forms
        out: list[str] = []
        for token in tokens:
            forms = cache.get(token)
            if forms is None:
                if len(cache) >= self.CACHE_LIMIT:
                    cache.clear()
                forms = cache[token] = [*textnorm.index_forms(token), *stems(token)]
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
        texts = [doc["name_en"], doc["name_ar"], *doc["aliases"], *doc.get("search_forms", ()), doc.get("title_en"),
                 doc.get("title_ar")]
        self.add(kind, doc["id"], UNDATED, "", texts)

    def flush(self) -> None:
        if self.rows:
            if self.placed:
                self.backend.place_search_rows(self.db, self.rows)
            else:
                self.backend.write_search_rows(self.db, self.rows)
            self.rows = []

    def finish(self) -> None:
        self.flush()
        if self.placed:
            return
        self.backend.finish_search_index(self.db)
        self.db.execute_sql(
            "CREATE INDEX IF NOT EXISTS search_doc_order_idx ON search_doc (kind, part, sort_date, record_id)")


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


def highlight(text: str | None, query: Query, named: list[tuple[str, ...]] = ()) -> list[dict]:
    """[start, end) offsets in ``text`` (original spelling) of exactly what the query matched.

    A word is marked when a query word is a prefix of one of its forms, or shares a stem
    with it; a name or search form of an entity the query names (``named``, from
    :meth:`Gazetteer.named_by`) is marked as a whole where the text uses it: the form a
    gazetteer match came through. Nothing else is marked.
    """
    if not text:
        return []
    spans = textnorm.token_spans(text)
    wanted = {term for word in query.positive for term in stems(word)}
    marks = [(start, end) for token, start, end in spans
             if _word_matches(token, query) or wanted.intersection(stems(token))]
    tokens = [token for token, _, _ in spans]
    for sequence in named:
        for position in _occurrences(tokens, sequence):
            marks.append((spans[position][1], spans[position + len(sequence) - 1][2]))
    return [{"start": start, "end": end} for start, end in _merged(marks)]


def _occurrences(tokens: list[str], sequence: tuple[str, ...]):
    """Positions where ``sequence`` starts in ``tokens`` (its first token among a token's forms)."""
    size = len(sequence)
    for position in range(len(tokens) - size + 1):
        if sequence[0] in textnorm.index_forms(tokens[position]) and tuple(tokens[position + 1:position + size]) == sequence[1:]:
            yield position


def _merged(marks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for start, end in sorted(marks):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(start, end) for start, end in out]

"""Full-text search: one query language, one way of building index rows, for every backend.

The user's text is never passed to an engine as syntax: it is parsed here
(:func:`parse_query`), reduced to normalised tokens (models/text.py), and each
backend quotes every token in its own syntax (models/backends/). Index rows
(models/search_index.py) hold each record's words and their forms, plus every
name of the participants and places it names (models/gazetteer.py), so the
English and Arabic spellings of a name find the same records.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from peewee import SQL

from . import backends
from . import text as textnorm
from .gazetteer import Gazetteer
from .months import month_terms
from .search_index import END_ONLY, STARTED, UNDATED, body_of
from .stemming import stems
from .vocabulary import MAX_QUERY_LENGTH, SEARCH_KINDS

MAX_QUERY_TERMS = 12
KINDS = SEARCH_KINDS


class QueryError(ValueError):
    """The search text cannot be turned into a query (reported as a 400)."""


class PrefixTerms(dict):
    """What a word matches in the index of one dataset version, in the backend's syntax (word ->
    the index terms it begins, or the prefix itself where it begins too many). SQLite's FTS5
    vocabulary table reads them from the index itself: about 0.5 ms a word, an eighth of a search
    page's CPU at 100,000 events. Bounded: emptied when it holds :data:`LIMIT` words (queries are
    anyone's text)."""

    LIMIT = 20_000

    def __setitem__(self, word: str, alternatives: list[str]) -> None:
        if len(self) >= self.LIMIT:
            self.clear()
        super().__setitem__(word, alternatives)


_prefix_terms: dict[str, PrefixTerms] = {}


def prefix_terms_for(version: str) -> PrefixTerms:
    """The prefix terms of the dataset version ``version`` in this process (the last version's
    are dropped: a load changes the index's terms, and with them the version)."""
    found = _prefix_terms.get(version)
    if found is None:
        found = PrefixTerms()
        _prefix_terms.clear()
        _prefix_terms[version] = found
    return found


# --------------------------------------------------------------------------- parsing


@dataclass
class Query:
    words: list[str] = field(default_factory=list)        # each must match (prefix)
    phrases: list[list[str]] = field(default_factory=list)  # each must appear in order
    excluded: list[str] = field(default_factory=list)     # none may match (prefix)
    #: plain words left out as function words (FUNCTION_WORDS), as normalised: said in the answer
    ignored: list[str] = field(default_factory=list)
    raw: str = ""
    #: the query in the backend's syntax by mode (broad, exact), worked out once per query
    compiled: dict = field(default_factory=dict, compare=False, repr=False)
    #: word -> stem terms of the entities it names (see Gazetteer.alternatives)
    entity_terms: dict = field(default_factory=dict, compare=False, repr=False)
    #: the index's terms each query word begins, shared by the queries on one dataset version
    #: (:func:`prefix_terms_for`), or None: looked up every time
    prefix_terms: "PrefixTerms | None" = field(default=None, compare=False, repr=False)

    def stems(self, word: str) -> tuple[str, ...]:
        """The stem terms a query word also matches (broad mode): its own and those of the
        entities it names."""
        return tuple(dict.fromkeys((*stems(word), *self.entity_terms.get(word, ()))))

    def knowing(self, gazetteer: "Gazetteer") -> "Query":
        """The query with the stem terms of the entities its words name, and of the English month
        an Arabic month name names (models/months.py), in place. A quoted
        phrase that is a name of an entity ("Hassan Rouhani") is read as that name, unquoted:
        it finds the records that name the entity in any of its names, as "حسن روحاني" does,
        and not only those whose words hold the English phrase."""
        names = [phrase for phrase in self.phrases if gazetteer.is_name(phrase)]
        if names:
            self.phrases = [phrase for phrase in self.phrases if phrase not in names]
            self.words = list(dict.fromkeys([*self.words, *(word for phrase in names for word in phrase)]))
        self.entity_terms = gazetteer.alternatives(self)
        for word in self.words:  # (a phrase's words are matched as written)
            if month_terms(word):
                self.entity_terms[word] = (*self.entity_terms.get(word, ()), *month_terms(word))
        self.compiled.clear()
        return self

    @property
    def positive(self) -> list[str]:
        return self.words + [w for phrase in self.phrases for w in phrase]


_PART = re.compile(r'"([^"]*)"|(\S+)')
#: what a user of other search engines types between words (in capitals), and what it gets here: a
#: 400 that says what to do instead of a search for the word "or" that finds nothing (None: dropped)
_OPERATORS = {
    "AND": None,
    "OR": "has OR between words, which is not an operator here: every word must match; search for each "
          "alternative on its own (or quote \"OR\" to find the word)",
    "NOT": "has NOT before a word, which is not an operator here: put a minus sign before a word to "
           "exclude it (-word)",
}
#: quotation marks an Arabic keyboard or a word processor types, read as the plain double quote
_QUOTES = str.maketrans({mark: '"' for mark in "«»“”„‟"})
#: what may be typed for the minus of an excluded word: the hyphen, or a dash or minus sign
#: that autocorrect puts in its place (dropped as punctuation, it made the word a required one)
_MINUS = ("-", "\u2010", "\u2012", "\u2013", "\u2014", "\u2212", "\ufe63", "\uff0d")


#: words that carry no subject of their own (articles, prepositions, conjunctions, pronouns, the
#: verb "to be"), left out of a query as plain words when it has another word to look for: every
#: word must match, so "خميس مع روحاني" found nothing (no record says مع) and "Khamis with Rouhani"
#: only the records that happen to say "with"; as prefixes, "in" and "the" also matched "Iran" and
#: "their". Quoted, they stay part of the phrase; alone, they are searched for; typed in capitals they
#: are acronyms (IS, ARE) and kept. Not listed: words a name or an acronym in lower case can be (us,
#: it, who, علي) and words that change the meaning (not, or, without, لا, أو, غير).
_FUNCTION_WORDS = (
    "a an the of in on at to for with and by from about as into onto upon than then also "
    "is are was were be been being has have had that this these those which its his her their "
    "he she they them there "
    "في فى من إلى الى على عن مع و ف ب ل ك أن إن ان أنّ إنّ هذا هذه ذلك تلك هؤلاء الذي التي الذين اللذين "
    "اللتين ما قد لقد كان كانت يكون تكون ثم حتى لكن بل هو هي هم هما أنه أنها إنه إنها انه انها "
    "وفي ومن وإلى والى وعلى وعن ومع وأن وإن وقد وكان وكانت وهو وهي وهم"
)
FUNCTION_WORDS = frozenset(token for word in _FUNCTION_WORDS.split() for token in textnorm.tokens(word))


#: an English possessive ending ('s, ’s, or a lone apostrophe after s), before any punctuation that
#: ends the word: cut into tokens, "Rouhani's" was the words rouhani and s, and "s" a prefix that
#: nearly every record matches. (An acronym with points, U.S., stays its letters: the index holds the
#: text's "U.S." as u and s, so reading it as "us" lost the records that write it so.)
_POSSESSIVE = re.compile(r"(?<=\w)['’]s?(?=[^\w'’]*$)", re.IGNORECASE)
#: a word typed in capitals is an acronym, never a function word: IS (the Islamic State), ARE, IN
_ACRONYM = re.compile(r"^[A-Z]{2,}$")


def _typed_word(word: str) -> str:
    """A plain word as meant: without an English possessive ending."""
    return _POSSESSIVE.sub("", word)


def _checked_text(raw: str) -> str:
    """The query's text with its quotation marks as ``"``, or a QueryError for text that cannot be one."""
    if len(raw) > MAX_QUERY_LENGTH:
        raise QueryError(f"is {len(raw)} characters long; the limit is {MAX_QUERY_LENGTH}")
    if "\x00" in raw:
        raise QueryError("contains a NUL character")
    quoted = raw.translate(_QUOTES)
    if quoted.count('"') % 2:
        raise QueryError('has an unclosed quotation mark (" « » “ ”); close it to search for a phrase, or remove it')
    return quoted


def _leave_out_function_words(query: Query, acronyms: set[str]) -> None:
    """The plain words once each, without the function words (but those typed as acronyms) when
    something else is looked for."""
    query.words = list(dict.fromkeys(query.words))
    subject = [word for word in query.words if word not in FUNCTION_WORDS or word in acronyms]
    if subject or query.phrases:
        query.ignored = [word for word in query.words if word not in subject]
        query.words = subject


def parse_query(raw: str) -> Query:
    """Plain words (all must match, function words left out: FUNCTION_WORDS), "quoted phrases"
    (also in « » or “ ”), and -word to exclude (also after a dash or minus sign).

    Anything else (operators, ``*``, ``:``, brackets, SQL) is only text: it is
    normalised away with the punctuation. Raises QueryError for a query that is
    too long, has an unclosed quote, or finds nothing to look for.
    """
    query = Query(raw=raw)
    acronyms: set[str] = set()  # words typed in capitals (IS, ARE): kept, whatever FUNCTION_WORDS holds
    parts = list(_PART.finditer(_checked_text(raw)))
    for match in parts:
        phrase, word = match.groups()
        if word in _OPERATORS and len(parts) > 1:
            if _OPERATORS[word]:
                raise QueryError(_OPERATORS[word])
            continue  # AND: every word must match already
        if phrase is not None:
            tokens = textnorm.tokens(phrase)
            if tokens:  # one quoted word is a phrase too: the whole word, not a prefix
                query.phrases.append(tokens)
        elif word.startswith(_MINUS) and len(word) > 1:
            query.excluded.extend(textnorm.tokens(_typed_word(word[1:])))
        else:
            tokens = textnorm.tokens(_typed_word(word))
            query.words.extend(tokens)
            if _ACRONYM.match(word.strip(".,;:!?()")):
                acronyms.update(tokens)
    _leave_out_function_words(query, acronyms)
    if len(query.positive) + len(query.excluded) > MAX_QUERY_TERMS:
        raise QueryError(f"has more than {MAX_QUERY_TERMS} words")
    if not query.positive:
        raise QueryError("has no word to search for (only punctuation, operators or excluded words)")
    return query


# --------------------------------------------------------------------------- writing


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
        pieces: list[str] = []  # the words of each text, then of each name, in ``body``
        for piece in texts:
            if piece:
                words = self.tokens(piece)
                tokens.extend(words)
                pieces.append(" ".join(words))
        forms = self.forms_of(tokens) + self.gazetteer.expand(tokens)
        for key, entity_names in names:
            entity = self._entities.get(key)
            if entity is None:
                entity = self._entities[key] = self._entity_terms(entity_names)
            pieces.extend(entity[0])
            forms.extend(entity[1])
        self.rows.append({
            "kind": kind,
            "part": part,
            "record_id": record_id,
            "sort_date": sort_date,
            "body": body_of(pieces),
            "forms": " ".join(dict.fromkeys(forms)),
        })
        if len(self.rows) >= self.BATCH:
            self.flush()

    def _entity_terms(self, names: list[str]) -> tuple[list[str], list[str]]:
        """(the words of each name, the index terms of them all) of one entity."""
        tokens: list[str] = []
        pieces: list[str] = []
        for name in names:
            if name:
                words = self.tokens(name)
                tokens.extend(words)
                pieces.append(" ".join(words))
        return pieces, self.forms_of(tokens) + self.gazetteer.expand(tokens)

    def add_event(self, doc: dict, names: list[tuple]) -> None:
        texts = [doc["title_en"], doc["summary_en"], doc["title_ar"], doc["summary_ar"],
                 *(s["text"] for s in doc["evidence"])]
        start, end = doc["date"]["start"], doc["date"]["end"]
        part = STARTED if start else END_ONLY if end else UNDATED
        self.add("event", doc["id"], part, start or end or "", texts, names)

    def add_statement(self, doc: dict) -> None:
        # the evidence too, as for events: the sentence that reports the words names where and
        # to whom they were said (خلال لقائه الرئيس الإيراني حسن روحاني, في طهران), the quote rarely does
        speaker = doc["speaker"]
        texts = [doc["text_ar"], doc["text_en"], *(span["text"] for span in doc["evidence"])]
        self.add("statement", doc["id"], STARTED, doc["reported_on"], texts,
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


#: a hit's place in the order of /v1/search: rank, newest first, kind, id (a cursor's key)
HIT_KEY = ("rank", "sort_date", "kind", "record_id")


def ranked_page(select, after: list | None, limit: int) -> list[dict]:
    """Up to ``limit`` hits of ``select`` (:func:`ranked_matches`) in order: rank, newest first,
    then kind and id by code point on every backend (a PostgreSQL locale collation may weigh
    punctuation otherwise); after the hit whose :data:`HIT_KEY` is ``after`` (rank an int, the rest strings)."""
    hits = select.alias("hits")
    backend = backends.current()
    rank, day = hits.c.rank, hits.c.sort_date
    kind, record_id = (SQL(backend.bytewise(f'"hits"."{name}"')) for name in ("kind", "record_id"))
    query = select.model.select(rank.alias("rank"), day.alias("sort_date"), SQL('"hits"."kind"').alias("kind"),
                                SQL('"hits"."record_id"').alias("record_id")).from_(hits)
    if after is not None:
        r, d, k, i = after
        query = query.where((rank > r) | ((rank == r) & (
            (day < d) | ((day == d) & ((kind > k) | ((kind == k) & (record_id > i)))))))
    return list(query.order_by(rank, day.desc(), kind, record_id).limit(limit).dicts())


def matching_ids(query: Query, kind: str):
    """A subquery of record ids of ``kind`` matching ``query`` (for the ``q`` filter).

    No ranking here: a filter only needs the set, and ranking every match of a
    common word costs more than the rest of the request.
    """
    return backends.current().matching_ids(query, kind)


# --------------------------------------------------------------------------- highlighting


class Names:
    """The names and search forms a query names (:meth:`Gazetteer.named_by`), by first token:
    made once per request, so that marking them costs a lookup per word of a text whatever their
    number (a short Arabic prefix such as ال names thousands of entities: looking for each of
    their names in each text was seconds per request at 20,000 events)."""

    def __init__(self, sequences=()):
        self.by_first: dict[str, list[tuple[str, ...]]] = {}
        for sequence in sequences:
            self.by_first.setdefault(sequence[0], []).append(sequence)

    def occurrences(self, tokens: list[str]):
        """(position, length) of each name that starts in ``tokens`` (its first token among a
        token's forms, the others as written)."""
        by_first = self.by_first
        if not by_first:
            return
        for position, token in enumerate(tokens):
            for form in textnorm.index_forms(token):
                for sequence in by_first.get(form, ()):
                    size = len(sequence)
                    if tuple(tokens[position + 1:position + size]) == sequence[1:]:
                        yield position, size


def highlight(text: str | None, query: Query, named: Names = Names()) -> list[dict]:
    """[start, end) offsets in ``text`` (original spelling) of exactly what the query matched.

    A word is marked when a query word is a prefix of one of its forms, or shares a stem
    with it; a name or search form of an entity the query names (``named``) is marked as a
    whole where the text uses it: the form a gazetteer match came through. Nothing else is marked.
    """
    return highlight_covering(text, query, named)[0]


def highlight_covering(text: str | None, query: Query, named: Names = Names()) -> tuple[list[dict], int]:
    """:func:`highlight`'s marks, and how many of the query's words they show (a name the query
    names counts once, and only where no word of it matched as written): what makes one field a
    better snippet than another."""
    if not text:
        return [], 0
    spans = textnorm.token_spans(text)
    covered: set[int] = set()
    marks, matched = [], set()
    for position, (token, start, end) in enumerate(spans):
        found = _words_matched(token, query)
        if found:
            covered |= found
            matched.add(position)
            marks.append((start, end))
    tokens = [token for token, _, _ in spans]
    names_shown = set()
    for position, size in named.occurrences(tokens):
        marks.append((spans[position][1], spans[position + size - 1][2]))
        if matched.isdisjoint(range(position, position + size)):
            names_shown.add(tuple(tokens[position:position + size]))
    return [{"start": start, "end": end} for start, end in _merged(marks)], len(covered) + len(names_shown)


def _words_matched(token: str, query: Query) -> set[int]:
    """The positions in ``query.positive`` of the words that match ``token``: as a prefix of one of
    its forms, or through a shared stem."""
    forms = textnorm.index_forms(token)
    found, token_stems = set(), None
    for index, word in enumerate(query.positive):
        if any(form.startswith(word) for form in forms):
            found.add(index)
            continue
        token_stems = set(stems(token)) if token_stems is None else token_stems
        if token_stems.intersection(stems(word)) or token_stems.intersection(month_terms(word)):
            found.add(index)
    return found


def _merged(marks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for start, end in sorted(marks):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(start, end) for start, end in out]

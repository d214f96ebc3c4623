"""Full-text search: one query language, one index per backend.

Every searchable record gets a row in ``search_doc`` holding two normalised
token strings (see :mod:`models.text`):

* ``body``  - the record's words in order (used for ``"phrases"``);
* ``forms`` - every word plus its forms without Arabic proclitics (و ف ب ك ل ال …),
  so سلام finds للسلام.

A query word matches a record when some token of ``forms`` *starts with* it, so
أستانا also finds the glued أستاناجاءت. SQLite answers through an FTS5 table
over ``forms`` (prefix queries, BM25 ranking); PostgreSQL through a GIN-indexed
``tsvector`` built from the same tokens (prefix tsquery, ts_rank). Phrases are
checked on ``body`` with the same LIKE on both. The user's text is never passed
to either engine as syntax: it is parsed here, reduced to normalised tokens, and
each token is quoted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from peewee import AutoField, Cast, CharField, Expression, Field, IntegerField, SqliteDatabase, TextField, Value, fn
from playhouse.sqlite_ext import FTS5Model, SearchField

from . import text as textnorm
from .records import BaseModel

MAX_QUERY_LENGTH = 200
MAX_QUERY_TERMS = 12
KINDS = ("event", "statement", "participant", "place")


class QueryError(ValueError):
    """The search text cannot be turned into a query (reported as a 400)."""


class TSVectorField(Field):
    """PostgreSQL's tsvector; on SQLite the column exists but stays NULL (FTS5 does the work there)."""

    field_type = "TSVECTOR"


#: ``part`` of a searchable record: how it is dated (see SearchDoc)
UNDATED, END_ONLY, STARTED = 0, 1, 2


class SearchRow(BaseModel):
    """The columns of a searchable record (no table of its own)."""

    kind = CharField()
    part = IntegerField()
    record_id = CharField()
    sort_date = CharField()
    body = TextField()
    forms = TextField()


class SearchDoc(SearchRow):
    """One searchable record.

    On SQLite the rows are numbered in (kind, part, sort_date, record_id) order
    (the loader writes them to :class:`UnorderedSearchDoc` first): within one
    kind and part, ``rowid`` order is the order a list sorted by date has, so
    the FTS index, whose rowids these are, yields the newest matches first and
    a date range is a rowid range (see ``queries.event_listing``). ``part``
    splits events as the date filters do: undated, known only by their end, or
    with a start date; the other kinds are STARTED (statements) or UNDATED.
    """

    rowid = AutoField()
    tsv = TSVectorField(null=True)

    class Meta:
        indexes = ((("kind", "record_id"), True),)


class UnorderedSearchDoc(SearchRow):
    """SQLite only: search rows as the load produces them, copied to search_doc in order at its end."""


class SearchFTS(FTS5Model):
    """SQLite only: an external-content FTS5 index over ``search_doc.forms``."""

    forms = SearchField()

    class Meta:
        database = SearchDoc._meta.database
        table_name = "search_fts"
        # words are what models.text.tokens() says they are: letters, digits and combining marks
        options = {"content": "search_doc", "content_rowid": "rowid",
                   "tokenize": "unicode61 remove_diacritics 0 categories 'L* N* M* Co'"}


#: SQLite only: the terms of the FTS index, with how many records hold each
SearchTerms = SearchFTS.VocabModel("row", "search_terms")


def is_sqlite(db) -> bool:
    return isinstance(db, SqliteDatabase)


def index_models(db) -> list:
    return [SearchDoc, UnorderedSearchDoc, SearchFTS, SearchTerms] if is_sqlite(db) else [SearchDoc]


# --------------------------------------------------------------------------- parsing


@dataclass
class Query:
    words: list[str] = field(default_factory=list)        # each must match (prefix)
    phrases: list[list[str]] = field(default_factory=list)  # each must appear in order
    excluded: list[str] = field(default_factory=list)     # none may match (prefix)
    raw: str = ""
    fts5: str | None = field(default=None, compare=False, repr=False)  # see match_expression

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


def insert_rows(db, model, rows: list[dict]) -> None:
    """``model.insert_many(rows).execute()``, for the bulk inserts of a load.

    On SQLite one prepared INSERT runs through ``executemany`` (peewee would build
    the SQL text of every row, most of a load's time). The rows come from the
    loader, which already gives each column its stored type; the first row is
    checked against the fields' ``db_value`` to keep that true. Other backends,
    and rows that do not all have the same keys, go through peewee.
    """
    if not rows:
        return
    keys = list(rows[0])
    fields = [model._meta.combined.get(key) for key in keys]
    if (not is_sqlite(db) or any(field is None for field in fields)  # (a field == None is an expression)
            or any(field.db_value(rows[0][key]) != rows[0][key] for key, field in zip(keys, fields))
            or any(len(row) != len(keys) for row in rows)):
        model.insert_many(rows).execute()
        return
    columns = ", ".join(f'"{field.column_name}"' for field in fields)
    sql = f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({", ".join("?" * len(keys))})'
    try:
        values = [tuple([row[key] for key in keys]) for row in rows]
    except KeyError:  # same length, other keys
        model.insert_many(rows).execute()
        return
    db.cursor().executemany(sql, values)


def forms_of(tokens: list[str]) -> list[str]:
    out: list[str] = []
    for token in tokens:
        out.extend(textnorm.index_forms(token))
    return out


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
            insert_rows(self.db, UnorderedSearchDoc if is_sqlite(self.db) else SearchDoc, self.rows)
            self.rows = []

    def finish(self) -> None:
        self.flush()
        if is_sqlite(self.db):
            # number the rows in list order (see SearchDoc): sort the keys through an index,
            # copy the rows in that order, and index the copy, whose rowids FTS5 takes
            order = ("kind", "part", "sort_date", "record_id")
            columns = ", ".join(f'"{c}"' for c in (*order, "body", "forms"))
            self.db.execute_sql(f'CREATE INDEX "unordered_search_doc_order" ON "unordered_search_doc" '
                                f'({", ".join(order)})')
            self.db.execute_sql(f'INSERT INTO "search_doc" ({columns}) SELECT {columns} FROM "unordered_search_doc" '
                                f'ORDER BY {", ".join(order)}')
            self.db.execute_sql('DROP TABLE "unordered_search_doc"')
            SearchFTS.rebuild()
        else:
            self.db.execute_sql(
                "UPDATE search_doc SET tsv = array_to_tsvector(string_to_array(forms, ' '))"
            )
            self.db.execute_sql("CREATE INDEX IF NOT EXISTS search_doc_tsv_idx ON search_doc USING GIN (tsv)")
        self.db.execute_sql(
            "CREATE INDEX IF NOT EXISTS search_doc_order_idx ON search_doc (kind, part, sort_date, record_id)")


def needs_optimize(db) -> bool:
    return is_sqlite(db)


def optimize(db) -> None:
    SearchFTS.optimize()


# --------------------------------------------------------------------------- querying


def _fts5_string(token: str) -> str:
    # tokens are letters and digits only; quoting makes FTS5 read them as plain strings
    return '"' + token.replace('"', '""') + '"'


#: a query word that begins more index terms than this stays an FTS5 prefix query
MAX_EXPANDED_TERMS = 32


def _fts5_term(token: str) -> str:
    """A query word (a prefix) as FTS5 syntax: the index terms it begins, OR-ed.

    ``"word"*`` would say the same, but FTS5 answers a prefix query by merging the
    matches of all its terms into one list before returning the first: a page of
    the newest matches of a common word would cost as much as all of them. An OR
    of terms is read lazily, in rowid order, and stops with the page. A word that
    begins too many terms (a short one) stays a prefix query.
    """
    terms = [term for (term,) in SearchTerms.select(SearchTerms.term).where(
        (SearchTerms.term >= token) & (SearchTerms.term < token + "\U0010ffff")).limit(MAX_EXPANDED_TERMS + 1).tuples()]
    if not terms:
        return _fts5_string(token)  # in no record
    if len(terms) > MAX_EXPANDED_TERMS:
        return _fts5_string(token) + "*"
    return "(" + " OR ".join(_fts5_string(term) for term in terms) + ")"


def _ts_term(token: str) -> str:
    return "'" + token.replace("'", "''") + "':*"


def match_expression(db, query: Query) -> str:
    """The query as the backend's own syntax: an FTS5 MATCH string or a tsquery
    (worked out once per query: a request may run several searches)."""
    if is_sqlite(db):
        if query.fts5 is None:
            expression = " AND ".join(_fts5_term(t) for t in query.positive)
            if query.excluded:
                expression = f"({expression}) NOT ({' OR '.join(_fts5_term(t) for t in query.excluded)})"
            query.fts5 = expression
        return query.fts5
    expression = " & ".join(_ts_term(t) for t in query.positive)
    if query.excluded:
        expression = f"({expression}) & !({' | '.join(_ts_term(t) for t in query.excluded)})"
    return expression


def with_phrases(select, query: Query):
    for phrase in query.phrases:
        # body is " tok tok … ": a phrase matches whole consecutive tokens
        select = select.where(SearchDoc.body.contains(" " + " ".join(phrase) + " "))
    return select


def search_docs(db, query: Query, kinds: tuple[str, ...] = KINDS):
    """A select over SearchDoc of the matching records, ranked best first (rank ascending)."""
    expression = match_expression(db, query)
    if is_sqlite(db):
        matches = (SearchFTS.select(SearchFTS.rowid.alias("doc_rowid"), SearchFTS.bm25().alias("rank"))
                   .where(SearchFTS.match(expression)).alias("m"))
        select = (
            SearchDoc.select(SearchDoc, matches.c.rank.alias("rank"))
            .join(matches, on=(SearchDoc.rowid == matches.c.doc_rowid))
        )
    else:
        tsquery = Cast(Value(expression), "tsquery")
        rank = Value(0) - fn.ts_rank(SearchDoc.tsv, tsquery)  # lower is better, as with bm25()
        select = SearchDoc.select(SearchDoc, rank.alias("rank")).where(Expression(SearchDoc.tsv, "@@", tsquery))
    if tuple(kinds) != KINDS:
        select = select.where(SearchDoc.kind.in_(list(kinds)))
    return with_phrases(select, query)


def matching_ids(db, query: Query, kind: str):
    """A subquery of record ids of ``kind`` matching ``query`` (for the ``q`` filter).

    No ranking here: a filter only needs the set, and computing BM25 for every
    match of a common word costs more than the rest of the request.
    """
    expression = match_expression(db, query)
    if is_sqlite(db):
        # the rows of one kind are one rowid range (see SearchDoc): bounding the FTS rowids
        # keeps the kind test out of the outer query, which SQLite would otherwise answer
        # by reading every row of the kind from the index
        doc = SearchDoc.alias()
        edge = doc.select(doc.rowid).where(doc.kind == kind)
        first = edge.order_by(doc.part, doc.sort_date, doc.record_id).limit(1)
        last = edge.order_by(doc.part.desc(), doc.sort_date.desc(), doc.record_id.desc()).limit(1)
        rowids = SearchFTS.select(SearchFTS.rowid).where(
            SearchFTS.match(expression), SearchFTS.rowid >= first, SearchFTS.rowid <= last)
        return with_phrases(SearchDoc.select(SearchDoc.record_id).where(SearchDoc.rowid.in_(rowids)), query)
    else:
        select = SearchDoc.select(SearchDoc.record_id).where(
            Expression(SearchDoc.tsv, "@@", Cast(Value(expression), "tsquery")))
    return with_phrases(select.where(SearchDoc.kind == kind), query)


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

"""SQLite's search index: the FTS5 table over ``search_doc``, its vocabulary, the rows'
staging table, and query words written as FTS5 terms (used by models/backends/sqlite.py)."""
from __future__ import annotations

from peewee import SQL, IntegerField, TextField, fn
from playhouse.shortcuts import ThreadSafeDatabaseMetadata
from playhouse.sqlite_ext import FTS5Model, RowIDField, SearchField, VirtualModel

from ..records import database
from ..search_index import SearchRow

#: a query word that begins more index terms than this stays an FTS5 prefix query
MAX_EXPANDED_TERMS = 32


class UnorderedSearchDoc(SearchRow):
    """Search rows as the load produces them, copied to search_doc in order at its end: a
    temporary table (SQLite.reset_schema) in a file of the load's connection, dropped once copied.
    As a table of the served file, its ~2.5 GiB at a million events went through the WAL and the
    commit's checkpoint, and left 584 MiB of free pages in the file (benchmarks/README.md)."""


class SearchFTS(FTS5Model):
    """An external-content FTS5 index over ``search_doc.forms``."""

    forms = SearchField()

    class Meta:
        database = database
        model_metadata_class = ThreadSafeDatabaseMetadata
        table_name = "search_fts"
        # words are what models.text.tokens() says they are: letters, digits and combining marks
        options = {"content": "search_doc", "content_rowid": "rowid",
                   "tokenize": "unicode61 remove_diacritics 0 categories 'L* N* M* Co'"}


class SearchTerms(VirtualModel):
    """The terms of the FTS index, with how many records hold each (fts5vocab).

    Declared here rather than with ``SearchFTS.VocabModel``, whose model has
    process-wide metadata: a request binding it in one thread would re-bind it
    under every other thread's feet.
    """

    term = TextField()
    doc = IntegerField()
    cnt = IntegerField()
    rowid = RowIDField()

    class Meta:
        database = database
        model_metadata_class = ThreadSafeDatabaseMetadata
        table_name = "search_terms"
        extension_module = fn.fts5vocab(SQL('"search_fts"'), SQL("row"))


def fts5_string(token: str) -> str:
    """A token as an FTS5 string (tokens are letters and digits; quoting makes them plain text)."""
    return '"' + token.replace('"', '""') + '"'


def fts5_term(token: str, stem_terms: tuple[str, ...] = (), known: dict | None = None) -> str:
    """A query word (a prefix) as FTS5 syntax: the index terms it begins, OR-ed.

    ``"word"*`` would say the same, but FTS5 answers a prefix query by merging the
    matches of all its terms into one list before returning the first: a page of
    the newest matches of a common word would cost as much as all of them. An OR
    of terms is read lazily, in rowid order, and stops with the page. A word that
    begins too many terms (a short one) stays a prefix query. ``known``: the alternatives of words
    looked up before on the same dataset version (models.search.PrefixTerms; at most
    MAX_EXPANDED_TERMS each), consulted and added to.
    """
    found = known.get(token) if known is not None else None
    if found is None:
        terms = [term for (term,) in SearchTerms.select(SearchTerms.term).where(
            (SearchTerms.term >= token) & (SearchTerms.term < token + "\U0010ffff")).limit(MAX_EXPANDED_TERMS + 1).tuples()]
        if len(terms) > MAX_EXPANDED_TERMS:
            found = [fts5_string(token) + "*"]
        else:
            found = [fts5_string(term) for term in terms] or [fts5_string(token)]  # (in no record)
        if known is not None:
            known[token] = found
    alternatives = list(found)
    alternatives.extend(fts5_string(term) for term in stem_terms)
    return alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(alternatives) + ")"

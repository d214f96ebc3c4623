"""SQLite: a file, WAL, an FTS5 index numbered in list order.

A server's connections read the file through a memory map (``mapped_bytes``, the
``SQLITE_MMAP_BYTES`` setting): a page of rows scattered over the file is read
without a system call and a copy per database page (a deep page of 50 events at
100,000 events: 2.3–2.4 ms of server CPU instead of 2.6–2.8). The mapped pages are
the page cache, shared; each connection (one per server thread) maps the file on its
own, so RSS counts a page once per thread that read it. Loads do not map. Search rows
are numbered at load time in the order a date-sorted list has
(:class:`UnorderedSearchDoc` is sorted into ``search_doc``), so the FTS index yields
matches in list order and a date range is a rowid range (models/backends/sqlite_search.py).
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

from peewee import SQL, Case, NodeList, OperationalError, SqliteDatabase, fn

from ..records import Event
from ..search_index import END_ONLY, STARTED, UNDATED, SearchDoc, with_phrases
from ..vocabulary import SEARCH_KINDS
from . import Backend, NoRoom, key_columns, register, statement_seconds, uniform_rows
from .day_order import is_day_ordered, with_rowids
from .load_lock import file_lock
from .sqlite_fts import SearchFTS, SearchTerms, UnorderedSearchDoc, fts5_string, fts5_term
from .sqlite_search import SearchOrderedPart
from .watchdog import Watchdog

#: the starts of SQLite's messages for a statement it cannot compile or run as written (a defect of
#: the SQL, reported as a logged 500), where "database is locked", "unable to open database file" or
#: "disk I/O error" are the database out of reach (a 503 to retry)
STATEMENT_FAULTS = ("no such column", "no such function", "near ", "incomplete input", "ambiguous column",
                    "parser stack overflow", "too many SQL variables", "Expression tree is too large",
                    "too many terms", "LIKE or GLOB pattern too complex", "wrong number of arguments",
                    "misuse of", "unrecognized token", "sub-select returns", "row value misused",
                    "fts5: syntax error", "unterminated string", "unknown special query")

# Applied on every connection. WAL lets readers keep serving the previous dataset while a load commits.
PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": "normal",
    "cache_size": -4_000,
    "busy_timeout": 5_000,
    "temp_store": "memory",
}


def clustered_schema(model):
    """peewee's table creation for ``model`` with ``WITHOUT ROWID``, when its ``Meta.clustered``
    asks for it (models/records.py: BaseModel): its rows are stored in primary-key order, and the
    table needs no second B-tree for its key."""
    base = type(model._schema)
    if not getattr(model._meta, "clustered", False):  # (the search helpers' models lack the option)
        return base
    # peewee writes its own table options (STRICT, WITHOUT ROWID) as one list: not two lists
    assert not model._meta.strict_tables and not model._meta.without_rowid, model

    class Clustered(base):
        def _create_table(self, safe=True, **options):
            return super()._create_table(safe, **options).literal(" WITHOUT ROWID")

    return Clustered


#: Bytes per page of a new database file (SQLite's: 4 KiB held one ~2 KiB event row each, 40 % empty). At 16
#: KiB a 100,000-event file is 15 % smaller and serves as fast or faster (benchmarks/README.md, 2026-12-02).
#: An older file keeps its pages (README: The data model, to convert it).
PAGE_SIZE = 16384

#: Seconds a read-only (server) connection waits for a lock before giving up (a 503).
READ_BUSY_TIMEOUT = 1.0
#: The loader's page cache: index builds and the search index sort and merge large b-trees.
LOAD_CACHE_KIB = 256 * 1024
INCREMENTAL_CACHE_KIB = 32 * 1024
#: search rows are numbered this far apart, so that an incremental load can number new rows in
#: list order between them (models/load/incremental.py)
ROWID_GAP = 1 << 24
#: virtual-machine steps between two looks at the clock of a request's time budget (a few hundred µs)
BUDGET_CHECK_STEPS = 20_000


class BudgetedSqliteDatabase(SqliteDatabase):
    """A SqliteDatabase that tells the backend when each statement starts (the clock of the
    request's time budget, see :meth:`SQLite.start_budget`)."""

    def _execute_cursor(self, sql, params, **cursor_options):
        BACKEND.statement_starts(self)
        return super()._execute_cursor(sql, params, **cursor_options)


class SQLite(Backend):
    name = "sqlite"
    schemes = ("sqlite",)
    database_classes = (SqliteDatabase,)
    extra_models = [UnorderedSearchDoc, SearchFTS, SearchTerms]
    finds_references_while_loading = True  # a scan of the referencing table when there is no index
    orders_text_like_python = True  # (no column of the tables declares a collation)
    index_hint = 'INDEXED BY "{index}"'  # (its planner would take the dates' index for a long range, then sort)

    def __init__(self):
        self._budget = threading.local()  # this thread's Ticket (a request is one thread's)
        self.watchdog = Watchdog()

    # -- connections
    def file_path(self, url: str) -> Path | None:
        # sqlite:///relative/file and sqlite:////absolute/file, as playhouse.db_url reads them
        return Path(urlparse(url).path[1:])

    def open(self, url: str, *, read_only: bool = False, create_dir: bool = False, mapped_bytes: int = 0):
        path = self.file_path(url)
        if create_dir:
            path.parent.mkdir(parents=True, exist_ok=True)
        if not read_only:  # page_size first: it only counts before anything is written
            return SqliteDatabase(str(path), pragmas={"page_size": PAGE_SIZE, **PRAGMAS}, check_same_thread=False)
        pragmas = dict(PRAGMAS)
        # a server never creates a missing file: it answers 503 instead of serving an empty one
        pragmas.pop("journal_mode")  # persistent in the file; setting it needs a write lock
        pragmas["query_only"] = 1
        # In WAL mode a reader waits only when something holds the whole file (an exclusive
        # lock, a recovery): fail fast into a 503 rather than hold a server thread for 5 s.
        pragmas["busy_timeout"] = int(READ_BUSY_TIMEOUT * 1000)
        # (SQLite maps at most its build's limit, 2 GiB in the usual builds: the rest of a larger
        # file is read as without a map. SQLite maps again at each read transaction, so a load, even one
        # that shrank the file, is safe; a write into the file from outside SQLite (cp, truncate) kills
        # the worker reading a page it cut off with SIGBUS: README, Deploying at scale.)
        pragmas["mmap_size"] = max(0, int(mapped_bytes))
        return BudgetedSqliteDatabase(f"file:{path}?mode=ro", uri=True, pragmas=pragmas, check_same_thread=False,
                                      timeout=READ_BUSY_TIMEOUT)

    def row_locator(self, model) -> str | None:
        # a table's own B-tree is keyed by rowid; the key's is a second index (not so when clustered)
        return None if getattr(model._meta, "clustered", False) else "rowid"

    def utf8(self, column: str) -> str:
        # a BLOB cast hands over the stored bytes of the text: UTF-8, the encoding of every file
        # the loader creates (it never sets PRAGMA encoding). (PostgreSQL keeps the base's text:
        # psycopg reads a bytea in the text protocol as hex, twice the bytes, decoded in Python.)
        return f"CAST({column} AS BLOB)"

    def change_marker(self, db):
        # on the driver's connection: asked before every request (the validity check of a cached
        # answer), and instant, so neither the statement log nor the time budget's watch is needed
        return db.connection().execute("PRAGMA data_version").fetchone()[0]

    def is_missing_table(self, error: Exception) -> bool:
        return "no such table" in str(error)

    def start_budget(self, db, seconds: float) -> None:
        # SQLite has no statement timeout. Each statement of the request gets ``seconds`` from its
        # start (as statement_timeout on PostgreSQL: time spent in Python, or waiting for the GIL
        # on a busy machine, does not count): a progress handler that answers non-zero makes the
        # running statement fail with "interrupted". It runs between virtual-machine steps, and
        # one FTS5 lookup of a short prefix is a single step of a second or more, which only
        # sqlite3_interrupt() (the watchdog's, at the deadline) stops inside. Both, then.
        # The request's statements together end within REQUEST_BUDGETS budgets of the first one's start.
        budget = self._budget
        self._end_ticket()
        budget.seconds, budget.deadline, budget.first = seconds, float("inf"), None
        db.connection().set_progress_handler(lambda: time.monotonic() > budget.deadline, BUDGET_CHECK_STEPS)

    def statement_starts(self, db) -> None:
        """(BudgetedSqliteDatabase, before each statement.) The budget's clock starts again, for
        what the request has left (BudgetSpent when nothing is)."""
        budget = self._budget
        if getattr(budget, "seconds", 0):
            self._end_ticket()
            now = time.monotonic()
            if budget.first is None:
                budget.first = now
            left = statement_seconds(budget.seconds, budget.first, now)
            budget.deadline = now + left
            budget.ticket = self.watchdog.watch(db.connection(), left)

    def lift_budget(self, db) -> None:
        self.end_budget(db)

    def end_budget(self, db) -> None:
        self._budget.seconds = 0
        fired = self._end_ticket()
        if db.is_closed():
            return
        if fired:
            # an interrupt also stops statements started later while one that was running is still
            # open (a cursor not read to its end): the thread's next request gets a new connection
            from ..db import close_database

            close_database(db)
            return
        db.connection().set_progress_handler(None, 0)

    def _end_ticket(self) -> bool:
        """End this thread's ticket; True when the watchdog had interrupted its connection."""
        ticket = getattr(self._budget, "ticket", None)
        if ticket is None:
            return False
        self.watchdog.end(ticket)
        self._budget.ticket = None
        return ticket.fired

    def is_over_budget(self, error: Exception) -> bool:
        return "interrupted" in str(error)

    def is_statement_fault(self, error: Exception) -> bool:
        # Python's sqlite3 raises OperationalError for a locked or unreadable file and for SQL it
        # cannot compile alike: these are the second kind (sqlite3.c's own messages)
        return isinstance(error, (OperationalError, sqlite3.OperationalError)) and str(error).startswith(STATEMENT_FAULTS)

    # -- loading
    def load_lock(self, db, progress):
        memory = db.database in ("", ":memory:")  # (no other process can load it)
        return file_lock(None if memory else Path(db.database), progress)

    def prepare_load(self, db) -> None:
        db.execute_sql(f"PRAGMA cache_size = -{LOAD_CACHE_KIB}")
        db.execute_sql(f"PRAGMA threads = {os.cpu_count() or 1}")  # helper threads for the index builds' sorts
        # the sorts of the index builds spill to temporary files, not to this process's memory
        db.execute_sql("PRAGMA temp_store = FILE")

    def prepare_incremental(self, db) -> None:
        # a difference reads and writes a few thousand rows' pages, not the bulk load's index
        # builds: the bulk load's page cache would only hold pages read once (peak RSS)
        db.execute_sql(f"PRAGMA cache_size = -{INCREMENTAL_CACHE_KIB}")

    def reset_schema(self, db, models: list, same_layout: bool) -> None:
        # drop and re-create, then bulk-insert with only the indexes that lead with a foreign key
        # (models/load: create_indexes); a reader's snapshot covers the schema too, so it keeps
        # seeing the old dataset until the commit
        for model in reversed(models):
            type(model._schema)(model, db).drop_all(safe=True)
        for model in models:
            options = {"temporary": True} if model is UnorderedSearchDoc else {}
            clustered_schema(model)(model, db).create_all(safe=False, **options)

    def storage_advice(self, db) -> str | None:
        size = db.execute_sql("PRAGMA page_size").fetchone()[0]
        return None if size == PAGE_SIZE else (
            f"this file keeps its {size // 1024} KiB pages (a new one gets {PAGE_SIZE // 1024} KiB and is about 15 % "
            "smaller): README.md, 'The data model', gives the command that converts it")

    def index_needed(self, model, columns: tuple[str, ...]) -> bool:
        if not super().index_needed(model, columns):
            return False
        # a clustered table is its key's index, and its rows hold every other column
        key = key_columns(model)
        return not (getattr(model._meta, "clustered", False) and key and columns[:len(key)] == key)

    def bulk_insert(self, db, model, rows: list[dict]) -> None:
        """One prepared INSERT through ``executemany`` (peewee would build the SQL text of every
        row, most of a load's time)."""
        self._execute_many(db, model, rows, "", lambda: model.insert_many(rows).execute())

    def upsert(self, db, model, rows: list[dict]) -> None:
        key = model._meta.primary_key
        update = ", ".join(f'"{f.column_name}" = excluded."{f.column_name}"'
                           for f in model._meta.sorted_fields if f is not key)
        self._execute_many(db, model, rows, f' ON CONFLICT ("{key.column_name}") DO UPDATE SET {update}',
                           lambda: super(SQLite, self).upsert(db, model, rows))

    @staticmethod
    def _execute_many(db, model, rows: list[dict], conflict: str, through_peewee) -> None:
        """An INSERT of ``rows`` (``conflict``: its ON CONFLICT clause) prepared once, or
        ``through_peewee`` when the rows are not uniform (:func:`uniform_rows`; rows of a
        day-ordered table written so take SQLite's next rowid, after the others: their
        place only, models/backends/day_order.py)."""
        if not rows:
            return
        shaped = uniform_rows(model, rows)
        if shaped is None:
            through_peewee()
            return
        fields, values = shaped
        if is_day_ordered(model):
            fields, values = with_rowids(db, model, fields, values)
        columns = ", ".join("rowid" if field is None else f'"{field.column_name}"' for field in fields)
        sql = f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({", ".join("?" * len(fields))}){conflict}'
        db.cursor().executemany(sql, values)

    def after_load(self, db) -> None:
        with db.bind_ctx([SearchFTS]):
            SearchFTS.optimize()

    # -- search
    def write_search_rows(self, db, rows: list[dict]) -> None:
        self.bulk_insert(db, UnorderedSearchDoc, rows)

    def finish_search_index(self, db) -> None:
        # number the rows in list order (see SearchDoc): sort the keys through an index,
        # copy the rows in that order, and index the copy, whose rowids FTS5 takes
        order = ("kind", "part", "sort_date", "record_id")
        columns = ", ".join(f'"{c}"' for c in (*order, "body", "forms"))
        db.execute_sql(f'CREATE INDEX "unordered_search_doc_order" ON "unordered_search_doc" ({", ".join(order)})')
        db.execute_sql(f'INSERT INTO "search_doc" ("rowid", {columns}) SELECT '
                       f'{ROWID_GAP} * row_number() OVER (ORDER BY {", ".join(order)}), {columns} '
                       f'FROM "unordered_search_doc" ORDER BY {", ".join(order)}')
        db.execute_sql('DROP TABLE "unordered_search_doc"')
        with db.bind_ctx([SearchFTS]):
            SearchFTS.rebuild()

    def place_search_rows(self, db, rows: list[dict]) -> None:
        numbered = _numbered_in_gaps(_gaps_of(db, rows))
        columns = ("rowid", *SEARCH_ORDER, "body", "forms")
        names = ", ".join(f'"{c}"' for c in columns)
        db.cursor().executemany(
            f'INSERT INTO "search_doc" ({names}) VALUES ({", ".join("?" * len(columns))})',
            [(rowid, *(row[c] for c in columns[1:])) for rowid, row in numbered])
        db.cursor().executemany('INSERT INTO "search_fts" ("rowid", "forms") VALUES (?, ?)',
                                [(rowid, row["forms"]) for rowid, row in numbered])

    def rows_with_terms(self, db, terms: list[str]):
        match = " AND ".join(fts5_string(term) for term in terms)
        return db.execute_sql('SELECT d."kind", d."record_id", d."body" FROM "search_fts" f JOIN "search_doc" d '
                              'ON d."rowid" = f."rowid" WHERE "search_fts" MATCH ?', [match])

    def delete_search_rows(self, db, kind: str, record_ids: list[str]) -> None:
        # an external-content FTS5 index forgets a row when told its indexed values
        marks = ", ".join("?" * len(record_ids))
        where = f'WHERE "kind" = ? AND "record_id" IN ({marks})'
        db.execute_sql(f'INSERT INTO "search_fts" ("search_fts", "rowid", "forms") '
                       f'SELECT \'delete\', "rowid", "forms" FROM "search_doc" {where}', [kind, *record_ids])
        db.execute_sql(f'DELETE FROM "search_doc" {where}', [kind, *record_ids])

    def word_term(self, word: str, stem_terms: tuple[str, ...], known: dict | None = None) -> str:
        return fts5_term(word, stem_terms, known)

    def all_of(self, terms: list[str]) -> str:
        return " AND ".join(terms)

    def any_of(self, terms: list[str]) -> str:
        return " OR ".join(terms)

    def but_not(self, expression: str, excluded: str) -> str:
        return f"({expression}) NOT ({excluded})"

    def ranked_matches(self, query, kinds: tuple[str, ...]):
        matches = SearchFTS.select(SearchFTS.rowid.alias("doc_rowid")).where(
            SearchFTS.match(self.match_expression(query))).alias("m")
        exact = SearchFTS.select(SearchFTS.rowid).where(SearchFTS.match(self.match_expression(query, exact=True)))
        rank = Case(None, [(SearchDoc.rowid.in_(exact), 0)], 1)
        select = (SearchDoc.select(SearchDoc, rank.alias("rank"))
                  .join(matches, on=(SearchDoc.rowid == matches.c.doc_rowid)))
        if tuple(kinds) != SEARCH_KINDS:
            # "+kind": not through the (kind, …) index, which for one kind SQLite would take as the
            # outer loop, reading every row of the kind and probing FTS for each (1.7–3 s at 20,000
            # events for a common word, against 0.01 s reading the matches first)
            select = select.where(NodeList((SQL("+"), SearchDoc.kind)).in_(list(kinds)))
        return with_phrases(select, query)

    def matching_ids(self, query, kind: str):
        # the rows of one kind are one rowid range (see SearchDoc): bounding the FTS rowids
        # keeps the kind test out of the outer query, which SQLite would otherwise answer
        # by reading every row of the kind from the index
        doc = SearchDoc.alias()
        edge = doc.select(doc.rowid).where(doc.kind == kind)
        first = edge.order_by(doc.part, doc.sort_date, doc.record_id).limit(1)
        last = edge.order_by(doc.part.desc(), doc.sort_date.desc(), doc.record_id.desc()).limit(1)
        rowids = SearchFTS.select(SearchFTS.rowid).where(
            SearchFTS.match(self.match_expression(query)), SearchFTS.rowid >= first, SearchFTS.rowid <= last)
        return with_phrases(SearchDoc.select(SearchDoc.record_id).where(SearchDoc.rowid.in_(rowids)), query)

    def ordered_event_search(self, query, conditions: list, start: str | None, end: str | None,
                             include_undated: bool):
        parts = [
            SearchOrderedPart(self, query, STARTED, conditions, high=end,
                              # a started event overlaps [from, …] when it ends on or after it (or is open)
                              also=(Event.date_end.is_null() | (Event.date_end >= start)) if start else None),
            SearchOrderedPart(self, query, END_ONLY, conditions, low=start),  # sort_date is the end
        ]
        if not (start or end) or include_undated:
            parts.append(SearchOrderedPart(self, query, UNDATED, conditions))
        return parts

    # -- SQL that differs
    def string_agg(self, column):
        return fn.GROUP_CONCAT(fn.DISTINCT(column))


BACKEND = register(SQLite())


#: the list order of the search rows, which their rowids follow (SQLite.place_search_rows)
SEARCH_ORDER = ("kind", "part", "sort_date", "record_id")


def _gaps_of(db, rows: list[dict]) -> dict[tuple, list[dict]]:
    """The new search rows in list order, grouped by the gap they go in: (rowid before, rowid
    after), None where no row is on that side."""
    key = ", ".join(f'"{c}"' for c in SEARCH_ORDER)
    marks = ", ".join("?" * len(SEARCH_ORDER))
    descending = ", ".join(f'"{c}" DESC' for c in SEARCH_ORDER)
    before = f'SELECT "rowid" FROM "search_doc" WHERE ({key}) < ({marks}) ORDER BY {descending} LIMIT 1'
    after = f'SELECT "rowid" FROM "search_doc" WHERE ({key}) > ({marks}) ORDER BY {key} LIMIT 1'
    gaps: dict[tuple, list[dict]] = {}
    for row in sorted(rows, key=lambda row: tuple(row[c] for c in SEARCH_ORDER)):
        values = [row[c] for c in SEARCH_ORDER]
        low = db.execute_sql(before, values).fetchone()
        high = db.execute_sql(after, values).fetchone()
        gaps.setdefault((low[0] if low else None, high[0] if high else None), []).append(row)
    return gaps


def _numbered_in_gaps(gaps: dict[tuple, list[dict]]) -> list[tuple[int, dict]]:
    """(rowid, row) of each gap's rows, spread evenly between its bounds (past the last row, or
    before the first, ROWID_GAP apart)."""
    numbered = []
    for (low, high), group in gaps.items():
        k = len(group) + 1
        if low is None:
            low = (high if high is not None else 0) - ROWID_GAP * k
        if high is None:
            high = low + ROWID_GAP * k
        step = (high - low) // k
        if step < 1:
            raise NoRoom("the search index has no room left between two rows")
        numbered.extend((low + step * (i + 1), row) for i, row in enumerate(group))
    return numbered

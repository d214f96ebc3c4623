"""PostgreSQL: MVCC snapshots, a GIN-indexed tsvector of the same search terms.

Requests read in one ``REPEATABLE READ, READ ONLY`` snapshot. A load deletes and
inserts rows in one transaction (a snapshot does not cover dropped tables, so
tables are only re-created when their layout changed). The search index is a
``tsvector`` built from the very tokens SQLite's FTS5 indexes, queried as prefix
``tsquery`` terms.
"""
from __future__ import annotations

import threading
import time
from urllib.parse import parse_qs, urlsplit

from peewee import Case, Cast, Expression, PostgresqlDatabase, Value, fn
from playhouse.db_url import connect as connect_url

from ..search_index import SearchDoc, with_phrases
from ..vocabulary import SEARCH_KINDS
from . import REQUEST_BUDGETS, Backend, register, statement_seconds, uniform_rows
from .load_lock import advisory_lock

try:  # psycopg is optional (the ``postgres`` extra)
    import psycopg

    CONNECTION_ERRORS: tuple[type[Exception], ...] = (psycopg.OperationalError,)
except ImportError:  # pragma: no cover - depends on the installed extras
    CONNECTION_ERRORS = ()

#: SQLSTATE of a statement cancelled by statement_timeout (query_canceled)
QUERY_CANCELED = "57014"
#: seconds a connection may take to be made, unless the URL's ``connect_timeout`` says otherwise
CONNECT_TIMEOUT = 5
#: seconds past a request's own bound (REQUEST_BUDGETS budgets) before this side stops waiting for
#: the server: its statement_timeout answers long before, unless the server process or the network
#: is gone; generous, so that a request slowed down by a busy machine is never cut
CLIENT_GRACE = 10.0
#: this thread's request deadline (``time.monotonic()``) for every wait on the server, or None
#: (models/backends/postgresql_waits.py)
DEADLINE = threading.local()


TSV_UPDATE = "UPDATE search_doc SET tsv = array_to_tsvector(string_to_array(forms, ' '))"


def ts_lexeme(token: str) -> str:
    return "'" + token.replace("'", "''") + "'"


def ts_term(token: str) -> str:
    """A query word as a prefix lexeme."""
    return ts_lexeme(token) + ":*"


def _defaults(url: str, application: str) -> dict:
    """Connection parameters the URL does not give: a bound on connecting (CONNECT_TIMEOUT), a
    name operators see in pg_stat_activity, and TCP keepalives that notice a lost client or
    server in about two minutes rather than the system's two hours (a load's advisory lock ends
    only when the server notices its client is gone)."""
    given = parse_qs(urlsplit(url).query)
    defaults = {"connect_timeout": CONNECT_TIMEOUT, "application_name": application,
                "keepalives_idle": 60, "keepalives_interval": 10, "keepalives_count": 6}
    return {name: value for name, value in defaults.items() if name not in given}


def _sqlstates(error: Exception) -> set[str]:
    """The SQLSTATE codes of ``error`` and of the driver's error under it (peewee raises its own
    error while handling the driver's: its __cause__ or __context__)."""
    causes = (error, error.__cause__, error.__context__)
    return {state for state in (getattr(cause, "sqlstate", None) for cause in causes) if state}


class PostgreSQL(Backend):
    name = "postgresql"
    schemes = ("postgresql", "postgres")
    database_classes = (PostgresqlDatabase,)
    unavailable_errors = CONNECTION_ERRORS

    def __init__(self):
        self._budget = threading.local()  # this thread's request budget (a request is one thread's)

    def open(self, url: str, *, read_only: bool = False, create_dir: bool = False, mapped_bytes: int = 0):
        # psycopg 3 even where psycopg2 is installed too (peewee would take psycopg2): the loader
        # writes by COPY through psycopg 3's cursor (bulk_insert)
        # a server that accepts the connection and never answers (a hung host, a partition) held the
        # thread without end: connecting gives up after CONNECT_TIMEOUT seconds (the URL may say
        # otherwise), and a replica that does so is skipped for the primary (models.db.ReadRouter)
        db = connect_url(url, autoconnect=False, prefer_psycopg3=True,
                         **_defaults(url, "event-records serve" if read_only else "event-records load"))
        if read_only:  # a server's: its waits for an answer end at the request's deadline (watch_request)
            from .postgresql_waits import BoundedAdapter

            db._adapter = BoundedAdapter()
        # a server's connection tells the request's budget when each statement starts
        return _telling_statements(db) if read_only else db

    def load_lock(self, db, progress):
        return advisory_lock(db, progress)

    def begin_snapshot(self, db):
        transaction = super().begin_snapshot(db)
        db.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return transaction

    def is_missing_table(self, error: Exception) -> bool:
        return "does not exist" in str(error)

    def start_budget(self, db, seconds: float) -> None:
        # LOCAL: for this transaction only, so a pooled connection goes back without it. It
        # bounds each statement of the request; the server cancels the statement (57014) and
        # the backend process is free at once, whether or not the client is still there. A
        # statement that starts once the request has used a budget's time gets what is left of
        # REQUEST_BUDGETS budgets (statement_starts): a SET only for requests that slow.
        budget = self._budget
        budget.seconds = 0  # (the SET is not one of the request's statements)
        db.execute_sql(f"SET LOCAL statement_timeout = {_milliseconds(seconds)}")
        budget.seconds, budget.first, budget.timeout = seconds, None, seconds

    def statement_starts(self, db) -> None:
        """(A server's connection, before each statement.) Tighten the statement timeout to what
        the request has left when that is less than it (BudgetSpent when nothing is)."""
        budget = self._budget
        if not getattr(budget, "seconds", 0):
            return
        now = time.monotonic()
        if budget.first is None:
            budget.first = now
        left = statement_seconds(budget.seconds, budget.first, now)
        if left < budget.timeout and not _failed(db):  # (in a failed transaction the statement fails anyway)
            budget.timeout = left
            db.cursor().execute(f"SET LOCAL statement_timeout = {_milliseconds(left)}")

    def watch_request(self, seconds: float) -> None:
        # statement_timeout is the server's: a server process that hangs (stopped, swapping, a
        # bug) or a network that drops everything never sends its cancel, and the thread waited
        # for an answer without end (a pool's check of a kept connection has its own, shorter
        # bound: models/backends/postgresql_waits.py)
        DEADLINE.at = time.monotonic() + seconds * REQUEST_BUDGETS + CLIENT_GRACE

    def end_watch(self) -> None:
        DEADLINE.at = None

    def excuse(self, seconds: float) -> None:
        super().excuse(seconds)
        if getattr(DEADLINE, "at", None) is not None:  # (the gazetteer's build is not the request's own time)
            DEADLINE.at += seconds

    def lift_budget(self, db) -> None:
        self._budget.seconds = 0
        db.execute_sql("SET LOCAL statement_timeout = 0")
        self.end_watch()  # (after the SET, which the watch covered)

    def end_budget(self, db) -> None:
        self._budget.seconds = 0

    def is_over_budget(self, error: Exception) -> bool:
        return QUERY_CANCELED in _sqlstates(error)

    def is_statement_fault(self, error: Exception) -> bool:
        # class 54, program limit exceeded (statement too complex, too many arguments): psycopg makes
        # it an OperationalError, the class of a lost server, but it is the statement's own fault
        return any(state.startswith("54") for state in _sqlstates(error))

    def reset_schema(self, db, models: list, same_layout: bool) -> None:
        if same_layout:  # MVCC keeps the old rows visible to readers until the commit
            for model in reversed(models):
                model.delete().execute()
            return
        for model in reversed(models):
            type(model._schema)(model, db).drop_all(safe=True)
        for model in models:
            type(model._schema)(model, db).create_all(safe=False)

    def check_references(self, db) -> None:
        db.execute_sql("SET CONSTRAINTS ALL IMMEDIATE")

    def bulk_insert(self, db, model, rows: list[dict]) -> None:
        """``COPY … FROM STDIN``, the rows streamed as they are: an INSERT of a batch through
        peewee spent most of a load writing and re-parsing SQL text (5,000 generated events:
        39 of the load's 60 profiled seconds). Rows that are not uniform go through peewee."""
        if not rows:
            return
        shaped = uniform_rows(model, rows)
        if shaped is None:
            super().bulk_insert(db, model, rows)
            return
        fields, values = shaped
        columns = ", ".join(f'"{field.column_name}"' for field in fields)
        with db.cursor().copy(f'COPY "{model._meta.table_name}" ({columns}) FROM STDIN') as copy:
            for value in values:
                copy.write_row(value)

    def write_search_rows(self, db, rows: list[dict]) -> None:
        self.bulk_insert(db, SearchDoc, rows)

    def finish_search_index(self, db) -> None:
        db.execute_sql(TSV_UPDATE)
        db.execute_sql("CREATE INDEX IF NOT EXISTS search_doc_tsv_idx ON search_doc USING GIN (tsv)")

    def place_search_rows(self, db, rows: list[dict]) -> None:
        self.bulk_insert(db, SearchDoc, rows)
        db.execute_sql(TSV_UPDATE + " WHERE tsv IS NULL")

    def rows_with_terms(self, db, terms: list[str]):
        query = " & ".join(ts_lexeme(term) for term in terms)
        return db.execute_sql('SELECT "kind", "record_id", "body" FROM "search_doc" WHERE tsv @@ %s::tsquery', [query])

    def delete_search_rows(self, db, kind: str, record_ids: list[str]) -> None:
        SearchDoc.delete().where((SearchDoc.kind == kind) & SearchDoc.record_id.in_(record_ids)).execute()

    def word_term(self, word: str, stem_terms: tuple[str, ...], known: dict | None = None) -> str:
        # (a prefix is the tsquery's own :*, no terms to look up)
        alternatives = [ts_term(word), *(ts_lexeme(term) for term in stem_terms)]
        return alternatives[0] if len(alternatives) == 1 else "(" + " | ".join(alternatives) + ")"

    def all_of(self, terms: list[str]) -> str:
        return " & ".join(terms)

    def any_of(self, terms: list[str]) -> str:
        return " | ".join(terms)

    def but_not(self, expression: str, excluded: str) -> str:
        return f"({expression}) & !({excluded})"

    def _matching(self, query, exact: bool = False):
        return Expression(SearchDoc.tsv, "@@", Cast(Value(self.match_expression(query, exact)), "tsquery"))

    def ranked_matches(self, query, kinds: tuple[str, ...]):
        rank = Case(None, [(self._matching(query, exact=True), 0)], 1)
        select = SearchDoc.select(SearchDoc, rank.alias("rank")).where(self._matching(query))
        if tuple(kinds) != SEARCH_KINDS:
            select = select.where(SearchDoc.kind.in_(list(kinds)))
        return with_phrases(select, query)

    def matching_ids(self, query, kind: str):
        select = SearchDoc.select(SearchDoc.record_id).where(self._matching(query) & (SearchDoc.kind == kind))
        return with_phrases(select, query)

    def bytewise(self, column: str) -> str:
        # the database's collation (en_US, ICU) sorts '-' and '_' apart from their code points;
        # "C" compares UTF-8 bytes, which is code-point order
        return f'{column} COLLATE "C"'

    def string_agg(self, column):
        return fn.STRING_AGG(fn.DISTINCT(column), ",")


def _failed(db) -> bool:
    """Whether the connection's transaction failed (a statement was cancelled): it takes no SET."""
    status = db.connection().info.transaction_status
    return status == psycopg.pq.TransactionStatus.INERROR


def _milliseconds(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def _telling_statements(db):
    """``db`` (plain or pooled, as the URL chose) telling the backend when each statement starts
    (the request's time budget, :meth:`PostgreSQL.statement_starts`): its own ``_execute_cursor``,
    in front of its class's (peewee runs every statement through it)."""
    execute = db._execute_cursor

    def told(sql, params, **cursor_options):
        BACKEND.statement_starts(db)
        return execute(sql, params, **cursor_options)

    db._execute_cursor = told
    return db


BACKEND = PostgreSQL()
register(BACKEND)

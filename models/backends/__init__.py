"""The seam between generic code and each database: one module per backend.

Generic code (queries, counts, search, the loader, the web layer's database owner)
asks the backend of a database for what differs between engines and never tests
which engine it has. A backend is one module that defines a :class:`Backend`
subclass and registers it; adding one means that module plus its test run.

What a backend answers:

* opening a URL, and for file databases the file behind it (the server notices a
  replaced file) and a cheap marker that changes when another connection commits;
* the read snapshot a request runs in;
* the loader's settings, schema reset and bulk insert;
* the search index: its extra tables, how rows are written and finished, the match
  expression, ranked and unranked matches, and (where the engine can) event pages
  read from the index in list order;
* SQL that differs: string aggregation, "no such table" errors.
"""
from __future__ import annotations

from pathlib import Path

from .. import text as textnorm


class NoRoom(Exception):
    """An incremental change the stored structures cannot take in place (the load rebuilds)."""


def key_columns(model) -> tuple[str, ...]:
    """The field names of ``model``'s primary key, in order (() without one)."""
    key = model._meta.primary_key
    if not key:
        return ()
    return tuple(getattr(key, "field_names", None) or (key.name,))


def uniform_rows(model, rows: list[dict]):
    """(fields, value tuples) of ``rows`` for a bulk write that bypasses the query builder (an
    INSERT prepared once, a COPY), or None when they must go through peewee: when the rows do not
    all have the same keys, a key is not a field of ``model``, or the first row's values are not
    already what the fields' ``db_value`` stores (the loader gives each column its stored type)."""
    keys = list(rows[0])
    fields = [model._meta.combined.get(key) for key in keys]
    if (any(field is None for field in fields)  # (a field == None is an expression)
            or not all(_stored_as_given(field, rows[0][key]) for key, field in zip(keys, fields))):
        return None
    try:
        values = [tuple([row[key] for key in keys]) for row in rows if len(row) == len(keys)]
    except KeyError:  # same length, other keys
        return None
    return (fields, values) if len(values) == len(rows) else None


def _stored_as_given(field, value) -> bool:
    """Whether ``field`` stores ``value`` as it is: equal and of the same type (1.0 and True
    equal 1, and a COPY would write them as 1.0 and t)."""
    stored = field.db_value(value)
    return stored == value and type(stored) is type(value)


class Backend:
    """The interface; each method's docstring says what a backend must do."""

    name = "?"
    #: URL schemes this backend opens (before ``://``; ``+pool`` variants included)
    schemes: tuple[str, ...] = ()
    #: the peewee Database class(es) of its connections
    database_classes: tuple[type, ...] = ()
    #: models that exist only on this backend (search index helpers), created with the rest
    extra_models: list = []
    #: driver exceptions that mean "the database cannot be reached right now"
    unavailable_errors: tuple[type[Exception], ...] = ()
    #: whether writing a row makes the engine look up the rows that reference it, through an
    #: index on their foreign key, while deferred checks are outstanding (models/load:
    #: create_indexes builds those with the tables)
    finds_references_while_loading = False
    #: the engine orders the text of sort keys by code point, as Python orders str (SQLite's
    #: BINARY collation compares UTF-8 bytes, which is the same order), so the rows of a page may be
    #: read in any order and sorted in Python (models/paging.py: sorting them in SQL sorted their
    #: documents too, a third of reading a page of 50 events)
    orders_text_like_python = False

    # -- connections
    def open(self, url: str, *, read_only: bool = False, create_dir: bool = False, mapped_bytes: int = 0):
        """A peewee Database for ``url``, not yet connected. A ``read_only`` connection to a file
        may read up to ``mapped_bytes`` of it through a memory map (backends without one ignore it)."""
        raise NotImplementedError

    def file_path(self, url: str) -> Path | None:
        """The file that holds the data (file databases), else None."""
        return None

    def change_marker(self, db):
        """Something that changes when another connection commits, read without a
        transaction (SQLite: ``PRAGMA data_version``), or None when there is none."""
        return None

    def begin_snapshot(self, db):
        """Start a read-only transaction whose reads all see one snapshot; return it
        (a context manager already entered: exit it to end the transaction)."""
        transaction = db.atomic()
        transaction.__enter__()
        return transaction

    def is_missing_table(self, error: Exception) -> bool:
        """True when ``error`` says a table does not exist (nothing was loaded yet)."""
        raise NotImplementedError

    # -- the time budget of a request (api/database.py)
    def start_budget(self, db, seconds: float) -> None:
        """Make the engine itself abort this connection's statements once ``seconds`` have
        passed (from now), inside the snapshot just begun: a runaway query stops in the
        database, not only in the worker, and frees both."""

    def watch_request(self, seconds: float) -> None:
        """Bound on this side how long this thread's request may wait for the engine, from when it
        has its connection until :meth:`end_watch`, where the engine's own bound cannot come back
        (a server process that hangs, a network that drops everything): the request's bound for
        ``seconds`` of budget, and a grace. Engines without that failure (a file) need nothing."""

    def end_watch(self) -> None:
        """This thread's request waits for the engine without a bound again (its end, an export)."""

    def lift_budget(self, db) -> None:
        """No deadline any more on this connection's current transaction (a streamed export,
        bounded by number instead)."""

    def end_budget(self, db) -> None:
        """Forget the deadline before the connection is kept for another request."""

    def is_over_budget(self, error: Exception) -> bool:
        """True when ``error`` is a statement the engine aborted because the budget ran out."""
        return False

    def is_statement_fault(self, error: Exception) -> bool:
        """True when ``error``, of a class that also reports an unreachable database, is a fault of
        the statement itself (SQL the engine cannot run): a defect to log, not an outage to retry."""
        return False

    def excuse(self, seconds: float) -> None:
        """Move this thread's request window (REQUEST_BUDGETS) on by ``seconds`` of work that was
        not the request's own (the backends keep the window in ``self._budget``)."""
        budget = getattr(self, "_budget", None)
        if budget is not None and getattr(budget, "first", None) is not None:
            budget.first += seconds

    # -- loading
    def load_lock(self, db, progress):
        """A context manager held by a load from its first read of ``db`` (the plan) past its commit:
        a second load of the same database waits for it (saying so once through ``progress``)
        and then plans against what the first committed (models/backends/load_lock.py)."""
        raise NotImplementedError

    def prepare_load(self, db) -> None:
        """Per-connection settings for a bulk load."""

    def prepare_incremental(self, db) -> None:
        """Per-connection settings for a load that applies a difference (after prepare_load)."""

    def reset_schema(self, db, models: list, same_layout: bool) -> None:
        """Empty ``models``' tables for a new load, inside the caller's transaction. (The loader
        then builds the indexes that lead with a foreign key where the engine needs them while
        rows are written: ``finds_references_while_loading``.)"""
        raise NotImplementedError

    def storage_advice(self, db) -> str | None:
        """What a rebuild cannot change about how this database stores its tables and a curator
        can (said when everything is rebuilt), or None."""
        return None

    def index_needed(self, model, columns: tuple[str, ...]) -> bool:
        """False when ``model``'s table, as this engine stores it, already serves an index on
        ``columns`` (models/load: create_indexes): here, when they start its primary key, whose
        own index serves them."""
        key = key_columns(model)
        return key[:len(columns)] != tuple(columns)

    def bulk_insert(self, db, model, rows: list[dict]) -> None:
        model.insert_many(rows).execute()

    def upsert(self, db, model, rows: list[dict]) -> None:
        """Write ``rows`` over the stored rows with the same primary key (new keys are inserted).
        An update in place, for rows that others reference: deleting one makes the engine visit
        every reference to it under a deferred foreign key (a popular participant's hundreds of
        thousands), and inserting it again visits them again."""
        if rows:
            key = model._meta.primary_key
            model.insert_many(rows).on_conflict(
                conflict_target=[key], preserve=[f for f in model._meta.sorted_fields if f is not key]).execute()

    def check_references(self, db) -> None:
        """Check the deferred foreign keys now, before the load's index builds (which some
        engines refuse while checks are pending); a broken reference raises here."""

    def after_load(self, db) -> None:
        """Work after the load's commit (index optimisation)."""

    # -- search
    def write_search_rows(self, db, rows: list[dict]) -> None:
        raise NotImplementedError

    def finish_search_index(self, db) -> None:
        raise NotImplementedError

    def place_search_rows(self, db, rows: list[dict]) -> None:
        """Add rows to a built index (an incremental load)."""
        raise NotImplementedError

    def rows_with_terms(self, db, terms: list[str]):
        """(kind, record_id, body) of the search rows whose forms hold every one of ``terms``
        as written (no prefix, no stems)."""
        raise NotImplementedError

    def delete_search_rows(self, db, kind: str, record_ids: list[str]) -> None:
        """Remove the rows of these records from a built index (an incremental load)."""
        raise NotImplementedError

    def match_expression(self, query, exact: bool = False) -> str:
        """The parsed query in the engine's own syntax: broad (each word as written or through its
        stems; what filters use) or ``exact`` (each word as written only), worked out once."""
        mode = "exact" if exact else "broad"
        if mode not in query.compiled:
            known = query.prefix_terms

            def term(word):
                if not exact:
                    return self.word_term(word, query.stems(word), known)
                # as written: the word, or the word without the proclitics it was typed with
                # (وروحاني, بطهران: the text's روحاني, طهران are what was asked for)
                forms = textnorm.index_forms(word)
                if len(forms) == 1:
                    return self.word_term(word, (), known)
                return "(" + self.any_of([self.word_term(form, (), known) for form in forms]) + ")"
            expression = self.all_of([term(word) for word in query.positive])
            if query.excluded:
                expression = self.but_not(expression, self.any_of([term(word) for word in query.excluded]))
            query.compiled[mode] = expression
        return query.compiled[mode]

    def word_term(self, word: str, stem_terms: tuple[str, ...], known: dict | None = None) -> str:
        """One query word (a prefix) or any of its stem terms, in the engine's syntax; ``known``:
        the index terms words begin, as found before on this dataset version (a
        models.search.PrefixTerms), for an engine that looks them up."""
        raise NotImplementedError

    def all_of(self, terms: list[str]) -> str:
        raise NotImplementedError

    def any_of(self, terms: list[str]) -> str:
        raise NotImplementedError

    def but_not(self, expression: str, excluded: str) -> str:
        raise NotImplementedError

    def ranked_matches(self, query, kinds: tuple[str, ...]):
        """A select over SearchDoc of the matching records (broad) with a ``rank`` column: 0 when
        every word matched as written (exact), 1 when some matched only through a stem."""
        raise NotImplementedError

    def matching_ids(self, query, kind: str):
        """A subquery of the ids of ``kind`` records matching ``query`` (no ranking)."""
        raise NotImplementedError

    def ordered_event_search(self, query, conditions: list, start: str | None, end: str | None,
                             include_undated: bool):
        """Events matching ``query`` as parts a page can read in list order straight from
        the search index, or None when the engine cannot (the generic select is used)."""
        return None

    # -- SQL that differs
    #: the clause after a table in FROM that makes the engine read it through an index (``{index}``)
    index_hint = ""

    def in_index_order(self, table: str, index: str) -> str:
        """``table`` (quoted SQL name, with its alias) in a FROM clause, read through ``index``: for a
        scan of the whole table whose GROUP BY the index's order answers. A planner that costs the
        plans itself (PostgreSQL: a hash aggregate) is left to choose."""
        return f"{table} {self.index_hint.format(index=index)}" if self.index_hint else table

    def bytewise(self, column: str) -> str:
        """A column (SQL text) compared by its characters' code points, as Python compares str:
        for an ORDER BY whose rows Python walks in its own order."""
        return column

    def row_locator(self, model) -> str | None:
        """A column (SQL text) that finds a row of ``model``'s table more directly than its key,
        which a page whose keys are read first joins its rows on (models/paging.py), or None."""
        return None

    def utf8(self, column: str) -> str:
        """A text column (SQL text) as stored JSON that is sent as it is is best read: as its UTF-8
        bytes where the engine hands them over as they are stored (no decoding in the driver, no
        encoding of the answer: api/splice.py), else as text (the column itself)."""
        return column

    def string_agg(self, column):
        """An aggregate joining the distinct values of ``column`` with commas."""
        raise NotImplementedError


_registered: list[Backend] = []


def register(backend: Backend) -> Backend:
    _registered.append(backend)
    return backend


def for_url(url: str) -> Backend:
    scheme = url.split(":", 1)[0].split("+", 1)[0]
    for backend in _registered:
        if scheme in backend.schemes:
            return backend
    known = ", ".join(s for b in _registered for s in b.schemes)
    raise ValueError(f"no backend for {scheme}:// URLs (known: {known})")


def of(db) -> Backend:
    for backend in _registered:
        if isinstance(db, backend.database_classes):
            return backend
    raise ValueError(f"no backend for {type(db).__name__}")


def current() -> Backend:
    """The backend of the database the models are bound to in this thread."""
    from ..records import Event

    return of(Event._meta.database)


def extra_models() -> list:
    return [model for backend in _registered for model in backend.extra_models]


#: all of a request's statements end within this many budgets of the first one's start: the budget
#: bounds each statement (time in Python between them does not count), and this the request's
#: sum (a facet request of six statements of 1.3-1.9 s each took 9.8 s of database work)
REQUEST_BUDGETS = 2


class BudgetSpent(RuntimeError):
    """A request's statement not started: its time budget is spent (:data:`REQUEST_BUDGETS`)."""


def statement_seconds(seconds: float, first: float, now: float) -> float:
    """What a statement starting at ``now`` may take of a request whose first statement started at
    ``first``, with a budget of ``seconds`` a statement; raises BudgetSpent when nothing is left."""
    left = min(seconds, first + REQUEST_BUDGETS * seconds - now)
    if left <= 0:
        raise BudgetSpent(f"the request's statements took their time budget ({REQUEST_BUDGETS} x {seconds:g} s)")
    return left


def is_over_budget(error: Exception) -> bool:
    """True when any backend says ``error`` is its abort of a statement that ran out of time."""
    return isinstance(error, BudgetSpent) or any(backend.is_over_budget(error) for backend in _registered)


def is_statement_fault(error: Exception) -> bool:
    """True when any backend says ``error`` is a fault of the statement, not of the database's reach."""
    return any(backend.is_statement_fault(error) for backend in _registered)


def unavailable_errors() -> tuple[type[Exception], ...]:
    return tuple(error for backend in _registered for error in backend.unavailable_errors)


from . import postgresql, sqlite  # noqa: E402,F401  (each registers itself)

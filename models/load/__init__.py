"""Loading: files → validated records → one transaction.

``files`` knows which files define the dataset, ``schemas`` what a valid record
is, ``validate`` runs the schemas (in worker processes on a large corpus),
``reader`` checks what needs more than one record (references, spans, the
codebook), and ``writer`` writes the rows. A load with any problem changes
nothing.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from collections import Counter
from pathlib import Path

from peewee import sort_models

from .. import backends
from ..records import INDEXES, SCHEMA_VERSION, TABLES, DatasetMeta
from ..search_index import SearchDoc
from .files import LoadError, Problem, dataset_version
from .reader import DatasetReader, Sink
from .writer import DatabaseWriter

__all__ = ["LoadError", "Problem", "Summary", "check", "dataset_version", "load", "loaded_version"]


@dataclass
class Summary:
    dataset_version: str
    counts: Counter = field(default_factory=Counter)
    seconds: float = 0.0


def check(root: Path, progress=None) -> Summary:
    """Validate seeds and fixtures without touching a database."""
    started = time.perf_counter()
    reader = DatasetReader(root, progress)
    version = reader.read(Sink())
    if reader.problems:
        raise LoadError(reader.problems)
    return Summary(version, reader.counts, time.perf_counter() - started)


def table_models(db) -> list:
    """Every table a load writes on ``db``'s backend, in creation order."""
    return sort_models(TABLES + [SearchDoc] + backends.of(db).extra_models)


def reset_schema(db) -> None:
    """Empty the tables for a new load (inside the caller's transaction), as the backend
    does it: SQLite drops and re-creates them (a reader's snapshot covers the schema);
    PostgreSQL deletes the rows (a snapshot does not cover dropped tables) unless the
    table layout changed."""
    backends.of(db).reset_schema(db, table_models(db), stored_schema_version(db) == SCHEMA_VERSION)


def stored_schema_version(db) -> str | None:
    if not db.table_exists("dataset_meta"):
        return None
    row = DatasetMeta.select(DatasetMeta.value).where(DatasetMeta.key == "schema_version").tuples().first()
    return row[0] if row else None


def create_indexes(db) -> None:
    for model, columns, unique in INDEXES:
        table = model._meta.table_name
        name = "_".join([table, *columns])[:60] + "_idx"
        column_list = ", ".join(f'"{getattr(model, c).column_name}"' for c in columns)
        db.execute_sql(f'CREATE {"UNIQUE " if unique else ""}INDEX IF NOT EXISTS "{name}" ON "{table}" ({column_list})')


def load(root: Path, db, progress=None) -> Summary:
    """Validate and (re)load everything into ``db`` in one transaction.

    Raises :class:`LoadError` (after rolling back) if any record is wrong.
    """
    started = time.perf_counter()
    reader = DatasetReader(root, progress)
    progress = progress or (lambda message: None)
    backend = backends.of(db)
    db.connect(reuse_if_open=True)
    backend.prepare_load(db)
    try:
        with db.bind_ctx(table_models(db)), db.atomic() as transaction:
            reset_schema(db)
            version = reader.read(DatabaseWriter(db))
            if reader.problems:
                transaction.rollback()
                raise LoadError(reader.problems)
            backend.check_references(db)
            progress("building indexes")
            create_indexes(db)
        progress("optimising the search index")
        backend.after_load(db)
    finally:
        db.close()
    return Summary(version, reader.counts, time.perf_counter() - started)


def loaded_version(db) -> str | None:
    """The dataset_version stored in ``db``, or None when it holds no loaded dataset or one
    loaded with another table layout (an older version of this code: it must be loaded again)."""
    try:
        db.connect(reuse_if_open=True)
        with db.bind_ctx([DatasetMeta]):
            stored = dict(DatasetMeta.select(DatasetMeta.key, DatasetMeta.value).where(
                DatasetMeta.key.in_(["dataset_version", "schema_version"])).tuples())
        return stored.get("dataset_version") if stored.get("schema_version") == SCHEMA_VERSION else None
    except Exception:  # a missing file or table means "not loaded"
        return None
    finally:
        db.close()

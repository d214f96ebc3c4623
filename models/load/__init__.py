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

from peewee import ForeignKeyField, sort_models

from .. import backends
from ..history import HISTORY_TABLES, current_release
from ..records import INDEXES, SCHEMA_VERSION, TABLES, DatasetMeta, Event, Participant, Place, Source, Statement, index_name
from ..search_index import SearchDoc
from .files import LoadError, Problem, dataset_version
from .plan import Plan, plan_load
from .reader import DatasetReader, Sink
from .releases import WORK_TABLES, ReleaseRecorder
from .steps import Steps
from .writer import DatabaseWriter

__all__ = ["LoadError", "NotEmpty", "Problem", "Summary", "check", "dataset_version", "load", "loaded_version"]


@dataclass
class Summary:
    dataset_version: str
    counts: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    mode: str = "check"  # check / full / incremental / unchanged
    release: int | None = None  # the release the database serves after the load
    plan: Plan | None = None
    full_reason: str | None = None  # why a load rebuilt everything


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


def create_indexes(db, key_checks_only: bool = False) -> None:
    """The secondary indexes (records.INDEXES) this engine needs. With ``key_checks_only``, only
    those that lead with a foreign key declared without an index of its own: while deferred checks
    are outstanding (the loader writes a participant after the events that name it), the engine
    finds the rows that reference a new row through them, so they are built with the tables (a
    scan of the table for every row without one); the others are built after the bulk insert."""
    backend = backends.of(db)
    for model, columns, unique in INDEXES:
        if not backend.index_needed(model, columns):
            continue
        if key_checks_only and not _unindexed_key(getattr(model, columns[0])):
            continue
        table = model._meta.table_name
        name = index_name(model, columns)
        column_list = ", ".join(f'"{getattr(model, c).column_name}"' for c in columns)
        db.execute_sql(f'CREATE {"UNIQUE " if unique else ""}INDEX IF NOT EXISTS "{name}" ON "{table}" ({column_list})')


def _unindexed_key(field) -> bool:
    return isinstance(field, ForeignKeyField) and not field.index


class NotEmpty(Exception):
    """A load asked only into an empty database found one filled (by a load it waited for)."""


def load(root: Path, db, progress=None, full: bool = False, only_if_empty: bool = False,
         rehash: bool = False) -> Summary:
    """Bring ``db`` up to date with the files in one transaction, as a new release.

    Only the difference is applied (sources added, changed or removed: see
    models/load/incremental.py) unless ``full``, a change of table layout or a
    codebook change other than added entries asks for a rebuild; an unchanged tree
    changes nothing. Raises :class:`LoadError` (after rolling back) if any record is wrong, and
    with ``only_if_empty`` :class:`NotEmpty` (changing nothing) when the database holds a dataset
    once this load has its turn (a server's first start: models/backends/load_lock.py). With
    ``rehash`` every file is read and hashed, whatever its size and modification time say.
    """
    from . import incremental

    started = time.perf_counter()
    progress = progress or (lambda message: None)
    backend = backends.of(db)
    db.connect(reuse_if_open=True)
    backend.prepare_load(db)
    try:
        with backend.load_lock(db, progress):  # (a second load waits, then plans against what this one committed)
            with db.bind_ctx(table_models(db) + HISTORY_TABLES + WORK_TABLES):
                if only_if_empty and stored_schema_version(db) is not None:
                    raise NotEmpty()
                plan = plan_load(root, db, full, rehash)
                if plan.unchanged:
                    return Summary(plan.version, stored_counts(db), time.perf_counter() - started, "unchanged",
                                   current_release(db), plan)
                reason = plan.full_reason
                if reason is None:
                    progress(f"applying the difference: {plan.describe()}")
                    try:
                        with db.atomic():
                            summary = incremental.apply(root, db, plan, progress)
                        summary.seconds = time.perf_counter() - started
                        return summary
                    except (incremental.FullRequired, backends.NoRoom) as why:
                        reason = str(why)
                progress(f"rebuilding everything: {reason}")
                advice = backend.storage_advice(db)
                if advice:
                    progress(advice)
                steps = Steps(progress)
                with db.atomic() as transaction:
                    summary = full_load(root, db, plan, progress, transaction, steps)
                    steps("committing", "commit")
            steps("optimising the search index", "optimise")
            backend.after_load(db)
            steps.finish()
    finally:
        db.close()
    summary.seconds, summary.full_reason = time.perf_counter() - started, reason
    return summary


def full_load(root: Path, db, plan: Plan, progress, transaction, steps: Steps) -> Summary:
    recorder = ReleaseRecorder(db)
    reader = DatasetReader(root, progress)
    reset_schema(db)
    if backends.of(db).finds_references_while_loading:
        create_indexes(db, key_checks_only=True)
    steps("reading and writing the records", "records", announce=False)  # (the reader reports its own progress)
    reader.read(DatabaseWriter(db, plan, recorder, steps), plan.version)
    if reader.problems:
        transaction.rollback()
        raise LoadError(reader.problems)
    steps("checking references", "references")
    backends.of(db).check_references(db)
    steps("building indexes", "indexes")
    create_indexes(db)
    steps("recording the release", "release")
    counts = stored_counts(db)
    release = recorder.record(version=plan.version, mode="full", counts=counts, everything=True,
                              sources={"added": plan.added, "changed": plan.changed, "removed": plan.removed})
    return Summary(plan.version, counts, 0.0, "full", release, plan)


def stored_counts(db) -> Counter:
    """How many records of each kind ``db`` holds."""
    return Counter({name: model.select().count() for name, model in (
        ("sources", Source), ("participants", Participant), ("places", Place), ("events", Event),
        ("statements", Statement))})


def loaded_meta(db) -> dict[str, str]:
    """``dataset_version`` and ``schema_version`` (the table layout) as stored in ``db``; empty when
    it holds no loaded dataset (no such table). Any other error is raised: a server database that
    failed to answer must not be taken for an empty one, which a load would then fill."""
    try:
        db.connect(reuse_if_open=True)
        with db.bind_ctx([DatasetMeta]):
            return dict(DatasetMeta.select(DatasetMeta.key, DatasetMeta.value).where(
                DatasetMeta.key.in_(["dataset_version", "schema_version"])).tuples())
    except Exception as error:
        if backends.of(db).is_missing_table(error):
            return {}
        raise
    finally:
        db.close()


def loaded_version(db) -> str | None:
    """The dataset_version stored in ``db``, or None when it holds no loaded dataset or one
    loaded with another table layout (an older version of this code: it must be loaded again)."""
    try:
        stored = loaded_meta(db)
    except Exception:  # a missing file, an unreadable one: not loaded (a caller that must tell: loaded_meta)
        return None
    return stored.get("dataset_version") if stored.get("schema_version") == SCHEMA_VERSION else None

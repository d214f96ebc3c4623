"""Reading the dataset's history (models/history.py): records' releases, releases, the change feed.

Knows nothing about HTTP. The documents served are the stored JSON strings with
``first_release`` and ``last_release`` spliced in before their closing brace: one
query on ``record_release`` per batch of records, never a decode and re-encode.
"""
from __future__ import annotations

import json

from . import backends
from .documents import MEMBER_BREAK, compact
from .history import RECORD_MODELS as MODEL_OF, RecordRelease, Release
from .paging import RowColumns

#: records read together (one query on record_release per batch)
BATCH = 500


# --------------------------------------------------------------------------- records' first and last release


def spliced(doc: str, first: int | None, last: int | None, breaks: bool = False) -> str:
    """The stored document with its releases as its last two members, compact (as served) or,
    with ``breaks``, still in members (models.documents.record_text) for api/splice.py."""
    text = doc if breaks else compact(doc)
    return text[:-1] + release_members(first, last, MEMBER_BREAK if breaks else ",")


def release_members(first: int | None, last: int | None, sep: str = ",") -> str:
    """What follows a stored document's last member (its closing brace cut off): its releases
    as two more members, and the brace."""
    return f'{sep}"first_release":{_number(first)}{sep}"last_release":{_number(last)}}}'


def _number(value: int | None) -> str:
    return "null" if value is None else str(int(value))


def releases_of(kind: str, ids) -> dict[str, tuple[int, int]]:
    """(first_release, last_release) of each of ``ids`` (SQL text: on the hot path of every page)."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return {}
    database = RecordRelease._meta.database
    marks = ",".join([database.param] * len(ids))
    cursor = database.execute_sql(
        f'SELECT "record_id", "first_release", "last_release" FROM "{RecordRelease._meta.table_name}" '
        f'WHERE "kind" = {database.param} AND "record_id" IN ({marks})', [kind, *ids])
    return {rid: (first, last) for rid, first, last in cursor.fetchall()}


def with_releases(kind: str, rows, breaks: bool = False):
    """The stored documents of ``rows`` (each with ``id`` and ``doc``), releases spliced in, batch by
    batch (see :func:`spliced` for ``breaks``)."""
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield from _spliced_batch(kind, batch, breaks)
            batch = []
    if batch:
        yield from _spliced_batch(kind, batch, breaks)


def _spliced_batch(kind: str, rows: list, breaks: bool):
    for row, (first, last) in zip(rows, releases_of_rows(kind, rows)):
        yield spliced(row.doc, first, last, breaks=breaks)


def releases_of_rows(kind: str, rows: list) -> list[tuple[int | None, int | None]]:
    """(first_release, last_release) of each of ``rows``: as read with them (release_columns),
    or in one query."""
    if not rows:
        return []
    if hasattr(rows[0], "first_release"):
        return [(row.first_release, row.last_release) for row in rows]
    known = releases_of(kind, [row.id for row in rows])
    return [known.get(row.id, (None, None)) for row in rows]


def release_columns(kind: str, utf8_docs: bool = False) -> RowColumns:
    """A page's rows with their first and last release, joined in the query that reads the rows
    (models.paging.keyset_page): a page's releases were a query of their own, 0.12 ms of a
    first page of events at 100,000 events (the join costs 0.05). ``utf8_docs``: the documents
    as their UTF-8 bytes (a JSON page is joined and sent as bytes: api/splice.py)."""
    database = RecordRelease._meta.database
    table, mark = RecordRelease._meta.table_name, database.param

    def sql(record_id: str) -> tuple[str, str]:
        return ('r."first_release", r."last_release"',
                f' LEFT JOIN "{table}" AS r ON r."kind" = {mark} AND r."record_id" = {record_id}')

    backend = backends.of(database)
    return RowColumns(("first_release", "last_release"), sql, (kind,), ("doc",) if utf8_docs else (),
                      backend.utf8, backend.row_locator(MODEL_OF[kind]), backend.orders_text_like_python)


def one_with_releases(kind: str, record_id: str, breaks: bool = False) -> str | None:
    """One record's stored document with its releases spliced in (one query), or None.
    (SQL text: the one query of every item answer, see :func:`releases_of`.)"""
    model = MODEL_OF[kind]
    database, mark = model._meta.database, model._meta.database.param
    row = database.execute_sql(
        f'SELECT m."doc", r."first_release", r."last_release" FROM "{model._meta.table_name}" AS m '
        f'LEFT OUTER JOIN "{RecordRelease._meta.table_name}" AS r ON r."kind" = {mark} AND r."record_id" = m."id" '
        f'WHERE m."id" = {mark}', [kind, record_id]).fetchone()
    return spliced(*row, breaks=breaks) if row else None


def add_releases(kind: str, doc: dict) -> dict:
    """A decoded document with its releases (single records)."""
    doc["first_release"], doc["last_release"] = releases_of(kind, [doc["id"]]).get(doc["id"], (None, None))
    return doc


def updated_since(model, kind: str, release: int):
    """The condition: records of ``model`` added or changed after ``release``."""
    r = RecordRelease
    return model.id.in_(r.select(r.record_id).where((r.kind == kind) & (r.last_release > release)))


# --------------------------------------------------------------------------- releases


def release_select():
    return Release.select()


def release_doc(row) -> dict:
    return {
        "number": row.number, "dataset_version": row.dataset_version, "loaded_at": row.loaded_at, "mode": row.mode,
        "sources": json.loads(row.sources), "counts": json.loads(row.counts), "changes": json.loads(row.changes),
    }


def release(number: int) -> dict | None:
    row = Release.get_or_none(Release.number == number)
    return None if row is None else release_doc(row)


# --------------------------------------------------------------------------- the change feed

#: every record changed after a release, once, at the release of its latest change, in
#: (release, kind, id) order: a record that changes again while a client pages moves past
#: the client's cursor, so following ``next`` to the end leaves no change behind
FEED = """
SELECT "release", "kind", "record_id", "change" FROM (
  SELECT r."last_release" AS "release", r."kind" AS "kind", r."record_id" AS "record_id",
         CASE WHEN r."first_release" > {p} THEN 'added' ELSE 'changed' END AS "change"
    FROM "record_release" AS r WHERE r."last_release" > {p}
  UNION ALL
  SELECT MAX(t."release"), t."kind", t."record_id", 'removed'
    FROM "tombstone" AS t
   WHERE t."release" > {p} AND NOT EXISTS (
         SELECT 1 FROM "record_release" AS x WHERE x."kind" = t."kind" AND x."record_id" = t."record_id")
   GROUP BY t."kind", t."record_id"
) AS feed
{after}
ORDER BY "release", "kind", "record_id"
LIMIT {p}
"""
AFTER = 'WHERE ("release" > {p}) OR ("release" = {p} AND ("kind" > {p} OR ("kind" = {p} AND "record_id" > {p})))'


def change_page(db, since: int, after: list | None, limit: int) -> tuple[list[dict], bool]:
    """Up to ``limit`` changes after release ``since`` (after the key ``after``), and whether more follow.
    Each is ``{kind, id, change, release, document}`` (the stored document with its releases, None
    for a removal)."""
    p = db.param
    params: list = [since, since, since]
    after_sql = ""
    if after is not None:
        release, kind, record_id = int(after[0]), after[1], after[2]
        after_sql = AFTER.format(p=p)
        params += [release, release, kind, kind, record_id]
    rows = db.execute_sql(FEED.format(p=p, after=after_sql), [*params, limit + 1]).fetchall()
    more = len(rows) > limit
    changes = [{"release": r[0], "kind": r[1], "id": r[2], "change": r[3]} for r in rows[:limit]]
    _attach_documents(changes)
    return changes, more


def _attach_documents(changes: list[dict]) -> None:
    """One query per kind for the page's documents (and one for their releases)."""
    by_kind: dict[str, list[str]] = {}
    for change in changes:
        if change["change"] != "removed":
            by_kind.setdefault(change["kind"], []).append(change["id"])
    documents = {}
    for kind, ids in by_kind.items():
        model = MODEL_OF[kind]
        rows = list(model.select(model.id, model.doc).where(model.id.in_(ids)).namedtuples())
        for row, doc in zip(rows, with_releases(kind, rows)):
            documents[(kind, row.id)] = doc
    for change in changes:
        change["document"] = documents.get((change["kind"], change["id"]))


def change_json(change: dict) -> str:
    """One change as JSON text, the stored document spliced in as ``record``."""
    head = json.dumps({k: change[k] for k in ("kind", "id", "change", "release")}, ensure_ascii=False,
                      separators=(",", ":"))
    return head[:-1] + ',"record":' + (change["document"] or "null") + "}"

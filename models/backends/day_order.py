"""SQLite rowids that store a table's rows newest day first, the order its listings read them.

SQLite keeps a table's rows in rowid order. Rowids given in insertion order put an event
next to the other events of its source, and a page of a date-sorted listing (50 events of
a few days from as many sources) then reads 50 rows scattered over the file: at 1,000,000
generated events, whose sources each span fifteen years, the query reading a page 30–70 %
deep cost 0.41 ms, against 0.22 ms for the same rows stored in page order
(benchmarks/README.md, 2026-12-02). A table whose model says ``Meta.day_ordered`` is
written with rowids that put each day's rows together, days in the listing's default
order (newest first, undated last): the high bits are the day's place in that order, the
low bits number the day's rows as they are written: the rows of a day that one batch writes
in descending id (as the listing reads them), the rows later batches write (other sources,
later loads) after them. Every load, full or incremental, writes so, and the days' order
holds without renumbering. ``VACUUM`` (README: converting an older file's pages) may number
the rows again (SQLite says it may for tables without an INTEGER PRIMARY KEY; 3.40 kept
them): in the order they are stored, which keeps the order.
"""
from __future__ import annotations

from datetime import date

#: bits of a rowid below the day's place: a day holds up to 2**32 rows
DAY_SHIFT = 32
_LAST_DAY = date.max.toordinal()
#: the place of the rows without a date (sort_date ''): after every day
UNDATED = _LAST_DAY + 1
#: day places looked up per query (an SQLite built before 3.32 binds at most 999 values)
PLACES_PER_QUERY = 500


def day_place(sort_date: str) -> int:
    """Where the rows of ``sort_date`` (ISO day, or '' when undated) go: newest first."""
    return _LAST_DAY - date.fromisoformat(sort_date).toordinal() if sort_date else UNDATED


def is_day_ordered(model) -> bool:
    return bool(getattr(model._meta, "day_ordered", False))


def with_rowids(db, model, fields: list, values: list[tuple]) -> tuple[list, list[tuple]]:
    """``fields`` and ``values`` with a leading rowid that puts each row in its day's place,
    after the rows already stored there; the rows of a day in the batch in descending id,
    as the listing reads them, unless an id repeats (an upsert of several versions of a row:
    the rows keep their order, and the last one wins as before). One query per
    :data:`PLACES_PER_QUERY` days finds where each day in the batch ends."""
    names = [field.name for field in fields]
    if "sort_date" not in names:  # (rows of some columns only: stored where SQLite puts them)
        return fields, values
    day_at, id_at = names.index("sort_date"), names.index(model._meta.primary_key.name)
    placed = [(day_place(row[day_at]), row) for row in values]
    if len({row[id_at] for row in values}) == len(values):
        placed.sort(key=lambda pair: pair[1][id_at], reverse=True)
        placed.sort(key=lambda pair: pair[0])  # (stable: descending ids within each day)
    next_number = _next_numbers(db, model, sorted({place for place, _ in placed}))
    rows = []
    for place, row in placed:
        number = next_number[place]
        next_number[place] = number + 1
        rows.append(((place << DAY_SHIFT) + number, *row))
    return [None, *fields], rows


def _next_numbers(db, model, places: list[int]) -> dict[int, int]:
    """For each day place, the number after the last row stored there (0 for an empty day)."""
    table, low, found = model._meta.table_name, (1 << DAY_SHIFT) - 1, {}
    for start in range(0, len(places), PLACES_PER_QUERY):
        chunk = places[start: start + PLACES_PER_QUERY]
        slots = ", ".join(["(?)"] * len(chunk))
        cursor = db.execute_sql(
            f'WITH place(p) AS (VALUES {slots}) SELECT p, (SELECT rowid FROM "{table}" '
            f"WHERE rowid >= (p << {DAY_SHIFT}) AND rowid < ((p + 1) << {DAY_SHIFT}) ORDER BY rowid DESC LIMIT 1) "
            "FROM place", chunk)
        found.update((place, 0 if last is None else (last & low) + 1) for place, last in cursor.fetchall())
    return found

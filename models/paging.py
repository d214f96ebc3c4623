"""Keyset pages over any select: sort specs, pages without OFFSET, counts, full walks.

A listing is a plain select, or :class:`Branches` (disjoint parts of one result,
each read in sort order), whose parts may be :class:`OrderedPart` objects that
know a cheaper way to read a page than a WHERE on the table (the SQLite search
index read in list order, models/backends/sqlite.py).
"""
from __future__ import annotations

from dataclasses import dataclass

from peewee import SQL, Tuple


@dataclass(frozen=True)
class SortSpec:
    columns: tuple  # peewee fields, most significant first, the last one unique
    descending: bool

    def order_by(self):
        return [c.desc() if self.descending else c.asc() for c in self.columns]

    def after(self, key: list):
        row = Tuple(*self.columns)
        return row < Tuple(*key) if self.descending else row > Tuple(*key)

    def key_of(self, row) -> list:
        return [getattr(row, c.name) for c in self.columns]


def sort_spec(model, sort: str) -> SortSpec:
    """``date``/``-date`` (by ``sort_date``, ties by id) or ``id``/``-id``."""
    descending = sort.startswith("-")
    if sort.lstrip("-") == "date":
        return SortSpec((model.sort_date, model.id), descending)
    return SortSpec((model.id,), descending)


class OrderedPart:
    """A part of a listing that reads its own pages and counts its own rows."""

    def page(self, spec: SortSpec, after: list | None, limit: int):
        raise NotImplementedError

    def count(self) -> int:
        raise NotImplementedError


class Branches(tuple):
    """Selects of disjoint parts of one result, each of which reads an index range in
    sort order; a page takes the first rows of each and keeps the first overall.

    One select with ``a OR b`` in its WHERE walks the sort index and tests every
    row, including the ones a bound on the sort column would have skipped; a
    part per branch of the OR keeps that bound usable.
    """


def page_select(select, spec: SortSpec, after: list | None, limit: int):
    if after is not None:
        select = select.where(spec.after(after))
    return select.order_by(*spec.order_by()).limit(limit)


def _part_page(part, spec: SortSpec, after: list | None, limit: int):
    if isinstance(part, OrderedPart):
        return part.page(spec, after, limit)
    return page_select(part, spec, after, limit)


def keyset_page(select, spec: SortSpec, after: list | None, limit: int):
    """Rows of one page (and whether there is another) without OFFSET."""
    if isinstance(select, Branches):
        parts = [_part_page(part, spec, after, limit + 1).alias(f"part{i}") for i, part in enumerate(select)]
        union = parts[0].select_from(SQL("*"))
        for part in parts[1:]:
            union = union.union_all(part.select_from(SQL("*")))
        order = [SQL(f'"{c.column_name}" DESC' if spec.descending else f'"{c.column_name}"') for c in spec.columns]
        database = spec.columns[0].model._meta.database
        rows = list(union.order_by(*order).limit(limit + 1).bind(database).namedtuples())
    else:
        rows = list(page_select(select, spec, after, limit + 1).namedtuples())
    return rows[:limit], len(rows) > limit


def iterate_all(select, spec: SortSpec, batch: int = 2_000):
    """Every row of ``select`` in keyset batches: bounded memory on any backend."""
    after = None
    while True:
        rows, more = keyset_page(select, spec, after, batch)
        yield from rows
        if not more:
            return
        after = spec.key_of(rows[-1])


def count(select) -> int:
    if isinstance(select, Branches):  # disjoint parts
        return sum(count(part) for part in select)
    if isinstance(select, OrderedPart):
        return select.count()
    return select.order_by().count(clear_limit=True)

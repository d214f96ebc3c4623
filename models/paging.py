"""Keyset pages over any select: sort specs, pages without OFFSET, counts, full walks.

A listing is a plain select, or :class:`Branches` (disjoint parts of one result,
each read in sort order), whose parts may be :class:`OrderedPart` objects that
know a cheaper way to read a page than a WHERE on the table (the SQLite search
index read in list order, models/backends/sqlite.py).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from peewee import Tuple


#: sorts after every record id (at most 80 of a-z, 0-9, '-' and '_', models.vocabulary), in the C
#: collation and in the locale ones (which weigh letters before punctuation): the key
#: ("", PAST_EVERY_ID) comes after every undated row and before every dated one, with no query
PAST_EVERY_ID = "z" * 81


class Row:
    """A row whose columns are attributes. (peewee's ``namedtuples()`` defines a new class for
    every query it runs, which cost as much as a page's SQL.)"""

    def __init__(self, **columns):
        self.__dict__.update(columns)


@dataclass(frozen=True)
class SortSpec:
    columns: tuple  # peewee fields, most significant first, the last one unique
    descending: bool
    #: rows whose first column is '' (undated) come after all others, though '' sorts first
    blanks_last: bool = False

    def order_by(self):
        return [c.desc() if self.descending else c.asc() for c in self.columns]

    def after(self, key: list):
        row = Tuple(*self.columns)
        return row < Tuple(*key) if self.descending else row > Tuple(*key)

    def key_of(self, row) -> list:
        return [getattr(row, c.name) for c in self.columns]


def sort_spec(model, sort: str) -> SortSpec:
    """``date``/``-date`` (by ``sort_date``, ties by id) or ``id``/``-id``. Undated records
    (``sort_date`` '') come last both ways: descending puts them there by itself, ascending
    needs :func:`keyset_page`'s two walks."""
    descending = sort.startswith("-")
    if sort.lstrip("-") == "date":
        # only events can be undated (a statement's sort date is its source's publication day)
        return SortSpec((model.sort_date, model.id), descending, blanks_last=not descending and _may_be_undated(model))
    return SortSpec((model.id,), descending)


def _may_be_undated(model) -> bool:
    return hasattr(model, "date_start")


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


@dataclass(frozen=True)
class RowColumns:
    """Columns a page's rows carry besides the listing's own, joined to each row by its id in the
    query that reads the rows (models.changes.release_columns): ``sql`` takes the SQL reference of
    the id and gives (select-list expressions, the JOIN clause); ``params`` are the clause's."""

    names: tuple[str, ...]
    sql: Callable[[str], tuple[str, str]]
    params: tuple = ()


def keyset_page(select, spec: SortSpec, after: list | None, limit: int, extra: RowColumns | None = None):
    """Rows of one page (and whether there is another) without OFFSET, with the ``extra``
    columns when given."""
    if extra is not None and not isinstance(select, Branches):
        select = Branches([select])  # read as a dated listing's parts are: keys, then the rows
    if spec.blanks_last:
        return _blanks_last_page(select, spec, after, limit, extra)
    return _keyset_page(select, spec, after, limit, extra)


def _blanks_last_page(select, spec: SortSpec, after: list | None, limit: int, extra: RowColumns | None):
    """An ascending page with the blank-keyed rows after the others: first the walk over the
    rows with a key, then (once it is done) the walk over the blank ones, each an index range.
    A cursor whose key is blank is in the second walk. The plain order would put the blank
    rows first; a CASE in ORDER BY would give up the (sort_date, id) index."""
    if after is None or after[0] != "":
        start = after or ["", PAST_EVERY_ID]
        rows, more = _keyset_page(select, spec, start, limit, extra)
        if more:
            return rows, True
        blanks, more = _blank_rows(select, spec, "", limit - len(rows), extra)
        return rows + blanks, more
    return _blank_rows(select, spec, after[-1], limit, extra)


def _blank_rows(select, spec: SortSpec, after_id: str, limit: int, extra: RowColumns | None):
    """Up to ``limit`` blank-keyed rows with an id after ``after_id``, and whether more follow.
    The read past them reaches the keyed rows (which sort after ''), so it is cut at the first."""
    rows, _ = _keyset_page(select, spec, ["", after_id], limit + 1, extra)
    blanks = []
    for row in rows:
        if getattr(row, spec.columns[0].name) != "":
            break
        blanks.append(row)
    return blanks[:limit], len(blanks) > limit


def _keyset_page(select, spec: SortSpec, after: list | None, limit: int, extra: RowColumns | None = None):
    if isinstance(select, Branches):
        rows = _merged([_part_page(part, spec, after, limit + 1) for part in select], spec, limit + 1, extra)
    else:
        rows = list(page_select(select, spec, after, limit + 1).objects(Row))
    return rows[:limit], len(rows) > limit


def _union(parts, spec: SortSpec, limit: int) -> tuple[str, list]:
    """The first ``limit`` rows of the parts' pages, in sort order (one UNION ALL), as SQL text
    and parameters: each part compiled by itself, the compound around them written here (the
    query builder's compound of subqueries cost a third of the page's compile)."""
    database = spec.columns[0].model._meta.database
    members, params = [], []
    for number, part in enumerate(parts):
        sql, part_params = part.sql()
        members.append(f'SELECT * FROM ({sql}) AS "part{number}"')
        params.extend(part_params)
    order = ", ".join(f'"{c.column_name}"' + (" DESC" if spec.descending else "") for c in spec.columns)
    return f'{" UNION ALL ".join(members)} ORDER BY {order} LIMIT {database.param}', [*params, limit]


def _merged(parts, spec: SortSpec, limit: int, extra: RowColumns | None = None) -> list[Row]:
    """The first ``limit`` rows of the parts' pages in sort order: the parts' sort keys merged,
    then the other columns read for the rows kept only.

    A UNION of whole rows made SQLite sort every part's page again with its stored documents
    (a temporary b-tree of 2 x 51 rows of ~2 KB for a page of events): the keys alone cost
    0.30 ms where the rows cost 0.48 (100,000 events, a first page with ``to=``)."""
    model, returning = spec.columns[0].model, parts[0]._returning  # (the columns of the model's table)
    keys, params = _union([part.columns(*spec.columns) for part in parts], spec, limit)
    database, key = model._meta.database, model._meta.primary_key.column_name
    columns = ", ".join(f'e."{column.column_name}"' for column in returning)
    convert = [column.python_value for column in returning]
    names = [column.name for column in returning]
    joined = ""
    if extra is not None:
        extra_columns, joined = extra.sql(f'e."{key}"')
        columns += ", " + extra_columns
        params = [*params, *extra.params]  # the JOIN clause comes after the keys in the text
        convert += [_as_is] * len(extra.names)
        names += extra.names
    order = ", ".join(f'p."{c.column_name}"' + (" DESC" if spec.descending else "") for c in spec.columns)
    cursor = database.execute_sql(f'SELECT {columns} FROM ({keys}) AS p JOIN "{model._meta.table_name}" AS e '
                                  f'ON e."{key}" = p."{key}"{joined} ORDER BY {order}', params)
    return [Row(**{name: to_python(value) for name, to_python, value in zip(names, convert, values)})
            for values in cursor.fetchall()]


def _as_is(value):
    return value


def iterate_all(select, spec: SortSpec, batch: int = 2_000, after: list | None = None):
    """Every row of ``select`` (after the key ``after``) in keyset batches: bounded memory on any backend."""
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

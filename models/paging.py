"""Keyset pages over any select: sort specs, pages without OFFSET, counts, full walks.

A listing is a plain select, or :class:`Branches` (disjoint parts of one result,
each read in sort order), whose parts may be :class:`OrderedPart` objects that
know a cheaper way to read a page than a WHERE on the table (the SQLite search
index read in list order, models/backends/sqlite.py).
"""
from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter

from peewee import CharField, Field, ModelSelect, TextField, Tuple

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

    def after_sql(self, columns: str, param: str) -> str:
        """:meth:`after` as SQL text, for ``columns`` (the sort columns, qualified and joined) and
        the driver's ``param`` mark: compiling the expression cost 0.05 ms of a deep page at
        100,000 events, a tenth of reading its rows."""
        marks = ", ".join([param] * len(self.columns))
        return f"(({columns}) {'<' if self.descending else '>'} ({marks}))"

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

    #: the columns of its rows (peewee fields of the listing's model)
    returning: tuple = ()

    def keys_sql(self, spec: SortSpec, after: list | None, limit: int) -> tuple[str, list] | None:
        """The sort keys of a page as SQL text and parameters (columns named as ``spec``'s), or
        None to have :meth:`page` built and compiled instead."""
        return None

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
    #: the listing's own text columns read as their UTF-8 bytes, not decoded, and the SQL that
    #: reads a column so (models.backends.Backend.utf8)
    utf8: tuple[str, ...] = ()
    utf8_sql: Callable[[str], str] = str
    #: the engine's own address of a row (models.backends.Backend.row_locator: SQLite's rowid),
    #: which the rows are joined to their keys on when every part's keys can carry it, or None
    locator: str | None = None
    #: the rows may be read in any order and put in sort order in Python (the engine orders their
    #: keys as Python does: models.backends.Backend.orders_text_like_python)
    sorted_here: bool = False


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
        # (the parts' keys are one UNION: all of them carry the locator, or none)
        locator = extra.locator if extra is not None and all(_is_plain(part, spec) for part in select) else None
        keys = [_keys(part, spec, after, limit + 1, locator) for part in select]
        rows = _merged(keys, spec, limit + 1, extra, locator)
    else:
        rows = list(page_select(select, spec, after, limit + 1).objects(Row))
    return rows[:limit], len(rows) > limit


#: what a select may not have for :func:`_plain_keys` to write its keys query (set: a clause it has)
_CLAUSES = ("_joins", "_order_by", "_limit", "_offset", "_cte_list", "_group_by", "_having", "_windows",
            "_for_update", "_lateral", "_distinct", "_simple_distinct", "_alias")


def _is_plain(part, spec: SortSpec) -> bool:
    """A select of one model's table with at most a WHERE (every listing's, models/queries.py)."""
    model = spec.columns[0].model
    return (isinstance(part, ModelSelect) and part.model is model and part._from_list == [model]
            and not any(getattr(part, clause, None) for clause in _CLAUSES))


#: the name of a row's locator among a page's keys (RowColumns.locator)
LOCATED = "_at"


def _keys(part, spec: SortSpec, after: list | None, limit: int, locator: str | None = None
          ) -> tuple[str, list, list]:
    """(SQL, parameters, the part's own columns) of the sort keys of a page of ``part``, with the
    ``locator`` as :data:`LOCATED` when given (only for a plain part)."""
    if _is_plain(part, spec):
        return (*_plain_keys(part, spec, after, limit, locator), part._returning)
    if isinstance(part, OrderedPart):
        written = part.keys_sql(spec, after, limit)
        if written is not None:
            return (*written, list(part.returning))
    page = _part_page(part, spec, after, limit)
    return (*page.columns(*spec.columns).sql(), page._returning)


def _plain_keys(part, spec: SortSpec, after: list | None, limit: int, locator: str | None = None
                ) -> tuple[str, list]:
    """The keys query of a plain select, written here around its WHERE, the one piece the query
    builder compiles: compiling the whole statement cost twice as much (a dated part of a first
    page at 100,000 events: 0.103 ms, its WHERE 0.045; an unfiltered page 0.057 ms, now none)."""
    model = spec.columns[0].model
    database = model._meta.database
    context = database.get_sql_context()
    table = context.alias_manager[model._meta.table]  # what the WHERE (and its subqueries) call it
    where = part._where
    columns = ", ".join(f'"{table}"."{c.column_name}"' for c in spec.columns)
    conditions, params = [], []
    if where is not None:
        with context.scope_normal(subquery=True):  # as inside a SELECT: a subquery in parentheses
            context.sql(where)
        condition, params = context.query()
        conditions.append(f"({condition})")
    if after is not None:
        conditions.append(spec.after_sql(columns, database.param))
        params = [*params, *after]
    if locator is not None:
        columns += f', "{table}".{locator} AS "{LOCATED}"'
    order = _order_terms(spec, f'"{table}".')
    sql = f'SELECT {columns} FROM "{model._meta.table_name}" AS "{table}"'
    if conditions:
        sql += " WHERE " + " AND ".join(conditions)
    return f"{sql} ORDER BY {order} LIMIT {database.param}", [*params, limit]


def _order_terms(spec: SortSpec, qualifier: str = "") -> str:
    """The ORDER BY terms of ``spec`` as SQL text, each column after ``qualifier`` (an alias and a dot)."""
    return ", ".join(f'{qualifier}"{c.column_name}"' + (" DESC" if spec.descending else "") for c in spec.columns)


def _union(keys: list[tuple[str, list, list]], spec: SortSpec, limit: int) -> tuple[str, list]:
    """The first ``limit`` of the parts' keys, in sort order (one UNION ALL; one part as it is),
    as SQL text and parameters."""
    if len(keys) == 1:
        return keys[0][0], keys[0][1]
    database = spec.columns[0].model._meta.database
    members, params = [], []
    for number, (sql, part_params, _) in enumerate(keys):
        members.append(f'SELECT * FROM ({sql}) AS "part{number}"')
        params.extend(part_params)
    order = _order_terms(spec)
    return f'{" UNION ALL ".join(members)} ORDER BY {order} LIMIT {database.param}', [*params, limit]


def _merged(keys: list[tuple[str, list, list]], spec: SortSpec, limit: int, extra: RowColumns | None = None,
            locator: str | None = None) -> list[Row]:
    """The first ``limit`` rows of the parts' pages in sort order: the parts' sort keys merged,
    then the other columns read for the rows kept only, joined on the rows' ``locator`` when the
    keys carry it (at 1,000,000 events a page 30–70 % deep read its rows in 0.30 ms
    through SQLite's rowids, 0.39–0.44 ms through the id's index).

    A UNION of whole rows made SQLite sort every part's page again with its stored documents
    (a temporary b-tree of 2 x 51 rows of ~2 KB for a page of events): the keys alone cost
    0.30 ms where the rows cost 0.48 (100,000 events, a first page with ``to=``). The rows joined
    to the keys are sorted once more for the same reason where ``extra.sorted_here`` does not let
    Python do it (a deep page's statement at 100,000 events: 0.17 ms with the ORDER BY, 0.11
    without)."""
    model, returning = spec.columns[0].model, keys[0][2]  # (the columns of the model's table)
    keys_sql, params = _union(keys, spec, limit)
    database, key = model._meta.database, model._meta.primary_key.column_name
    utf8 = set(extra.utf8) if extra is not None else set()
    columns = ", ".join(extra.utf8_sql(f'e."{column.column_name}"') if column.name in utf8
                        else f'e."{column.column_name}"' for column in returning)
    convert = [None if column.name in utf8 else _converter(column) for column in returning]
    names = [column.name for column in returning]
    joined = ""
    if extra is not None:
        extra_columns, joined = extra.sql(f'e."{key}"')
        columns += ", " + extra_columns
        params = [*params, *extra.params]  # the JOIN clause comes after the keys in the text
        convert += [None] * len(extra.names)  # (as the driver gives them)
        names += extra.names
    on = f'e.{locator} = p."{LOCATED}"' if locator is not None else f'e."{key}" = p."{key}"'
    sort_keys = [names.index(column.name) for column in spec.columns if column.name in names]
    sorted_here = extra is not None and extra.sorted_here and len(sort_keys) == len(spec.columns)
    order = "" if sorted_here else " ORDER BY " + _order_terms(spec, "p.")
    cursor = database.execute_sql(f'SELECT {columns} FROM ({keys_sql}) AS p JOIN "{model._meta.table_name}" AS e '
                                  f'ON {on}{joined}{order}', params)
    fetched = cursor.fetchall()
    if sorted_here:  # (keys are unique: no ties for the engine and Python to break apart)
        fetched.sort(key=itemgetter(*sort_keys), reverse=spec.descending)
    return _rows(names, convert, fetched)


def _converter(column):
    """The column's conversion of what the driver gives, or None where that is served as it is: text
    columns whose field changes nothing (peewee's conversion returns a str or None unchanged, and the
    loader writes only str to them; a field that pads or strips, as FixedCharField, is converted)."""
    kind = type(column)
    plain = (isinstance(column, (TextField, CharField)) and kind.python_value is Field.python_value
             and kind.adapt is CharField.adapt)
    return None if plain else column.python_value


def _rows(names: list[str], convert: list, rows: list[tuple]) -> list:
    """Rows whose columns are attributes, converting only the columns that need it (``None``: as
    given): a named tuple per set of names, made once (building each row through keyword
    arguments and a converter per value cost 0.15 ms of a page of 51 rows; a :class:`Row` with
    its own dict per row, 0.04 ms)."""
    converted = [(index, to_python) for index, to_python in enumerate(convert) if to_python is not None]
    if converted:
        rows = [list(values) for values in rows]
        for values in rows:
            for index, to_python in converted:
                values[index] = to_python(values[index])
    return list(map(_row_type(tuple(names))._make, rows))


#: the named tuple of each set of row columns read so far (a few, fixed by the code)
_ROW_TYPES: dict[tuple, type] = {}


def _row_type(names: tuple) -> type:
    made = _ROW_TYPES.get(names)
    if made is None:
        made = _ROW_TYPES[names] = namedtuple("PageRow", names)
    return made


#: rows :func:`iterate_all` reads per keyset query
BATCH = 2_000


def iterate_all(select, spec: SortSpec, batch: int = BATCH, after: list | None = None,
                extra: RowColumns | None = None, first_batch: int | None = None):
    """Every row of ``select`` (after the key ``after``) in keyset batches, with the ``extra``
    columns when given: bounded memory on any backend. ``first_batch``: the size of the first."""
    size = first_batch or batch
    while True:
        rows, more = keyset_page(select, spec, after, size, extra)
        yield from rows
        if not more:
            return
        after, size = spec.key_of(rows[-1]), batch


def count(select) -> int:
    if isinstance(select, Branches):  # disjoint parts
        return sum(count(part) for part in select)
    if isinstance(select, OrderedPart):
        return select.count()
    return select.order_by().count(clear_limit=True)

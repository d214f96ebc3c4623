"""SQLite's search listings: the events matching a query read from the FTS5 index in list order.

The search rows of one part (models/search_index.py) are numbered in (sort_date, id) order at
load time, so the FTS index yields its matches in list order and stops after a page, and a date
bound or a cursor is a rowid bound (two lookups in ``search_doc``'s list-order index).

A page's keys and a part's count are written here as SQL text around the conditions the query
builder compiles (the other filters and the quoted phrases, when there are any): a search page
cost 4.0 ms of CPU in process at 100,000 events with its statements compiled through peewee, 2.3 ms
with them written here (benchmarks/README.md, 2026-12-05).
"""
from __future__ import annotations

import operator
from functools import reduce

from ..paging import OrderedPart, SortSpec, page_select
from ..records import Event
from ..search_index import END_ONLY, STARTED, UNDATED, SearchDoc, phrase_condition
from .sqlite_fts import SearchFTS

#: the aliases of the statements' tables, as the query builder would name them in this order (the
#: conditions compiled into them refer to the event and the search row by these)
EVENT, FTS, DOC = "t1", "t2", "t3"


class SearchOrderedPart(OrderedPart):
    """Events matching a query, of one ``part`` (STARTED, END_ONLY or UNDATED), read newest
    (or oldest) first from the FTS index itself. ``low``/``high`` bound ``sort_date``;
    ``also`` is a further condition on the event; ``conditions`` are the other filters' terms.
    """

    #: the columns of a page's rows
    returning = (Event.id, Event.sort_date, Event.doc)

    def __init__(self, backend, query, part: int, conditions: list, low: str | None = None,
                 high: str | None = None, also=None):
        self.backend = backend
        self.query = query
        self.part = part
        self.conditions = list(conditions) + ([also] if also is not None else [])
        self.low, self.high = low, high

    # -- as SQL text (pages in date order, counts)
    def keys_sql(self, spec: SortSpec, after: list | None, limit: int) -> tuple[str, list] | None:
        """The sort keys of a page (``sort_date``, ``id``) as SQL text and parameters, or None for
        an order the FTS order does not give (:meth:`page` reads it another way)."""
        if spec.columns[0].name != "sort_date":
            return None
        columns = ", ".join(f'"{EVENT}"."{column.column_name}"' for column in spec.columns)
        sql, params = self._matches_sql(columns, spec.descending, after, events=True)
        return f'{sql} ORDER BY "{FTS}"."rowid" {"DESC" if spec.descending else "ASC"} LIMIT ?', [*params, limit]

    def count(self) -> int:
        sql, params = self._matches_sql("COUNT(*)", True, None, events=False)
        return Event._meta.database.execute_sql(sql, params).fetchone()[0]

    def _matches_sql(self, columns: str, descending: bool, after: list | None, *, events: bool
                     ) -> tuple[str, list]:
        """``SELECT columns`` of the FTS matches of this part (joined to their search rows and
        events where the conditions or ``events`` need them), within the date bounds and after
        the cursor ``after``. The bounds are each one lookup in ``search_doc``'s list-order index
        (:meth:`_edge_sql`)."""
        low, low_params = self._edge_sql(False, after if not descending else None, "low")
        high, high_params = self._edge_sql(True, after if descending else None, "high")
        sql = f'SELECT {columns} FROM "search_fts" AS "{FTS}"'
        if events or self.conditions or self.query.phrases:
            sql += f' INNER JOIN "search_doc" AS "{DOC}" ON ("{FTS}"."rowid" = "{DOC}"."rowid")'
        if events or self.conditions:
            sql += f' INNER JOIN "event" AS "{EVENT}" ON ("{EVENT}"."id" = "{DOC}"."record_id")'
        where = f'("search_fts" MATCH ?) AND ("{FTS}"."rowid" >= {low}) AND ("{FTS}"."rowid" <= {high})'
        params = [self.backend.match_expression(self.query), *low_params, *high_params]
        compiled, compiled_params = self._compiled_conditions()
        if compiled:
            where += f" AND {compiled}"
            params += compiled_params
        return f"{sql} WHERE ({where})", params

    def _edge_sql(self, last: bool, key: list | None, alias: str) -> tuple[str, list]:
        """The first (or ``last``) rowid of this part within the date bounds, after (before) the
        cursor's ``key``: a scalar subquery as SQL text, and its parameters."""
        where, params = [f'"{alias}"."kind" = ?', f'"{alias}"."part" = ?'], ["event", self.part]
        if self.low:
            where.append(f'"{alias}"."sort_date" >= ?')
            params.append(self.low)
        if self.high:
            where.append(f'"{alias}"."sort_date" <= ?')
            params.append(self.high)
        if key is not None:
            where.append(f'("{alias}"."sort_date", "{alias}"."record_id") {"<" if last else ">"} (?, ?)')
            params.extend(key)
        direction = " DESC" if last else ""
        return (f'(SELECT "{alias}"."rowid" FROM "search_doc" AS "{alias}" WHERE {" AND ".join(where)} '
                f'ORDER BY "{alias}"."sort_date"{direction}, "{alias}"."record_id"{direction} LIMIT 1)', params)

    def _compiled_conditions(self) -> tuple[str, list]:
        """The quoted phrases' and the other filters' conditions as SQL text (('', []) when there
        are none), the event and the search row under the aliases the statement gives them."""
        terms = [phrase_condition(phrase) for phrase in self.query.phrases] + self.conditions
        if not terms:
            return "", []
        context = Event._meta.database.get_sql_context()
        # named as the builder names them, in the same order: a subquery of the conditions goes on
        # from t4, and one correlated with the event refers to it as t1
        for table, alias in ((Event._meta.table, EVENT), (SearchFTS._meta.table, FTS), (SearchDoc._meta.table, DOC)):
            named = context.alias_manager.add(table)
            if named != alias:  # (a peewee that names tables otherwise: the text above would not match)
                raise RuntimeError(f"the query builder named a table {named}, not {alias}")
        with context.scope_normal(subquery=True):
            context.sql(reduce(operator.and_, terms))
        return context.query()

    # -- through the query builder
    def page(self, spec: SortSpec, after: list | None, limit: int):
        """A page in another order than the date's, which the FTS order does not help with (a
        page in date order is :meth:`keys_sql`'s)."""
        select = Event.select(*self.returning).where(self.generic())
        return page_select(select, spec, after, limit)

    def generic(self):
        """The same events as a plain condition on the event table."""
        part = {STARTED: Event.date_start.is_null(False),
                END_ONLY: Event.date_start.is_null() & Event.date_end.is_null(False),
                UNDATED: Event.sort_date == ""}[self.part]
        if self.low:
            part &= Event.sort_date >= self.low
        if self.high:
            part &= Event.sort_date <= self.high
        for term in self.conditions:
            part &= term
        return part & Event.id.in_(self.backend.matching_ids(self.query, "event"))

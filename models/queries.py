"""Filters and keyset pages as Peewee queries (dashboard counts: models/stats.py).

Takes plain values (already validated by the API's parameter schemas) and
returns rows; knows nothing about HTTP. Every list runs a fixed number of
queries whatever its length: one for the page, one for the total, and one per
kind of embedded record.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from peewee import SQL, Tuple, fn

from . import daycounts, search
from .records import (
    CameoCode,
    DatasetMeta,
    Event,
    EventCountry,
    EventParticipant,
    EventTopic,
    Participant,
    Place,
    Source,
    Statement,
    StatementTopic,
)


class NotLoaded(Exception):
    """The database answers but holds no loaded dataset."""


def dataset_meta() -> dict:
    try:
        return {row.key: row.value for row in DatasetMeta.select()}
    except Exception as error:  # missing table: nothing was loaded yet
        if "no such table" in str(error) or "does not exist" in str(error):
            raise NotLoaded() from error
        raise


# --------------------------------------------------------------------------- sorting / keyset


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
    descending = sort.startswith("-")
    name = sort.lstrip("-")
    if name == "date":
        return SortSpec((model.sort_date, model.id), descending)
    return SortSpec((model.id,), descending)


class Branches(tuple):
    """Selects of disjoint parts of one result, each of which reads an index range in
    sort order; a page takes the first rows of each and keeps the first overall.

    One select with ``a OR b`` in its WHERE walks the sort index and tests every
    row, including the ones a bound on the sort column would have skipped; a
    part per branch of the OR keeps that bound usable (see :func:`event_listing`).
    """


def _page_select(select, spec: SortSpec, after: list | None, limit: int):
    if after is not None:
        select = select.where(spec.after(after))
    return select.order_by(*spec.order_by()).limit(limit)


def _part_page(part, spec: SortSpec, after: list | None, limit: int):
    if isinstance(part, SearchOrderedPart):
        return part.page(spec, after, limit)
    return _page_select(part, spec, after, limit)


def keyset_page(select, spec: SortSpec, after: list | None, limit: int):
    """Rows of one page (and whether there is another) without OFFSET."""
    if isinstance(select, Branches):
        parts = [_part_page(part, spec, after, limit + 1).alias(f"part{i}") for i, part in enumerate(select)]
        union = parts[0].select_from(SQL("*"))
        for part in parts[1:]:
            union = union.union_all(part.select_from(SQL("*")))
        order = [SQL(f'"{c.column_name}" DESC' if spec.descending else f'"{c.column_name}"') for c in spec.columns]
        rows = list(union.order_by(*order).limit(limit + 1).bind(Event._meta.database).namedtuples())
    else:
        rows = list(_page_select(select, spec, after, limit + 1).namedtuples())
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
    if isinstance(select, SearchOrderedPart):
        return select.count()
    return select.order_by().count(clear_limit=True)


def event_total(filters: dict) -> int:
    """Events under ``filters``: from the day counts when they can answer, else counted."""
    found = daycounts.total(filters)
    return count(event_listing(filters)) if found is None else found


# --------------------------------------------------------------------------- filters


def _overlaps(model, start: str | None, end: str | None, include_undated: bool):
    """Records whose [date_start, date_end] interval overlaps [start, end].

    An open-ended bound on the record (a range with only an end, or only a
    start) counts as open. Written as two index ranges, one over records with a
    start date and one over those with only an end, so that neither the page nor
    its count has to read every row.
    """
    with_start = model.date_start.is_null(False)
    if end:
        with_start &= model.date_start <= end
    if start:
        with_start &= model.date_end.is_null() | (model.date_end >= start)
    end_only = model.date_start.is_null() & model.date_end.is_null(False)
    if start:
        end_only &= model.date_end >= start
    expression = with_start | end_only
    if include_undated:
        expression |= model.date_start.is_null() & model.date_end.is_null()
    return expression


def _cameo_prefix(column, prefix: str):
    return (column == prefix) | column.startswith(prefix) if len(prefix) < 4 else column == prefix


def event_select(filters: dict, columns=None):
    query = Event.select(*(columns or (Event.id, Event.sort_date, Event.doc)))
    conditions = event_conditions(filters)
    return query.where(*conditions) if conditions else query


def event_conditions(filters: dict) -> list:
    """The WHERE terms of :func:`event_select`."""
    terms = []
    for participant_id in filters.get("participant", []):
        # IN over the (participant, event) index: SQLite plans it far better than a correlated EXISTS
        terms.append(Event.id.in_(
            EventParticipant.select(EventParticipant.event).where(EventParticipant.participant == participant_id)
        ))
    if "country" in filters:
        # a probe of the (country, event) key per event read: a page newest first stops after a
        # few rows, where IN would first collect every event of the country
        terms.append(fn.EXISTS(EventCountry.select(SQL("1")).where(
            (EventCountry.country == filters["country"]) & (EventCountry.event == Event.id))))
    if "place" in filters:
        terms.append(Event.place == filters["place"])
    if "type" in filters:
        terms.append(_cameo_prefix(Event.cameo_code, filters["type"]))
    if "plover" in filters:
        terms.append(Event.plover_type == filters["plover"])
    if "status" in filters:
        terms.append(Event.status == filters["status"])
    if "topic" in filters:
        terms.append(Event.id.in_(EventTopic.select(EventTopic.event).where(EventTopic.topic == filters["topic"])))
    if "source" in filters:
        terms.append(Event.source == filters["source"])
    if "from" in filters or "to" in filters:
        terms.append(_overlaps(Event, filters.get("from"), filters.get("to"), filters.get("include_undated", False)))
    if "q" in filters:
        terms.append(Event.id.in_(search.matching_ids(Event._meta.database, filters["q"], "event")))
    return terms


def event_listing(filters: dict):
    """The events under ``filters`` for a page or an export: :func:`event_select`, split
    into :class:`Branches` by how the events are dated when a date filter is given.

    Events with a start date sort by it, so ``sort_date <= to`` bounds them (an
    index range); events with only an end overlap any range ending after it
    whatever their sort date; undated events only come with ``include_undated``.
    """
    if "q" in filters and search.is_sqlite(Event._meta.database):
        return _search_ordered(filters)
    if "from" not in filters and "to" not in filters:
        return event_select(filters)
    start, end = filters.get("from"), filters.get("to")
    rest = {k: v for k, v in filters.items() if k not in ("from", "to", "include_undated")}
    with_start = Event.date_start.is_null(False)
    if end:
        with_start &= (Event.sort_date <= end) & (Event.date_start <= end)
    if start:
        with_start &= Event.date_end.is_null() | (Event.date_end >= start)
    end_only = Event.date_start.is_null() & Event.date_end.is_null(False)
    if start:
        end_only &= Event.date_end >= start
    parts = [event_select(rest).where(with_start), event_select(rest).where(end_only)]
    if filters.get("include_undated"):
        parts.append(event_select(rest).where(Event.sort_date == ""))
    return Branches(parts)


def _search_ordered(filters: dict) -> Branches:
    """Events matching ``q`` (SQLite), one :class:`SearchOrderedPart` per way of being dated."""
    start, end = filters.get("from"), filters.get("to")
    dated = start or end
    rest = {k: v for k, v in filters.items() if k not in ("q", "from", "to", "include_undated")}
    conditions = event_conditions(rest)
    parts = [
        SearchOrderedPart(filters["q"], search.STARTED, conditions, high=end,
                          # a started event overlaps [from, …] when it ends on or after it (or is open)
                          also=(Event.date_end.is_null() | (Event.date_end >= start)) if start else None),
        SearchOrderedPart(filters["q"], search.END_ONLY, conditions, low=start),  # sort_date is the end
    ]
    if not dated or filters.get("include_undated"):
        parts.append(SearchOrderedPart(filters["q"], search.UNDATED, conditions))
    return Branches(parts)


class SearchOrderedPart:
    """Events matching a query, of one ``part`` (search.STARTED, END_ONLY or UNDATED), read
    newest (or oldest) first from the FTS index itself.

    The search rows of one part are numbered in (sort_date, id) order (see
    search.SearchDoc), so the FTS index yields its matches in list order and
    stops after a page, and a date bound or a cursor is a rowid bound. SQLite only.

    ``low``/``high`` bound ``sort_date``; ``also`` is a further condition on the
    event; ``conditions`` are the other filters' terms (:func:`event_conditions`).
    """

    def __init__(self, query, part: int, conditions: list, low: str | None = None, high: str | None = None,
                 also=None):
        self.query = query
        self.part = part
        self.conditions = list(conditions) + ([also] if also is not None else [])
        self.low, self.high = low, high

    def _edge(self, last: bool, key: list | None):
        """The first (or last) rowid of this part within the date bounds, before (after) ``key``."""
        doc = search.SearchDoc.alias()
        edge = doc.select(doc.rowid).where((doc.kind == "event") & (doc.part == self.part))
        if self.low:
            edge = edge.where(doc.sort_date >= self.low)
        if self.high:
            edge = edge.where(doc.sort_date <= self.high)
        if key is not None:
            row = Tuple(doc.sort_date, doc.record_id)
            edge = edge.where(row < Tuple(*key) if last else row > Tuple(*key))
        order = [doc.sort_date.desc(), doc.record_id.desc()] if last else [doc.sort_date, doc.record_id]
        return edge.order_by(*order).limit(1)

    def _matches(self, columns, spec: SortSpec | None = None, after: list | None = None, *, events: bool):
        """The FTS matches of this part (joined to their events when ``events`` or the
        filters need them), within the date bounds and after the cursor ``after``."""
        fts, doc = search.SearchFTS, search.SearchDoc
        descending = spec.descending if spec else True
        low = self._edge(False, after if (after is not None and not descending) else None)
        high = self._edge(True, after if (after is not None and descending) else None)
        select = fts.select(*columns).where(
            fts.match(search.match_expression(Event._meta.database, self.query)), fts.rowid >= low, fts.rowid <= high)
        if events or self.conditions or self.query.phrases:
            select = search.with_phrases(select.join_from(fts, doc, on=(doc.rowid == fts.rowid)), self.query)
        if events or self.conditions:
            select = select.join_from(doc, Event, on=(Event.id == doc.record_id))
            if self.conditions:
                select = select.where(*self.conditions)
        return select

    def page(self, spec: SortSpec, after: list | None, limit: int):
        if spec.columns[0].name != "sort_date":  # another order: the FTS order does not help
            select = Event.select(Event.id, Event.sort_date, Event.doc).where(self.generic())
            return _page_select(select, spec, after, limit)
        select = self._matches([Event.id, Event.sort_date, Event.doc], spec, after, events=True)
        order = search.SearchFTS.rowid.desc() if spec.descending else search.SearchFTS.rowid.asc()
        return select.order_by(order).limit(limit)

    def generic(self):
        """The same events as a plain condition on the event table."""
        part = {search.STARTED: Event.date_start.is_null(False),
                search.END_ONLY: Event.date_start.is_null() & Event.date_end.is_null(False),
                search.UNDATED: Event.sort_date == ""}[self.part]
        if self.low:
            part &= Event.sort_date >= self.low
        if self.high:
            part &= Event.sort_date <= self.high
        matching = Event.id.in_(search.matching_ids(Event._meta.database, self.query, "event"))
        for term in self.conditions:
            part &= term
        return part & matching

    def count(self) -> int:
        return self._matches([fn.COUNT(SQL("*"))], events=False).scalar()


def statement_select(filters: dict, columns=None):
    query = Statement.select(*(columns or (Statement.id, Statement.sort_date, Statement.doc)))
    speakers = list(filters.get("participant", []))
    if "speaker" in filters:
        speakers.append(filters["speaker"])
    if speakers:
        query = query.where(Statement.speaker.in_(speakers))
    if "event" in filters:
        query = query.where(Statement.event == filters["event"])
    if "mode" in filters:
        query = query.where(Statement.mode == filters["mode"])
    if "type" in filters:
        query = query.where(_cameo_prefix(Statement.cameo_code, filters["type"]))
    if "topic" in filters:
        query = query.where(Statement.id.in_(StatementTopic.select(StatementTopic.statement).where(StatementTopic.topic == filters["topic"])))
    if "source" in filters:
        query = query.where(Statement.source == filters["source"])
    if "from" in filters:
        query = query.where(Statement.sort_date >= filters["from"])
    if "to" in filters:
        query = query.where(Statement.sort_date <= filters["to"])
    if "q" in filters:
        query = query.where(Statement.id.in_(search.matching_ids(Statement._meta.database, filters["q"], "statement")))
    return query


def participant_select(filters: dict):
    query = Participant.select(Participant.id, Participant.doc)
    if "kind" in filters:
        query = query.where(Participant.kind == filters["kind"])
    if "country" in filters:
        query = query.where(Participant.country == filters["country"])
    if "q" in filters:
        query = query.where(Participant.id.in_(search.matching_ids(Participant._meta.database, filters["q"], "participant")))
    return query


def place_select(filters: dict):
    query = Place.select(Place.id, Place.doc)
    if "kind" in filters:
        query = query.where(Place.kind == filters["kind"])
    if "country" in filters:
        query = query.where(Place.country == filters["country"])
    if "q" in filters:
        query = query.where(Place.id.in_(search.matching_ids(Place._meta.database, filters["q"], "place")))
    return query


def source_select(filters: dict):
    return Source.select(Source.id, Source.doc)


# --------------------------------------------------------------------------- single records and embedding


def docs_by_id(model, ids, column=None) -> dict[str, dict]:
    """Stored documents by id: ``doc``, or another document column (participants and
    places as other records embed them: ``embedded``)."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return {}
    rows = model.select(model.id, column or model.doc).where(model.id.in_(ids)).tuples()
    return {rid: json.loads(doc) for rid, doc in rows}


def doc_of(model, record_id: str) -> dict | None:
    row = model.select(model.doc).where(model.id == record_id).tuples().first()
    return json.loads(row[0]) if row else None


def source_text(source_id: str) -> tuple[dict, str] | None:
    row = Source.select(Source.doc, Source.text).where(Source.id == source_id).tuples().first()
    return (json.loads(row[0]), row[1]) if row else None


def record_spans(record_id: str) -> tuple[str, dict] | None:
    """(kind, doc) of the event, statement, participant or place with this id."""
    for kind, model in (("event", Event), ("statement", Statement), ("participant", Participant), ("place", Place)):
        doc = doc_of(model, record_id)
        if doc is not None:
            return kind, doc
    return None


def entity_names() -> list[list[str]]:
    """Names and aliases of every participant and place (for search.gazetteer_for)."""
    out = []
    for model in (Participant, Place):
        for (doc,) in model.select(model.doc).tuples():
            record = json.loads(doc)
            out.append([record["name_en"], record["name_ar"], *record["aliases"]])
    return out


def event_types():
    return [json.loads(doc) for (doc,) in CameoCode.select(CameoCode.doc).order_by(CameoCode.code).tuples()]

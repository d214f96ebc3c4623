"""Listings and records as Peewee queries (dashboard counts: models/counts.py).

Takes plain values (already validated by the API's parameter schemas) and
returns rows; knows nothing about HTTP. Every list runs a fixed number of
queries whatever its length: one for the page, one for the total, and one per
kind of embedded record. The filters themselves are tables (models/filters.py).
"""
from __future__ import annotations

import json

from . import backends, daycounts, documents, gazetteer
from .filters import (EVENT_FILTERS, PARTICIPANT_FILTERS, PLACE_FILTERS, SOURCE_FILTERS, STATEMENT_FILTERS, as_list,
                      conditions)
from .paging import Branches, count
from .vocabulary import DATE_FILTERS
from .records import CameoCode, DatasetMeta, Event, Participant, Place, Source, Statement


class NotLoaded(Exception):
    """The database answers but holds no loaded dataset."""


#: what every request reads of the dataset's metadata (not the codebook's text, which is large)
SERVING_META = ("dataset_version", "release", "schema_version")


def dataset_meta(keys: tuple[str, ...] = SERVING_META) -> dict:
    """Values of the dataset's metadata (dataset_meta), by key.

    Written as SQL text: every request that reads data runs it, and building it through the
    query builder cost more than running it."""
    if not keys:
        return {}
    database = DatasetMeta._meta.database
    marks = ",".join([database.param] * len(keys))
    try:
        return dict(database.execute_sql(
            f'SELECT "key", "value" FROM "{DatasetMeta._meta.table_name}" WHERE "key" IN ({marks})', list(keys)))
    except Exception as error:  # missing table: nothing was loaded yet
        if backends.current().is_missing_table(error):
            raise NotLoaded() from error
        raise


# --------------------------------------------------------------------------- events


def overlaps(model, start: str | None, end: str | None, include_undated: bool):
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


def event_conditions(filters: dict) -> list:
    """The WHERE terms of :func:`event_select`: the filter table's, and the date overlap."""
    terms = conditions(EVENT_FILTERS, filters)
    if "from" in filters or "to" in filters:
        terms.append(overlaps(Event, filters.get("from"), filters.get("to"), filters.get("include_undated", False)))
    return terms


def event_select(filters: dict, columns=None):
    query = Event.select(*(columns or (Event.id, Event.sort_date, Event.doc)))
    terms = event_conditions(filters)
    return query.where(*terms) if terms else query


def event_listing(filters: dict):
    """The events under ``filters`` for a page or an export: :func:`event_select`, split
    into :class:`Branches` by how the events are dated when a date filter is given, or
    read from the search index in list order when the backend can.

    Events with a start date sort by it, so ``sort_date <= to`` bounds them (an
    index range); events with only an end overlap any range ending after it
    whatever their sort date; undated events only come with ``include_undated``.
    """
    start, end = filters.get("from"), filters.get("to")
    if "q" in filters:
        rest = {k: v for k, v in filters.items() if k not in ("q", *DATE_FILTERS)}
        parts = backends.current().ordered_event_search(
            filters["q"], event_conditions(rest), start, end, filters.get("include_undated", False))
        if parts is not None:
            return Branches(parts)
    if not start and not end:
        return event_select(filters)
    rest = {k: v for k, v in filters.items() if k not in DATE_FILTERS}
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


def event_total(filters: dict) -> int:
    """Events under ``filters``: from the day counts when they can answer, else counted."""
    found = daycounts.total(filters)
    return count(event_listing(filters)) if found is None else found


# --------------------------------------------------------------------------- the other collections


def statement_select(filters: dict):
    values = dict(filters)
    if "speaker" in values:  # speaker and participant name speakers alike: statements by any of them
        values["participant"] = [*as_list(values.get("participant", [])), values.pop("speaker")]
    terms = conditions(STATEMENT_FILTERS, values)
    query = Statement.select(Statement.id, Statement.sort_date, Statement.doc)
    return query.where(*terms) if terms else query


def participant_select(filters: dict):
    terms = conditions(PARTICIPANT_FILTERS, filters)
    query = Participant.select(Participant.id, Participant.doc)
    return query.where(*terms) if terms else query


def place_select(filters: dict):
    terms = conditions(PLACE_FILTERS, filters)
    query = Place.select(Place.id, Place.doc)
    return query.where(*terms) if terms else query


def source_select(filters: dict):
    terms = conditions(SOURCE_FILTERS, filters)
    query = Source.select(Source.id, Source.doc)
    return query.where(*terms) if terms else query


# --------------------------------------------------------------------------- single records and embedding


def docs_by_id(model, ids, column=None) -> dict[str, dict]:
    """Stored documents by id: ``doc``, or another document column (participants and
    places as other records embed them: ``embedded``)."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return {}
    rows = model.select(model.id, column or model.doc).where(model.id.in_(ids)).tuples()
    return {rid: json.loads(doc) for rid, doc in rows}


def texts_by_id(wanted: dict[tuple, list[str]]) -> dict[tuple, dict[str, str]]:
    """Stored texts of several kinds at once, served compact: ``{(model, column): ids}`` →
    ``{(model, column): {id: text}}``, in one query (a UNION ALL of one part per kind).

    Written as SQL text: on the hot path of every page with ``include``, and building the
    same statement through the query builder cost more than running it."""
    parts, params, keys = [], [], []
    for (model, column), ids in wanted.items():
        ids = list(dict.fromkeys(ids))
        if ids:
            database = model._meta.database
            marks = ",".join([database.param] * len(ids))
            parts.append(f'SELECT {len(keys)}, "id", "{column}" FROM "{model._meta.table_name}" WHERE "id" IN ({marks})')
            params.extend(ids)
            keys.append((model, column))
    found: dict[tuple, dict[str, str]] = {key: {} for key in keys}
    if not parts:
        return found
    for part, record_id, text in database.execute_sql(" UNION ALL ".join(parts), params).fetchall():
        found[keys[part]][record_id] = documents.compact(text)
    return found


def doc_of(model, record_id: str) -> dict | None:
    row = model.select(model.doc).where(model.id == record_id).tuples().first()
    return json.loads(row[0]) if row else None


def exists(model, record_id: str) -> bool:
    return model.select().where(model.id == record_id).exists()


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


def entity_names() -> list:
    """The gazetteer entries of every participant and place (for gazetteer.gazetteer_for), read
    from the records as others embed them (their names, without their many mentions)."""
    return [gazetteer.entry_of(json.loads(doc)) for model in (Participant, Place)
            for (doc,) in model.select(model.embedded).tuples()]


def event_types():
    return [json.loads(doc) for (doc,) in CameoCode.select(CameoCode.doc).order_by(CameoCode.code).tuples()]

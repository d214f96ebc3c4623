"""What Datasette runs for each request: one SQL statement per request, sent to its SQL
interface (``/DB.json?sql=…&_shape=array``), that does the work our endpoint does.

The statements read the same tables and columns our server reads: the stored documents, the
embedded forms of participants and places (the same ``embedded`` column ours embeds), the
same date-overlap conditions as ``models/queries.py:overlaps`` in their plain form, the same
keyset ``(sort_date, id) < (?, ?)`` our cursor carries, the same FTS5 table. They do not use
the load-time day counts (running totals no SQL user would know how to read) nor the rowid order
of the search rows; they do use the copy of the event's dates in ``event_dyad`` (plain columns
of the table they count), which is the kindest reading for the peer.

A page comes in two variants: with the total our page reports in ``meta.total`` (a count of
the matching rows) and without it, which is what a Datasette user who does not need the total
asks for (``_nocount=1`` on a table view). Ratios are reported against both.
"""
from __future__ import annotations

EMBED_PARTICIPANTS = ("(SELECT json_group_array(json(p.embedded)) FROM event_participant ep JOIN participant p "
                      "ON p.id = ep.participant_id WHERE ep.event_id = e.id) AS participants")
EMBED_STATEMENTS = "(SELECT json_group_array(json(s.doc)) FROM statement s WHERE s.event_id = e.id) AS statements"
EMBED_PLACE = "(SELECT json(pl.embedded) FROM place pl WHERE pl.id = e.place_id) AS place"
NO_EMBED = "NULL AS participants"

#: events whose [date_start, date_end] overlaps [:from, :to] (an open bound on the event counts as open)
DATED_OVERLAP = ("(e.date_start IS NOT NULL OR e.date_end IS NOT NULL) "
                 "AND (e.date_start IS NULL OR e.date_start <= :to) AND (e.date_end IS NULL OR e.date_end >= :from)")
#: the same with only ``to=``
DATED_BEFORE = "(e.date_start IS NOT NULL OR e.date_end IS NOT NULL) AND (e.date_start IS NULL OR e.date_start <= :to)"
#: the events whose search row matches the FTS5 expression :q: a plain join (one search row per
#: event) for the page, and ``IN`` subqueries for the total, each the kinder to Datasette (served at
#: 100,000 events, 2026-12-04: pages 28.0 ms of its CPU joined against 35.2 through IN; a total
#: through the join 0.6–1.3 s, SQLite probing the FTS index for every row of the kind)
SEARCH_FROM = ("search_fts f JOIN search_doc d ON d.rowid = f.rowid JOIN event e ON e.id = d.record_id "
               "WHERE search_fts MATCH :q AND d.kind = 'event'")
MATCHING_IDS = ("e.id IN (SELECT d.record_id FROM search_doc d WHERE d.kind = 'event' AND d.rowid IN "
                "(SELECT rowid FROM search_fts WHERE search_fts MATCH :q))")
KEYSET = "(e.sort_date, e.id) < (:after_date, :after_id)"


def page_sql(where: str = "", embed: str = EMBED_PARTICIPANTS, keyset: bool = False, total: bool = True) -> str:
    """A page of 50 events newest first: ids, stored documents, embedded records and (with
    ``total``) the number of events matching ``where``, repeated on every row."""
    conditions = [c for c in (where, KEYSET if keyset else "") if c]
    clause = (" WHERE " + " AND ".join(conditions)) if conditions else ""
    columns = ["e.id", "e.doc", embed]
    if total:
        columns.append(f"(SELECT count(*) FROM event e{(' WHERE ' + where) if where else ''}) AS total")
    return f"SELECT {', '.join(columns)} FROM event e{clause} ORDER BY e.sort_date DESC, e.id DESC LIMIT 50"


def search_sql(where: str, total: bool = True) -> str:
    """A search page of 50 events newest first (ids and documents) among those ``where`` keeps,
    and (with ``total``) how many match."""
    columns = ["e.id", "e.doc", NO_EMBED]
    if total:
        columns.append(f"(SELECT count(*) FROM event e WHERE {MATCHING_IDS} AND {where}) AS total")
    return (f"SELECT {', '.join(columns)} FROM {SEARCH_FROM} AND {where} "
            "ORDER BY e.sort_date DESC, e.id DESC LIMIT 50")


ONE_EVENT_SQL = (f"SELECT e.id, e.doc, {EMBED_PARTICIPANTS}, {EMBED_STATEMENTS}, {EMBED_PLACE} "
                 "FROM event e WHERE e.id = :id")

FACET_SQL = ("SELECT e.cameo_root AS value, count(*) AS n FROM event e WHERE " + DATED_OVERLAP +
             " GROUP BY e.cameo_root ORDER BY n DESC, e.cameo_root")

# zero-filled months by anchor date (sort_date: the start, else the end), with the events dated
# less precisely than a day per month and the undated events, as /v1/stats/timeline answers
TIMELINE_SQL = (
    "WITH RECURSIVE months(m) AS (SELECT substr(:from, 1, 7) UNION ALL "
    "SELECT strftime('%Y-%m', m || '-01', '+1 month') FROM months WHERE m < substr(:to, 1, 7)), "
    "counts AS (SELECT substr(sort_date, 1, 7) AS m, count(*) AS n, sum(date_precision != 'day') AS ranged FROM event "
    "WHERE sort_date != '' AND sort_date >= :from AND sort_date <= :to GROUP BY 1) "
    "SELECT months.m AS month, coalesce(counts.n, 0) AS events, coalesce(counts.ranged, 0) AS ranged, "
    "(SELECT count(*) FROM event WHERE sort_date = '') AS undated FROM months LEFT JOIN counts USING (m) ORDER BY months.m")

# directed pairs (both sides named) of the events overlapping [from, to], most events first, the
# top 100 with the names our answer carries, and the number of pairs before the limit
DYAD_OVERLAP = DATED_OVERLAP.replace("e.", "d.")
DYAD_SQL = (
    "WITH pairs AS (SELECT d.source_actor, d.target_actor, count(*) AS n, "
    "sum(coalesce(d.goldstein, 0)) AS goldstein_sum FROM event_dyad d "
    "WHERE d.source_actor IS NOT NULL AND d.target_actor IS NOT NULL AND " + DYAD_OVERLAP +
    " GROUP BY d.source_actor, d.target_actor) "
    "SELECT x.source_actor, x.target_actor, x.n, x.goldstein_sum, x.goldstein_sum / x.n AS goldstein_mean, "
    "(SELECT name_en FROM participant WHERE id = x.source_actor) AS source_label, "
    "(SELECT name_en FROM participant WHERE id = x.target_actor) AS target_label, "
    "(SELECT count(*) FROM pairs) AS dyads "
    "FROM pairs x ORDER BY x.n DESC, x.source_actor, x.target_actor LIMIT 100")


def fts_expressions(database, words) -> dict[str, str]:
    """Each word's FTS5 expression exactly as our server matches it (the index terms the word
    begins and its stems, OR-ed: models.backends' match_expression, read from this database's
    vocabulary), so that Datasette's statement selects the same events. A plain ``"word"*`` found
    other sets (الاتفاق: 0 events against our 11,744 at 100,000; cooperation 12,640 against
    18,481), which the checks missed when no sampled URL drew those words."""
    from models import backends, search
    from models.backends.sqlite_fts import SearchTerms
    from models.db import open_database

    db = open_database(f"sqlite:///{database}", read_only=True)
    try:
        with db.bind_ctx([SearchTerms]):
            return {word: backends.of(db).match_expression(search.parse_query(word)) for word in words}
    finally:
        db.close()

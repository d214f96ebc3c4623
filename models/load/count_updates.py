"""The load-time counts an incremental load brings up to date by difference: ``event_day_count``
(running totals per series) and ``dyad_count`` (summed dyads), exactly as a full load would write
them (tests/test_incremental.py holds the two equal, and fails when either update is broken)."""
from __future__ import annotations

from collections import defaultdict

from .. import backends, daycounts, dyadcounts
from ..records import DyadCount, EventDayCount

CHUNK = 500  # ids per IN (…) list


def chunks(values, size: int = CHUNK):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start: start + size]


def apply_day_counts(removed: daycounts.DayCounter, added: daycounts.DayCounter) -> None:
    """Bring EventDayCount to what a full load would write: the counts' difference applied,
    rows of no events dropped, and the running totals after each changed day moved by the
    difference, with one ranged UPDATE per stretch between changed days (SQLite does that for
    a million rows in well under a second; reading and re-summing each series in Python, as
    this did first, cost 15 s at 100,000 events)."""
    sep = daycounts.DayCounter.SEP
    delta = defaultdict(lambda: [0, 0])
    for counter, sign in ((removed, -1), (added, 1)):
        for key, n in counter.counts.items():
            delta[key][0] += sign * n
        for key, n in counter.ranged.items():
            delta[key][1] += sign * n
    by_series = defaultdict(dict)
    for key, change in delta.items():
        dimension, edge, value, day = key.split(sep)
        if change != [0, 0]:
            by_series[dimension, edge, value][day] = change
    writes = DayCountWrites()
    for series, changes in by_series.items():
        writes.series(series, changes)
    writes.run()
    for dimension, value in {(dimension, value) for dimension, _, value in by_series}:
        group = (EventDayCount.dimension == dimension) & (EventDayCount.value == value)
        # every event has a ``lo`` row or counts in the ``undated`` one (each looked up by its key)
        dated = group & (EventDayCount.edge == "lo")
        undated = group & (EventDayCount.edge == "undated")
        if not (EventDayCount.select().where(dated).exists()
                or EventDayCount.select().where(undated & (EventDayCount.n > 0)).exists()):
            EventDayCount.delete().where(group).execute()
        elif not EventDayCount.select().where(undated).exists():
            EventDayCount.insert(dimension=dimension, edge="undated", value=value, day="", n=0, ranged=0, cum=0).execute()


def apply_dyad_counts(removed: dyadcounts.DyadCounter, added: dyadcounts.DyadCounter) -> None:
    """Bring DyadCount to what a full load would write: the stored rows of every key whose
    counts change, plus the added and minus the removed events; a row of no events dropped."""
    changed = _dyad_delta(removed, added)
    db = DyadCount._meta.database
    mark = db.param
    where = " AND ".join(f'"{c}" = {mark}' for c in DYAD_KEY)
    stored = _stored_dyads(db, where, sorted(changed))
    deleted, updated, inserted = [], [], []
    for key, (dn, dg) in sorted(changed.items()):
        n, goldstein = stored.get(key, (0, 0))
        n, goldstein = n + dn, goldstein + dg
        if n <= 0:
            if key in stored:
                deleted.append(key)
        elif key in stored:
            updated.append((n, goldstein, *key))
        else:
            inserted.append(dyadcounts.row_of(key, n, goldstein))
    cursor = db.cursor()
    if deleted:
        cursor.executemany(f'DELETE FROM "dyad_count" WHERE {where}', deleted)
    if updated:
        cursor.executemany(f'UPDATE "dyad_count" SET "n" = {mark}, "goldstein_e4" = {mark} WHERE {where}', updated)
    for part in chunks(inserted, 2_000):
        backends.of(db).bulk_insert(db, DyadCount, part)


#: the primary key of a dyad_count row
DYAD_KEY = ("date_start", "date_end", "source_actor", "target_actor", "quad_class")


def _dyad_delta(removed: dyadcounts.DyadCounter, added: dyadcounts.DyadCounter) -> dict[tuple, list[int]]:
    """key -> [events, Goldstein sum] added less removed, for the keys whose counts change."""
    delta = defaultdict(lambda: [0, 0])
    for counter, sign in ((removed, -1), (added, 1)):
        for key, (n, goldstein) in counter.counts.items():
            delta[key][0] += sign * n
            delta[key][1] += sign * goldstein
    return {key: change for key, change in delta.items() if change != [0, 0]}


def _stored_dyads(db, where: str, keys: list[tuple]) -> dict[tuple, tuple[int, int]]:
    """key -> (events, Goldstein sum) of the stored rows of ``keys``, each looked up by the
    primary key (a start day's rows were ~140 at 1M events, read whole for a few of them:
    0.7 s of a 5 s load)."""
    stored, columns = {}, ", ".join(f'"{c}"' for c in DYAD_KEY)
    for part in chunks(keys, 200):
        for *key, n, goldstein in db.execute_sql(
                f'SELECT {columns}, "n", "goldstein_e4" '
                f'FROM "dyad_count" WHERE {" OR ".join([f"({where})"] * len(part))}',
                [value for key in part for value in key]):
            stored[tuple(key)] = (n, goldstein)
    return stored


class DayCountWrites:
    """The rows of EventDayCount to delete, insert and update, and the running totals to move,
    each kind written with one ``executemany``."""

    def __init__(self):
        self.deleted: list[tuple] = []
        self.inserted: list[dict] = []
        self.updated: list[tuple] = []
        self.shifted: list[tuple] = []  # (by, dimension, edge, value, from day, to day or None)

    def series(self, series: tuple[str, str, str], changes: dict) -> None:
        """Plan the writes of one series from the stored rows of its changed days only."""
        dimension, edge, value = series
        db = EventDayCount._meta.database
        mark = db.param
        where = f'"dimension" = {mark} AND "edge" = {mark} AND "value" = {mark}'
        days = sorted(changes)
        stored = {}
        for part in chunks(days):
            stored.update((day, (n, ranged)) for day, n, ranged in db.execute_sql(
                f'SELECT "day", "n", "ranged" FROM "event_day_count" WHERE {where} AND "day" IN '
                f'({", ".join([mark] * len(part))})', [*series, *part]).fetchall())
        previous = f'SELECT "cum" FROM "event_day_count" WHERE {where} AND "day" < {mark} ORDER BY "day" DESC LIMIT 1'
        moved = 0  # how much the running total moves from this day on
        for position, day in enumerate(days):
            dn, dr = changes[day]
            moved += dn
            n, ranged = stored.get(day, (0, 0))
            n, ranged = n + dn, ranged + dr
            if day in stored:
                if n <= 0 and edge != "undated":
                    self.deleted.append((dimension, edge, value, day))
                else:
                    self.updated.append((n, ranged, dimension, edge, value, day))
            elif n > 0 or edge == "undated":
                row = db.execute_sql(previous, [*series, day]).fetchone()
                # the running total before the load up to this day, moved by the changes so far
                self.inserted.append({"dimension": dimension, "edge": edge, "value": value, "day": day, "n": n,
                                      "ranged": ranged, "cum": (row[0] if row else 0) + moved})
            if moved:
                following = days[position + 1] if position + 1 < len(days) else None
                self.shifted.append((moved, dimension, edge, value, day, following))

    def run(self) -> None:
        db = EventDayCount._meta.database
        mark = db.param
        series = " AND ".join(f'"{c}" = {mark}' for c in ("dimension", "edge", "value"))
        key = f'{series} AND "day" = {mark}'
        cursor = db.cursor()
        # the stored rows' running totals first: the inserted rows carry theirs already
        bounded = [row for row in self.shifted if row[-1] is not None]
        if bounded:
            cursor.executemany(f'UPDATE "event_day_count" SET "cum" = "cum" + {mark} WHERE {series} '
                               f'AND "day" >= {mark} AND "day" < {mark}', bounded)
        open_ended = [row[:-1] for row in self.shifted if row[-1] is None]
        if open_ended:
            cursor.executemany(f'UPDATE "event_day_count" SET "cum" = "cum" + {mark} WHERE {series} '
                               f'AND "day" >= {mark}', open_ended)
        if self.deleted:
            cursor.executemany(f'DELETE FROM "event_day_count" WHERE {key}', self.deleted)
        if self.updated:
            cursor.executemany(f'UPDATE "event_day_count" SET "n" = {mark}, "ranged" = {mark} WHERE {key}',
                               self.updated)
        for part in chunks(self.inserted, 2_000):
            backends.of(db).bulk_insert(db, EventDayCount, part)

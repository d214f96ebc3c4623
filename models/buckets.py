"""Calendar buckets of a timeline: days, ISO weeks, months and years."""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

INTERVALS = ("day", "week", "month", "year")
MAX_BUCKETS = 2_000


class TooManyBuckets(ValueError):
    """The range holds more buckets of the interval than :data:`MAX_BUCKETS` (or the bound given)."""

    def __init__(self, message: str, count: int = 0):
        super().__init__(message)
        self.count = count  # buckets of the range


def bucket_start(day: dt.date, interval: str) -> dt.date:
    if interval == "day":
        return day
    if interval == "week":  # ISO weeks start on Monday
        return day - dt.timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def bucket_end(start: dt.date, interval: str) -> dt.date:
    if interval == "day":
        return start
    if interval == "week":
        return start + dt.timedelta(days=6) if start <= dt.date.max - dt.timedelta(days=6) else dt.date.max
    if interval == "month":
        return start.replace(day=calendar.monthrange(start.year, start.month)[1])
    return start.replace(month=12, day=31)


def next_bucket(start: dt.date, interval: str) -> dt.date | None:
    end = bucket_end(start, interval)
    return None if end == dt.date.max else end + dt.timedelta(days=1)


def bucket_count(first: dt.date, last: dt.date, interval: str) -> int:
    a, b = bucket_start(first, interval), bucket_start(last, interval)
    if interval == "day":
        return (b - a).days + 1
    if interval == "week":
        return (b - a).days // 7 + 1
    if interval == "month":
        return (b.year * 12 + b.month) - (a.year * 12 + a.month) + 1
    return b.year - a.year + 1


@dataclass
class Bucket:
    start: dt.date
    end: dt.date
    count: int = 0
    ranged: int = 0
    groups: dict = field(default_factory=dict)


@dataclass
class Timeline:
    interval: str
    first: dt.date | None  # the range counted (None: nothing dated matched)
    last: dt.date | None
    buckets: list[Bucket]
    total: int  # events counted in the buckets
    ranged: int  # of which not dated to the day
    undated: int  # events under the filters with no date at all (in no bucket)
    group_by: str | None = None
    groups: list[tuple[str, int]] = field(default_factory=list)  # the groups shown, most frequent first
    groups_total: int = 0  # distinct group values in the range
    undated_groups: dict = field(default_factory=dict)  # the undated events per group shown


def buckets_between(first: dt.date, last: dt.date, interval: str, max_buckets: int = MAX_BUCKETS) -> list[Bucket]:
    """Every bucket from the one holding ``first`` to the one holding ``last``, empty.

    Raises :class:`TooManyBuckets` before building any when there are more than ``max_buckets``.
    """
    n = bucket_count(first, last, interval)
    if n > max_buckets:
        raise TooManyBuckets(f"{first.isoformat()} to {last.isoformat()} is {n} {interval} buckets; the most is {max_buckets}", n)
    buckets: list[Bucket] = []
    start = bucket_start(first, interval)
    while start is not None and start <= last:
        buckets.append(Bucket(start, bucket_end(start, interval)))
        start = next_bucket(start, interval)
    return buckets


class BucketOf(dict):
    """Bucket start of a grouping key (``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``), memoised."""

    def __init__(self, interval: str):
        super().__init__()
        self.interval = interval

    def __missing__(self, key: str) -> dt.date:
        if len(key) == 4:
            day = dt.date(int(key), 1, 1)
        elif len(key) == 7:
            day = dt.date(int(key[:4]), int(key[5:7]), 1)
        else:
            day = bucket_start(dt.date.fromisoformat(key), self.interval)
        self[key] = day
        return day



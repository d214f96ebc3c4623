"""Dates a source cannot give: what it reports as done after its publication day, a role it
describes as of a later day. The schemas check that each date is a date; these checks need
the source's day too (each returns the problem's message, or None)."""
from __future__ import annotations

from datetime import date

#: statuses of what the source reports as having happened (by its publication day)
PAST = ("occurred", "background")


def reported_past_problem(record: dict, published: date | None) -> str | None:
    """An event the source reports as having happened starts no later than the source's day
    (a year typed wrong, 2018 for 2017, is otherwise served as a fact)."""
    start = record["date"]["start"]
    if published is None or record["status"] not in PAST or start is None or start <= published:
        return None
    return (f"{start.isoformat()} is after the source's publication day {published.isoformat()}, but the "
            f"event's status is {record['status']}: correct the date, or the status (planned)")


def role_as_of_problem(role: dict | None, published: date | None) -> str | None:
    """A participant's role at a source is as of a day the source can speak of: its own day or
    an earlier one (a role_at_source copied from a later source kept that source's day)."""
    if role is None or published is None or role["as_of"] <= published:
        return None
    return (f"{role['as_of'].isoformat()} is after the source's publication day {published.isoformat()}: "
            f"a source describes a role as of its own day ({published.isoformat()}) or an earlier one")

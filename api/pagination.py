"""Opaque, signed keyset cursors.

A cursor carries the sort key of the last record of a page, and is bound to the
endpoint, the sort order and the filters it was issued for: replaying it on
another endpoint or with other filters, or editing it, is a 400 - never a
silently wrong page.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re

from .errors import Problem, bad_parameter

#: what a part of a sort key can be: a record id (ASCII letters, digits, ``-`` and ``_``) or a
#: sort date (``YYYY-MM-DD``, empty for undated records). A signed cursor is checked against it
#: all the same: a leaked or default secret must not let NUL, lone surrogates or megabytes reach SQL.
KEY_PART = re.compile(r"[A-Za-z0-9_-]{0,80}|[0-9]{4}-[0-9]{2}-[0-9]{2}")


def fingerprint(endpoint: str, sort: str, filters: dict) -> str:
    canonical = json.dumps([endpoint, sort, _plain(filters)], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _plain(filters: dict) -> dict:
    return {k: (v.raw if hasattr(v, "raw") else v) for k, v in filters.items()}


def _sign(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, payload, hashlib.sha256).digest()[:12]


def encode(secret: bytes, endpoint: str, sort: str, filters: dict, key: list, snapshot: str | None = None) -> str:
    """The cursor after ``key``; with ``snapshot`` (database.served: dataset version and release) it
    is valid only while the data is that snapshot's."""
    fields = {"f": fingerprint(endpoint, sort, filters), "k": key, **({"s": snapshot} if snapshot else {})}
    payload = json.dumps(fields, separators=(",", ":")).encode()
    token = payload + _sign(secret, payload)
    return base64.urlsafe_b64encode(token).decode().rstrip("=")


def decode(secret: bytes, cursor: str, endpoint: str, sort: str, filters: dict, arity: int,
           snapshot: str | None = None) -> list:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload, signature = raw[:-12], raw[-12:]
        valid = hmac.compare_digest(signature, _sign(secret, payload))
        data = json.loads(payload) if valid else None
    except (ValueError, TypeError):
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("k"), list):
        raise bad_parameter("cursor", "is not a cursor this API issued (edited or truncated); start again from the first page")
    if data.get("f") != fingerprint(endpoint, sort, filters):
        raise bad_parameter("cursor", "was issued for another endpoint, sort order or filters; use it with the same query it came from")
    if snapshot and isinstance(data.get("s"), str) and data["s"] != snapshot:
        raise stale(data["s"], snapshot)
    key = data["k"]
    if len(key) != arity or not all(isinstance(part, str) and KEY_PART.fullmatch(part) for part in key):
        raise bad_parameter("cursor", "does not fit this sort order")
    return key


def _release(snapshot: str) -> int:
    number = snapshot.rpartition(".r")[2]
    return int(number) if number.isdigit() else 0


def stale(issued: str, now: str) -> Problem:
    """A cursor of a page read from another snapshot: a load committed between the pages, and
    going on from the old page's last key would skip a record whose sort key moved back past it
    and repeat one that moved forward (a keyset walk is exact only within one snapshot). A cursor
    of a later release than this server's is a read replica behind the node that issued it: it
    will have caught up in a moment."""
    then, current = _release(issued), _release(now)
    if then > current:
        return Problem(503, f"This cursor comes from release {then}, and this server's copy of the data is still "
                            f"at release {current}; retry in a moment.", headers={"Retry-After": "1"})
    return Problem(409, f"This cursor comes from a page of release {then}; the data is now at release "
                        f"{current} (a load changed it between your pages), so going on could skip or "
                        f"repeat records. Start again from the first page (without cursor), or follow "
                        f"/v1/changes?since={then} for what changed.",
                   {"cursor": [f"issued at release {then}, not the current release"]}, slug="stale-cursor")

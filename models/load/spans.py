"""Spans written by their text: finding where they are in the source.

A curator may write a span as its text alone (``{"text": "…"}``), with
``occurrence`` (the n-th match in the source, from 1) or ``after`` (an anchor
text that occurs once; the span is the first match after it) when the text
occurs more than once. ``event-records check --fix`` (models/load/fix.py) fills
in ``start``/``end``; the loader only takes spans with offsets.
"""
from __future__ import annotations

#: the keys a span object may have
SPAN_KEYS = frozenset({"start", "end", "text", "occurrence", "after"})


def is_span(value) -> bool:
    """A JSON object that is a span: a ``text`` and nothing but span keys."""
    return isinstance(value, dict) and isinstance(value.get("text"), str) and set(value) <= SPAN_KEYS


def occurrences(text: str, needle: str) -> list[int]:
    """Start offsets of every occurrence of ``needle`` in ``text`` (overlapping ones included)."""
    found, at = [], text.find(needle) if needle else -1
    while at != -1:
        found.append(at)
        at = text.find(needle, at + 1)
    return found


def resolve(span: dict, text: str) -> tuple[int | None, str | None]:
    """(start, None) where the span's text is, or (None, why it cannot be settled)."""
    needle = span["text"]
    found = occurrences(text, needle)
    if not found:
        return None, f'"{_short(needle)}" does not occur in the source text'
    if "after" in span:
        anchors = occurrences(text, span["after"])
        if len(anchors) != 1:
            return None, (f'the anchor "{_short(span["after"])}" occurs {len(anchors)} times; '
                          "give an anchor that occurs once, or an occurrence number")
        later = [at for at in found if at >= anchors[0] + len(span["after"])]
        if not later:
            return None, f'"{_short(needle)}" does not occur after "{_short(span["after"])}"'
        return later[0], None
    if "occurrence" in span:
        n = span["occurrence"]
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= len(found):
            return None, f'occurrence {n!r} asked, but "{_short(needle)}" occurs {len(found)} time(s)'
        return found[n - 1], None
    if len(found) > 1:
        where = ", ".join(str(at) for at in found[:10])
        return None, (f'"{_short(needle)}" occurs {len(found)} times (at {where}); add "occurrence": N '
                      'or "after": "<nearby text>" to say which')
    return found[0], None


def hint(text: str, needle: str) -> str:
    """What to do about a span whose offsets no longer match its text."""
    found = occurrences(text, needle)
    if len(found) == 1:
        return f"; the text occurs once, at {found[0]}-{found[0] + len(needle)}: `event-records check --fix` re-anchors it"
    if found:
        return f"; the text occurs {len(found)} times: correct the offsets or give an occurrence"
    return "; the text does not occur in the source"


def context(text: str, start: int, end: int, width: int = 30) -> str:
    """The span in its surroundings, on one line: …before [span] after…"""
    before = text[max(0, start - width):start].replace("\n", " ")
    after = text[end:end + width].replace("\n", " ")
    return f"…{before}[{text[start:end]}]{after}…"


def _short(value: str, limit: int = 60) -> str:
    value = value.replace("\n", "\\n")
    return value if len(value) <= limit else value[: limit - 1] + "…"

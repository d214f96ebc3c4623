"""Light stemming for search: Snowball's Arabic and English stemmers, the same at index and query time.

Applied to normalised tokens (models/text.py), so both backends index the same
terms. A token's stems are those of each of its :func:`~models.text.index_forms`
(the token and its forms without proclitics): Snowball gives المفاوضات and
مفاوضات different stems, their forms share one. Normalisation folds ة into ه,
which Snowball reads as a pronoun suffix; a final ه is read as ة again before
stemming (both spellings then agree), and the Arabic stemmer is applied until the stem no longer
changes (one pass leaves اقتصاديا at اقتصادي while الاقتصادي goes to اقتصاد). Stems are stored and searched with
:data:`MARK` before them, so a stem never meets a word as written: matches
through a stem rank below matches of the words as written (models/search.py).
"""
from __future__ import annotations

import threading

import Stemmer

from .text import index_forms

#: a private-use character before every stem term (the search tokenizers keep it as a letter)
MARK = "\ue000"

_local = threading.local()  # Stemmer objects are not safe to share between threads
_memo: dict[str, tuple[str, ...]] = {}
MEMO_LIMIT = 500_000


def _stemmers():
    stemmers = getattr(_local, "stemmers", None)
    if stemmers is None:
        stemmers = _local.stemmers = (Stemmer.Stemmer("arabic"), Stemmer.Stemmer("english"))
    return stemmers


def _is_arabic(token: str) -> bool:
    return "\u0600" <= token[:1] <= "\u06ff"


def _stem(token: str) -> str:
    arabic, english = _stemmers()
    if _is_arabic(token):
        # to a fixed point: one pass leaves اقتصاديا at اقتصادي while الاقتصادي goes to اقتصاد
        stem, before = token[:-1] + "ة" if token.endswith("ه") else token, None
        for _ in range(4):
            before, stem = stem, arabic.stemWord(stem)
            if stem == before or len(stem) < 3:
                break
        return stem if len(stem) >= 2 else before
    if token.isascii() and token.isalpha():
        return english.stemWord(token)
    return token


def stems(token: str) -> tuple[str, ...]:
    """The marked stem terms of a normalised token (each distinct stem of its index forms)."""
    found = _memo.get(token)
    if found is None:
        found = tuple(dict.fromkeys(MARK + _stem(form) for form in index_forms(token)))
        if len(_memo) >= MEMO_LIMIT:
            _memo.clear()
        _memo[token] = found
    return found

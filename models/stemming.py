"""Light stemming for search: Snowball's Arabic and English stemmers, the same at index and query time.

Applied to normalised tokens (models/text.py), so both backends index the same
terms. A token's stems are those of the token and of its :func:`~models.text.index_forms`
(its forms without proclitics) except those that lost the article (:func:`_stemmed_forms`):
Snowball does not strip every preposition (لمفاوضات), the forms share one stem. Normalisation folds ة into ه,
which Snowball reads as a pronoun suffix; a final ه is read as ة again before
stemming (both spellings then agree), and the Arabic stemmer is applied until the stem no longer
changes (one pass leaves اقتصاديا at اقتصادي while الاقتصادي goes to اقتصاد). No Arabic stem is shorter
than :data:`MIN_ARABIC_STEM` letters unless the word itself is: Arabic roots have three letters (rarely
two), so a pass that leaves two has taken a root letter for an affix (ولايتي went to لا, the negation,
and found every record that says لا; وليد went to يد, "hand"), and a form without proclitics gives no
stem when fewer letters remain (the conjunction is stripped only before three letters, as in the usual
light stemmers). Stems are stored and searched with
:data:`MARK` before them, so a stem never meets a word as written: matches
through a stem rank below matches of the words as written (models/search.py).
"""
from __future__ import annotations

import threading

import Stemmer

from .text import MAQSURA, index_forms

#: a private-use character before every stem term (the search tokenizers keep it as a letter)
MARK = "\ue000"

#: the fewest letters an Arabic stem (or a form stemmed for one) keeps when the word has more
MIN_ARABIC_STEM = 3
#: the article, alone or after ل (which drops its alef: لل)
_ARTICLES = ("ال", "لل")
#: what follows the nisba ي: masculine, feminine (ة, or ه as normalisation writes it), the
#: adverb's tanween alef, the feminine and masculine plurals
_NISBA_ENDINGS = frozenset({"", "ة", "ه", "ا", "ات", "ين", "ون"})
#: the endings that make a word a nisba noun or adjective (ي and one of the endings above)
_NISBA_SUFFIXES = tuple("ي" + ending for ending in _NISBA_ENDINGS if ending)

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
            if len(stem) < MIN_ARABIC_STEM and len(stem) < len(before):
                return before  # a root letter taken for an affix: keep the last stem of three letters
            if stem == before:
                break
        return _with_nisba(token, _future_prefix_restored(token, stem))
    if token.isascii() and token.isalpha():
        return english.stemWord(token)
    return token


def _future_prefix_restored(token: str, stem: str) -> str:
    """The stem with its first letter back where Snowball took the س of a nisba word for the
    future prefix of a verb (سياسيا, "politically", and وسياسيا went to ياسي and so no longer met
    سياسي): a word with a nisba ending is a noun or an adjective, and those have no future prefix."""
    at = token.rfind(stem)
    if at >= 1 and token[at - 1] == "س" and token.endswith(_NISBA_SUFFIXES):
        return "س" + stem
    return stem


def _with_nisba(token: str, stem: str) -> str:
    """The stem with the nisba ي kept where the word is a nisba form of it.

    Snowball takes the nisba suffix for an inflection and so conflates a derived word with its
    base: اتفاقية (a treaty) and اتفاقيات with اتفاق (agreeing), اقتصادي (economic) with اقتصاد
    (the economy). The nisba forms (ي, ية, يا, يات, يين, يون) keep their ي and still find one
    another, and since words match as prefixes a query for the base (اتفاق) still finds them; a
    query for the derived word no longer finds the base, as "agreements" does not find "agreed".
    """
    at = token.rfind(stem)
    if at < 0 or len(stem) < MIN_ARABIC_STEM:
        return stem
    rest = token[at + len(stem):]
    return stem + "ي" if rest[:1] == "ي" and rest[1:] in _NISBA_ENDINGS else stem


def _stemmed_forms(token: str) -> list[str]:
    """The token and those of its forms without proclitics that Snowball should stem too.

    Not a form that lost the article (ال, or لل = ل + ال): Snowball removes the article
    itself, and nothing stands between the article and the noun, so stemming the rest again
    only lets Snowball take the noun's first letter for a conjunction (الولايات: ولايات → لاي,
    the stem of ولايتي). Nor a form of fewer than :data:`MIN_ARABIC_STEM` letters (وليد → يد).
    The forms that lost a preposition or conjunction are kept: Snowball leaves لمفاوضات and
    والسلام whole.
    """
    out = [token]
    for form in index_forms(token)[1:]:
        proclitic = token[: len(token) - len(form)]
        if len(form) >= MIN_ARABIC_STEM and not proclitic.endswith(_ARTICLES):
            out.append(form)
    return out


def stems(token: str) -> tuple[str, ...]:
    """The marked stem terms of a normalised token (each distinct stem of its index forms)."""
    found = _memo.get(token)
    if found is None:
        # a ى that normalisation left is the preposition على's (models/text.py): Snowball folds it
        # into ي, and the word's stem would be the name علي's
        found = () if MAQSURA in token else tuple(dict.fromkeys(MARK + _stem(form) for form in _stemmed_forms(token)))
        if len(_memo) >= MEMO_LIMIT:
            _memo.clear()
        _memo[token] = found
    return found

"""The months by their Arabic names, for search.

Arabic has three sets of month names in use: the Egyptian and Gulf transliterations of
the Latin names (يناير), the Levantine and Iraqi Syriac ones (كانون الثاني, which the
SyriaNews article uses) and the Maghrebi French ones (جانفي). A record is indexed in
Arabic as its source wrote it and in English, so a query word that is an Arabic month
name also matches the English month's terms: يناير finds what January finds. Left out:
names that are also common words once normalised (آب, August, is اب, "father"; ماي is
the start of many words), May (the English month is also the verb "may": مايو would
find every "may"), and the two-word Levantine names (كانون الثاني), which find the
Arabic text as written.
"""
from __future__ import annotations

from . import text as textnorm
from .stemming import stems

_NAMES = {
    "january": "يناير جانفي",
    "february": "فبراير فيفري شباط",
    "march": "مارس آذار",
    "april": "أبريل إبريل أفريل نيسان",
    "june": "يونيو يونية جوان حزيران",
    "july": "يوليو يولية جويلية تموز",
    "august": "أغسطس اغسطس أوت",
    "september": "سبتمبر أيلول",
    "october": "أكتوبر",
    "november": "نوفمبر",
    "december": "ديسمبر",
}

#: a normalised Arabic month name -> the English month's stem terms
MONTH_TERMS: dict[str, tuple[str, ...]] = {
    token: stems(english) for english, names in _NAMES.items() for name in names.split()
    for token in textnorm.tokens(name)
}


def month_terms(word: str) -> tuple[str, ...]:
    """The stem terms of the English month that ``word`` (a normalised query word) names, if any."""
    return MONTH_TERMS.get(word, ())

"""The search index's rows, shared by every backend (each adds its own index over them).

Every searchable record gets a row in ``search_doc`` holding two normalised
token strings (see :mod:`models.text`):

* ``body``  - the record's words in order (used for ``"phrases"``), text by text and name by
  name with :data:`BREAK` between them, so that no phrase runs from one into the next (the
  aliases Rouhani and Hassan Rohani do not make "Rouhani Hassan");
* ``forms`` - every word plus its forms without Arabic proclitics (و ف ب ك ل ال …),
  so سلام finds للسلام.

A query word matches a record when some token of ``forms`` *starts with* it. The
backends index ``forms`` their own way (models/backends/); phrases are checked on
``body`` with the same LIKEs everywhere (:func:`with_phrases`).
"""
from __future__ import annotations

import operator
from functools import reduce

from peewee import AutoField, CharField, Field, IntegerField, TextField

from . import text as textnorm
from .records import BaseModel

#: ``part`` of a searchable record: how it is dated (see SearchDoc)
UNDATED, END_ONLY, STARTED = 0, 1, 2


class TSVectorField(Field):
    """PostgreSQL's tsvector; on other backends the column exists but stays NULL."""

    field_type = "TSVECTOR"


class SearchRow(BaseModel):
    """The columns of a searchable record (no table of its own)."""

    kind = CharField()
    part = IntegerField()
    record_id = CharField()
    sort_date = CharField()
    body = TextField()
    forms = TextField()


class SearchDoc(SearchRow):
    """One searchable record.

    ``part`` splits events as the date filters do: undated, known only by their
    end, or with a start date; the other kinds are STARTED (statements) or
    UNDATED. A backend may number the rows so that, within one kind and part,
    ``rowid`` order is list order (SQLite does: models/backends/sqlite.py).
    """

    rowid = AutoField()
    tsv = TSVectorField(null=True)

    class Meta:
        indexes = ((("kind", "record_id"), True),)


#: what ``body`` holds between two texts or names: no query word can be it (words are letters,
#: digits and marks: models/text.py tokens)
BREAK = "|"


def body_of(pieces: list[str]) -> str:
    """``body`` of a record's texts and names (each its words joined by spaces)."""
    return " " + f" {BREAK} ".join(piece for piece in pieces if piece) + " "


def body_words(body: str) -> list[str]:
    """The words of a ``body``, without the breaks between its texts."""
    return [word for word in body.split() if word != BREAK]


#: what may stand before a quoted Arabic word: nothing, a conjunction, a preposition, the article
_BEFORE_A_QUOTED_WORD = ("", "و", "ف", "ب", "ل", "ك", "ال", "وال", "فال", "بال", "لل", "ول", "وب")


def phrase_condition(phrase: list[str]):
    """Where ``body`` holds ``phrase``: its words as whole consecutive tokens, the first one with
    or without Arabic proclitics, as the text glues them on (a quoted دعم إيران finds ودعم ايران,
    التعاون الثنائي finds للتعاون الثنائي; مال سوريا does not find شمال سوريا). A single quoted word
    is the whole word: "حل" does not find حلب, as an unquoted حل does. (No LIKE wildcard reaches
    the patterns: tokens hold letters, digits and marks only, models/text.py.)"""
    first, tail = phrase[0], "".join(" " + word for word in phrase[1:]) + " "
    if not "\u0600" <= first[:1] <= "\u06ff":  # (normalised: Arabic words start with an Arabic letter)
        return SearchDoc.body.contains(" " + first + tail)
    # any form of the first word (as written first: index_forms) after any proclitic, or none ("")
    wanted = dict.fromkeys(" " + before + form + tail for form in textnorm.index_forms(first)
                           for before in _BEFORE_A_QUOTED_WORD)
    return reduce(operator.or_, (SearchDoc.body.contains(text) for text in wanted))


def with_phrases(select, query):
    """``select`` (over SearchDoc) narrowed to the rows holding each of the query's phrases."""
    for phrase in query.phrases:
        select = select.where(phrase_condition(phrase))
    return select

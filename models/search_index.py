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


from peewee import AutoField, CharField, Field, IntegerField, NodeList, TextField

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
    التعاون الثنائي finds للتعاون الثنائي; مال سوريا does not find شمال سوريا), the next two with
    or without the article (:func:`_tails`). A single quoted word
    is the whole word: "حل" does not find حلب, as an unquoted حل does. (No LIKE wildcard reaches
    the patterns: tokens hold letters, digits and marks only, models/text.py.)"""
    first, tails = phrase[0], _tails(phrase[1:])
    if not _arabic(first):
        return _any_of([" " + first + tail for tail in tails])
    # any form of the first word (as written first: index_forms) after any proclitic, or none ("")
    return _any_of(list(dict.fromkeys(" " + before + form + tail for tail in tails
                                      for form in textnorm.index_forms(first) for before in _BEFORE_A_QUOTED_WORD)))


def _any_of(texts: list[str]):
    """Where ``body`` holds any of ``texts``: one flat OR (nested two by two, a few hundred
    patterns overflowed SQLite's parser stack)."""
    if len(texts) == 1:
        return SearchDoc.body.contains(texts[0])
    return NodeList([SearchDoc.body.contains(text) for text in texts], glue=" OR ", parens=True)


def _arabic(word: str) -> bool:
    return "\u0600" <= word[:1] <= "\u06ff"  # (normalised: Arabic words start with an Arabic letter)


#: the article and the shortest word it may be taken off (السلام is سلام; الي, إلى, keeps it)
_ARTICLE, _AFTER_THE_ARTICLE = "ال", 3
#: the words after a phrase's first whose article may come and go (each doubles the patterns)
_ARTICLE_WORDS = 2


def _tails(words: list[str]) -> list[str]:
    """The text after a phrase's first word, as written and, for its next Arabic words, with the
    article added or taken off: Arabic puts the article on the second word of an adjective phrase
    or a construct as the sentence needs (هدنة شاملة, الهدنة الشاملة; إعادة الإعمار, إعادة إعمار;
    وزير الخارجية, وزير خارجية), where English says the same words either way."""
    tails = [""]
    for number, word in enumerate(words):
        forms = [word]
        if number < _ARTICLE_WORDS and _arabic(word):
            if not word.startswith(_ARTICLE):
                forms.append(_ARTICLE + word)
            elif len(word) - len(_ARTICLE) >= _AFTER_THE_ARTICLE:
                forms.append(word[len(_ARTICLE):])
        tails = [tail + " " + form for tail in tails for form in forms]
    return [tail + " " for tail in tails]


def with_phrases(select, query):
    """``select`` (over SearchDoc) narrowed to the rows holding each of the query's phrases."""
    for phrase in query.phrases:
        select = select.where(phrase_condition(phrase))
    return select

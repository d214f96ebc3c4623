"""The stem terms of models/stemming.py: what conflates and what must not (issue 18).

Arabic examples from the article (seeds/000_59c438f4edc17540.txt) and general ones. Tokens
are normalised first, as the index and the query do.
"""
from __future__ import annotations

import pytest

from models import text as textnorm
from models.stemming import MARK, MIN_ARABIC_STEM, stems


def stem_set(word: str) -> set[str]:
    (token,) = textnorm.tokens(word)
    return {term.removeprefix(MARK) for term in stems(token)}


def share_a_stem(first: str, second: str) -> bool:
    return bool(stem_set(first) & stem_set(second))


@pytest.mark.parametrize("forms", [
    ["مفاوضات", "المفاوضات", "مفاوضاتها", "لمفاوضات"],  # article, pronoun, preposition (the article)
    ["السلام", "والسلام", "للسلام", "سلام"],  # conjunction + article, ل + article
    ["طهران", "بطهران"],  # preposition before a name
    ["الاقتصادي", "اقتصاديا", "الاقتصادية"],  # the nisba adjective with the article, as an adverb (tanween alef), feminine
    ["الاتفاقيات", "اتفاقية", "اتفاقيات"],  # a nisba noun: singular and plural
    ["سوريا", "سورية", "السوري", "السوريين"],
    ["الكتاب", "كتاب", "بالكتاب", "والكتاب"],  # general: "the book", "with the book", "and the book"
    # a nisba word whose س Snowball took for the future prefix (سياسيا once went to ياسي)
    ["السياسي", "سياسيا", "وسياسيا", "السياسية", "سياسيين"],
])
def test_inflected_and_prefixed_forms_share_a_stem(forms):
    first = forms[0]
    for other in forms[1:]:
        assert share_a_stem(first, other), (first, other, stem_set(first), stem_set(other))


@pytest.mark.parametrize("word", ["ولايتي", "علي", "وليد", "وزير", "والاستقرار", "ولايات", "الولد", "وعد"])
def test_no_arabic_stem_is_shorter_than_three_letters_unless_the_word_is(word):
    # two letters left of a longer word means a root letter was taken for an affix: ولايتي (Velayati)
    # went to لا, the negation, and so found every record that says لا; وليد (Walid) went to يد, "hand"
    assert all(len(stem) >= MIN_ARABIC_STEM for stem in stem_set(word)), stem_set(word)


@pytest.mark.parametrize("word", ["يد", "لا", "من", "دم"])
def test_a_short_word_is_its_own_stem(word):
    assert stem_set(word) == {word}


@pytest.mark.parametrize("name, other", [
    ("ولايتي", "الولايات"),  # Velayati is not "the states" (the United States): ولايات after ال keeps its و
    ("ولايتي", "لا"),
    ("وليد", "يد"),  # Walid is not "hand"
    ("الولد", "لد"),  # general: "the boy"
    ("الوعد", "عد"),  # general: "the promise" (و-ع-د) is not "count!"
])
def test_a_root_letter_after_the_article_is_not_taken_for_a_conjunction(name, other):
    assert not share_a_stem(name, other), (stem_set(name), stem_set(other))


def test_english_is_stemmed_by_snowball():
    assert share_a_stem("negotiations", "negotiation")
    assert share_a_stem("rebuilding", "rebuild")
    assert not share_a_stem("Iran", "Iraq")


@pytest.mark.parametrize("derived, base", [
    ("الاتفاقيات", "الاتفاق"),  # "the agreements" (treaties) are not "the agreeing" (تم الاتفاق على هدنة)
    ("الاقتصادية", "الاقتصاد"),  # "economic" is not "the economy"
])
def test_a_nisba_form_keeps_its_ya_and_is_not_its_base(derived, base):
    # Snowball strips the nisba ي; kept, "agreements" no longer finds "agreed" (as in English),
    # while a query for the base still finds the nisba forms: words match as prefixes
    assert not share_a_stem(derived, base), (stem_set(derived), stem_set(base))
    assert all(any(stem.startswith(b) for b in stem_set(base)) for stem in stem_set(derived))


def test_the_future_prefix_is_still_taken_off_a_verb():
    assert share_a_stem("سيلتقي", "يلتقي") and share_a_stem("ستعقد", "تعقد")

"""How a query's words are read: function words left out, Arabic month names, English possessives
and dotted acronyms (models/search.py parse_query, models/months.py), on both backends."""
from __future__ import annotations

import pytest

from models import search
from models import text as textnorm

from .test_search import ids, q, search_hits


@pytest.mark.parametrize("sentence, keywords", [
    ("خميس مع روحاني", "خميس روحاني"),
    ("Khamis with Rouhani", "Khamis Rouhani"),
    ("لقاء خميس مع روحاني في طهران", "لقاء خميس روحاني طهران"),
    ("the truce in Aleppo", "truce Aleppo"),
])
def test_function_words_between_the_words_are_left_out_and_said(client, sentence, keywords):
    # every word must match: مع, which no record holds, made "Khamis with Rouhani" in Arabic find nothing
    response = client.get(f"/v1/search?q={q(sentence)}&limit=100")
    assert response.status_code == 200
    body = response.get_json()
    assert body["data"]
    assert [(h["kind"], h["id"]) for h in body["data"]] == [
        (h["kind"], h["id"]) for h in client.get(f"/v1/search?q={q(keywords)}&limit=100").get_json()["data"]]
    assert body["meta"]["ignored_words"] == [textnorm.tokens(word)[0] for word in sentence.split()
                                             if word not in keywords.split()]
    assert ids(client, f"/v1/events?q={q(sentence)}&limit=500") == ids(client, f"/v1/events?q={q(keywords)}&limit=500")


def test_function_words_stay_in_a_phrase_and_alone():
    assert search.parse_query('"with Rouhani" the').phrases == [["with", "rouhani"]]
    assert search.parse_query("في").words == ["في"]  # alone: looked for, not an empty query
    assert search.parse_query("Rouhani -the").excluded == ["the"]
    # words a name or an acronym can be are not function words
    assert search.parse_query("US Syria").words == ["us", "syria"]
    assert search.parse_query("علي سوريا").words == ["علي", "سوريا"]  # Ali, not the preposition على
    assert search.parse_query("على سوريا").words == ["سوريا"]


@pytest.mark.parametrize("path", ["/v1/events", "/v1/statements", "/v1/participants", "/v1/places",
                                  "/v1/stats/facets?facet=cameo_root", "/v1/stats/timeline?interval=year",
                                  "/v1/stats/dyads", "/v1/network"])
def test_every_answer_to_q_says_which_words_it_left_out(client, path):
    # a collection or a chart of "خميس مع روحاني" searched without مع and did not say so (only /v1/search did)
    joiner = "&" if "?" in path else "?"
    said = client.get(f"{path}{joiner}q={q('خميس مع روحاني')}").get_json()["meta"]
    assert said["ignored_words"] == ["مع"]
    assert client.get(f"{path}{joiner}q={q('روحاني')}").get_json()["meta"]["ignored_words"] == []
    assert "ignored_words" not in client.get(path).get_json()["meta"]  # (no q: nothing to say)


def test_a_search_without_function_words_says_none_were_left_out(client):
    assert client.get(f"/v1/search?q={q('روحاني')}").get_json()["meta"]["ignored_words"] == []


@pytest.mark.parametrize("month", ["يناير", "جانفي", "كانون الثاني"])
def test_an_arabic_month_name_finds_what_the_english_month_finds(client, month):
    # the article writes كانون الثاني (Levantine); يناير (Egyptian, Gulf) and جانفي (Maghreb) found nothing
    january = ids(client, "/v1/events?q=January&limit=500&include_undated=true")
    assert january
    assert ids(client, f"/v1/events?q={q(month)}&limit=500&include_undated=true") == january
    hits = client.get(f"/v1/search?q={q(month)}&kind=event").get_json()["data"]
    assert {hit["id"] for hit in hits} == january and all(hit["snippet"]["matches"] for hit in hits)


def test_month_names_cover_the_year_and_leave_out_common_words():
    from models.months import MONTH_TERMS

    assert len(set(MONTH_TERMS.values())) == 11  # (not May: the English is also the verb "may")
    assert "مايو" not in MONTH_TERMS
    assert "اب" not in MONTH_TERMS  # آب (August) normalised is اب, "father"
    assert search.parse_query('"يناير"').phrases == [["يناير"]]  # quoted: the word as written


@pytest.mark.parametrize("typed, meant", [("Rouhani's", "Rouhani"), ("Rouhani’s", "Rouhani"),
                                          ("Rouhani's,", "Rouhani"), ("Velayati's hope", "Velayati hope")])
def test_a_possessive_is_the_word_meant(client, typed, meant):
    # cut into tokens it was rouhani + s: "s" as a prefix matches nearly every record
    found = search_hits(client, typed, kinds=("event", "statement", "participant"))
    assert found and found == search_hits(client, meant, kinds=("event", "statement", "participant"))
    assert search.parse_query("-Rouhani's Iran").excluded == ["rouhani"]


def test_an_acronym_with_points_stays_its_letters():
    # the index holds the text's "U.S." as u and s: read as "us", the query lost the records that write it so
    assert search.parse_query("U.S.").words == ["u", "s"]


def test_a_function_word_typed_in_capitals_is_an_acronym():
    assert search.parse_query("IS Syria").words == ["is", "syria"]  # the Islamic State
    assert search.parse_query("is Syria").words == ["syria"]


def test_a_left_out_word_names_no_entity_and_marks_nothing(client):
    # "a" is a prefix of Aleppo and Astana: counted for names, it marked them in the snippets of "a Rouhani"
    alone = client.get(f"/v1/search?q={q('Rouhani')}&limit=100").get_json()["data"]
    with_article = client.get(f"/v1/search?q={q('a Rouhani')}&limit=100").get_json()["data"]
    assert with_article == alone

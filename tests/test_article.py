"""The key facts of the SyriaNews article (18 January 2017), as the loaded records state them."""
from __future__ import annotations

import re

import pytest
from .conftest import SOURCE



def record(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["data"]


def event(client, event_id):
    return record(client, f"/v1/events/{event_id}")


def roles(evt) -> dict[str, str]:
    return {link["participant"]["id"]: link["role"] for link in evt["participants"]}


@pytest.fixture()
def text(client):
    return record(client, f"/v1/sources/{SOURCE}")["text"]


def test_khamis_met_rouhani_in_tehran_on_wednesday_18_january(client):
    evt = event(client, "khamis-meets-rouhani")
    assert {"imad-khamis", "hassan-rouhani"} <= set(roles(evt))
    assert evt["place"]["id"] == "tehran"
    assert evt["status"] == "occurred"
    assert (evt["date"]["start"], evt["date"]["end"], evt["date"]["precision"]) == ("2017-01-18", "2017-01-18", "day")
    assert evt["date"]["expression"]["text"] == "يوم الأربعاء"


@pytest.mark.parametrize("event_id,other", [("khamis-meets-velayati", "ali-akbar-velayati"),
                                            ("khamis-meets-chitchian", "hamid-chitchian")])
def test_undated_meetings_are_not_given_a_day(client, event_id, other):
    evt = event(client, event_id)
    assert {"imad-khamis", other} <= set(roles(evt))
    assert evt["place"]["id"] == "tehran"
    assert evt["date"]["precision"] != "day"
    assert evt["date"]["start"] <= "2017-01-18" and (evt["date"]["end"] or "9999") <= "2017-01-18"


def test_talks_with_officials_yesterday_including_vice_president_jahangiri(client):
    evt = event(client, "khamis-talks-iranian-officials")
    assert {"imad-khamis", "eshaq-jahangiri"} <= set(roles(evt))
    assert evt["date"]["start"] == "2017-01-17" and evt["date"]["precision"] == "day"
    assert evt["date"]["expression"]["text"] == "امس"
    # the reading of "yesterday" is a choice, and the record says so
    assert "امس" in evt["date"]["resolution"] or "yesterday" in evt["date"]["resolution"].lower()
    assert evt["notes"]


def test_arrival_on_monday_evening(client):
    evt = event(client, "khamis-arrives-tehran")
    assert evt["date"]["start"] == "2017-01-16" and evt["date"]["precision"] == "day"
    assert evt["date"]["expression"]["text"] == "مساء الاثنين"
    assert roles(evt)["imad-khamis"] == "visitor"


def test_astana_talks_are_planned_for_23_january_under_three_sponsors(client):
    planned = record(client, "/v1/events?status=planned")
    assert [e["id"] for e in planned] == ["astana-talks-planned"]
    evt = planned[0]
    assert evt["date"]["start"] == "2017-01-23" and evt["date"]["precision"] == "day"
    assert "23" in evt["date"]["expression"]["text"]
    assert evt["place"]["id"] == "astana" and evt["place"]["country"] == "KAZ"
    sponsors = {pid for pid, role in roles(evt).items() if role == "sponsor"}
    assert sponsors == {"russia", "turkey", "iran"}


def test_five_agreements_were_signed(client, text):
    evt = event(client, "syria-iran-sign-cooperation-agreements")
    assert evt["cameo"]["code"].startswith("05")
    assert [(q["value"], q["unit"]) for q in evt["quantities"]] == [(5, "bilateral cooperation agreements")]
    span = evt["quantities"][0]["span"]
    assert text[span["start"]:span["end"]] == "5 اتفاقيات"


def test_background_events_are_background(client):
    muallem = event(client, "muallem-visits-tehran")
    assert muallem["status"] == "background"
    assert "walid-al-muallem" in roles(muallem)
    assert muallem["date"]["precision"] != "day"
    assert event(client, "syrian-army-recaptures-aleppo")["status"] == "background"
    assert event(client, "syria-comprehensive-truce")["status"] == "background"


def test_no_event_has_a_day_the_text_does_not_give(client):
    for evt in record(client, "/v1/events?limit=500&include_undated=true"):
        if evt["date"]["precision"] == "day":
            assert evt["date"]["expression"] is not None, evt["id"]
            assert evt["date"]["resolution"], evt["id"]


@pytest.mark.parametrize("speaker,words", [
    ("ali-akbar-velayati", "ايران تعارض بشدة مشاركة امريكا"),
    ("hassan-rouhani", "خطوتين مهمتين"),
    ("imad-khamis", "ترحب بجميع المبادرات"),
    ("imad-khamis", "كثمرة لجهود إيران وروسيا المشتركة"),
])
def test_who_said_what(client, speaker, words):
    statements = record(client, f"/v1/participants/{speaker}/statements?limit=500")
    assert any(words in s["text_ar"] for s in statements), [s["text_ar"] for s in statements]
    said = next(s for s in statements if words in s["text_ar"])
    assert said["text_en"] and said["translation"] == "human"


def test_khamis_words_were_reported_through_news_agencies(client):
    statement = record(client, "/v1/statements/khamis-syria-welcomes-initiatives")
    assert [p["id"] for p in statement["attributed_via"]] == ["news-agencies"]
    assert statement["mode"] == "direct"


def test_the_ambiguous_speaker_is_recorded_as_a_choice(client):
    statement = record(client, "/v1/statements/khamis-leadership-determined")
    assert statement["confidence"] != "high"
    assert statement["notes"] and "حيث" in statement["notes"]


@pytest.mark.parametrize("participant,forms", [
    ("imad-khamis", ["عماد خميس", "خميس"]),
    ("hassan-rouhani", ["حسن روحاني", "روحاني"]),
    ("ali-akbar-velayati", ["علي اكبر ولايتي", "ولايتي"]),
])
def test_every_name_variant_in_the_text_is_a_mention_of_one_participant(client, text, participant, forms):
    person = record(client, f"/v1/participants/{participant}")
    covered = [(m["start"], m["end"]) for m in person["mentions"]]
    short = forms[-1]
    occurrences = [m.start() for m in re.finditer(short, text)]
    assert occurrences
    for position in occurrences:
        assert any(start <= position and position + len(short) <= end for start, end in covered), position
    assert set(forms) <= {person["name_ar"], *person["aliases"]}
    others = [p for p in record(client, "/v1/participants?limit=500") if p["id"] != participant]
    for other in others:
        for mention in other["mentions"]:
            assert not any(start < mention["end"] and mention["start"] < end for start, end in covered), (other["id"], mention)

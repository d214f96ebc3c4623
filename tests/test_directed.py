"""Who did what to whom in the SyriaNews article, and the dyad API on both backends.

Each directed fact of the article is one assertion on the loaded records; the dyad
counts are checked against the filtered event list they claim to equal.
"""
from __future__ import annotations

import csv
import io

import pytest


def data(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def ids(people) -> list[str]:
    return [p["id"] for p in people]


def test_khamis_is_the_source_and_rouhani_the_target_of_their_meeting(client):
    evt = data(client, "/v1/events/khamis-meets-rouhani")["data"]
    assert ids(evt["source_actors"]) == ["imad-khamis"] and ids(evt["target_actors"]) == ["hassan-rouhani"]
    assert evt["source_actors"][0]["actor_code"] == "SYRGOV" and evt["target_actors"][0]["actor_code"] == "IRNGOV"
    assert evt["cameo"]["quad_class"] == 1


def test_khamis_appeals_to_iranian_companies(client):
    statement = data(client, "/v1/statements/khamis-calls-iranian-companies-reconstruction")["data"]
    assert statement["speaker"]["id"] == "imad-khamis"
    assert ids(statement["addressees"]) == ["iranian-companies"]
    assert statement["addressees"][0]["actor_code"] == "IRNBUS"
    assert statement["cameo"]["code"] == "0211" and statement["cameo"]["quad_class"] == 1


def test_velayati_opposition_to_us_participation_is_a_disapproval_aimed_at_the_us(client):
    statement = data(client, "/v1/statements/velayati-iran-opposes-us-participation")["data"]
    assert statement["speaker"]["id"] == "ali-akbar-velayati" and ids(statement["addressees"]) == ["usa"]
    assert statement["cameo"]["code"] == "110" and statement["cameo"]["quad_class"] == 3
    assert statement["plover"] == {"type": "ACCUSE", "mode": "disapprove", "context": []}
    # Velayati's turn ('من جهته, أعرب ولايتي … واكد ولايتي') after the meeting sentence, read as at the
    # meeting as Khamis's ('وأكد خميس') is: linked, and flagged as the reading it is
    assert statement["event"] == "khamis-meets-velayati" and statement["event_link"] == "inferred"


def test_khamis_praise_names_iran_among_those_praised(client):
    statement = data(client, "/v1/statements/khamis-aleppo-victory-credit")["data"]
    assert "iran" in ids(statement["addressees"])
    assert [flag["field"] for flag in statement["inferred"]] == ["addressees"]


def test_every_participant_the_issue_found_unused_is_now_a_target(client):
    for pid in ("usa", "iranian-companies", "syrian-people"):
        found = data(client, f"/v1/statements?target_actor={pid}")["meta"]["total"]
        assert found >= 1, pid


@pytest.mark.parametrize("event_id", ["syria-comprehensive-truce", "astana-talks-preparations"])
def test_no_party_is_asserted_where_the_text_names_none(client, event_id):
    evt = data(client, f"/v1/events/{event_id}")["data"]
    assert evt["participants"] == [] and evt["source_actors"] == [] and evt["target_actors"] == []


def test_the_astana_talks_have_no_invented_sides_and_are_not_coded_as_held(client):
    evt = data(client, "/v1/events/astana-talks-planned")["data"]
    assert evt["status"] == "planned"
    assert not evt["cameo"]["code"].startswith("04")  # CONSULT codes a meeting held
    assert evt["cameo"]["code"] == "036" and evt["plover"]["type"] == "AGREE"
    assert "syrian-government" not in {link["participant"]["id"] for link in evt["participants"]}
    assert evt["source_actors"] == [] and evt["target_actors"] == []
    planned = data(client, "/v1/events?status=planned&type=04")["meta"]["total"]
    assert planned == 0


def test_the_headline_is_not_a_separate_utterance(client):
    statements = data(client, "/v1/statements?limit=500")["data"]
    headline = [s for s in statements if s["span"]["start"] < 67]
    assert headline == []
    hope = data(client, "/v1/statements/khamis-hopes-astana-solution")["data"]
    assert any(span["start"] == 0 for span in hope["evidence"])  # the headline is its evidence
    assert hope["date"]["start"] == "2017-01-18" and hope["date"]["expression"]["text"] == "يوم الأربعاء"


def test_zarif_is_not_linked_to_an_event_of_his_own_words(client):
    statement = data(client, "/v1/statements/zarif-expects-astana-reconciliation")["data"]
    assert statement["event"] is None
    assert client.get("/v1/events/zarif-expects-astana-reconciliation").status_code == 404


def test_third_person_quotations_are_reported(client):
    for sid in ("khamis-hopes-astana-solution", "khamis-hopes-astana-results-serve-syrians", "velayati-hopes-astana-security",
                "rouhani-hopes-astana-syrian-talks"):
        assert data(client, f"/v1/statements/{sid}")["data"]["mode"] == "reported", sid


def test_signatories_on_an_equal_footing_give_one_dyad_each_way(client):
    rows = data(client, "/v1/stats/dyads?type=057")["data"]
    assert {(r["source"], r["target"]) for r in rows} == {("syria", "iran"), ("iran", "syria")}


def test_codebook_overrides_the_draft_plover_mapping(client):
    aleppo = data(client, "/v1/events/syrian-army-recaptures-aleppo")["data"]
    assert aleppo["plover"]["type"] == "ASSAULT" and aleppo["cameo"]["quad_class"] == 4
    truce = data(client, "/v1/events/syria-comprehensive-truce")["data"]
    assert truce["plover"]["type"] == "CONCEDE"


def test_inference_is_flagged(client):
    evt = data(client, "/v1/events/iran-military-support-syria")["data"]
    assert "place" in [flag["field"] for flag in evt["inferred"]]
    muallem = data(client, "/v1/events/muallem-visits-tehran")["data"]
    assert "date" in [flag["field"] for flag in muallem["inferred"]]


def test_participants_carry_their_role_at_the_source(client):
    khamis = data(client, "/v1/participants/imad-khamis")["data"]
    assert khamis["actor_code"] == "SYRGOV"
    assert khamis["roles_at_sources"][0]["as_of"] == "2017-01-18"
    assert khamis["roles_at_sources"][0]["title_ar"] == "رئيس الوزراء"


def test_each_dyad_count_equals_the_filtered_event_list(client):
    body = data(client, "/v1/stats/dyads?limit=1000")
    assert body["data"] and body["meta"]["dyads"] == len(body["data"])
    for row in body["data"]:
        listed = data(client, f"/v1/events?source_actor={row['source']}&target_actor={row['target']}&limit=500")
        assert listed["meta"]["total"] == row["count"], row
        goldstein = sum(e["cameo"]["goldstein"] for e in listed["data"])
        assert goldstein == pytest.approx(row["goldstein_sum"])
        for side in ("source", "target"):  # both names of each side
            named = data(client, f"/v1/participants/{row[side]}")["data"]
            assert (row[f"{side}_label"], row[f"{side}_label_ar"]) == (named["name_en"], named["name_ar"])


def test_dyads_take_the_event_filters(client):
    rows = data(client, "/v1/stats/dyads?quad_class=2")["data"]
    assert {(r["source"], r["target"]) for r in rows} == {
        ("iran", "syrian-government"), ("iran", "syrian-army")}
    listed = data(client, "/v1/events?quad_class=2&source_actor=iran&target_actor=syrian-government")["meta"]["total"]
    assert listed == next(r["count"] for r in rows if r["target"] == "syrian-government") == 2


def test_a_dyad_is_one_pair_not_two_sides(client):
    # Iran is a source (support) and a target (visits), Syria's government a target: no event has iran -> iran
    assert data(client, "/v1/events?source_actor=iran&target_actor=iran")["meta"]["total"] == 0
    assert data(client, "/v1/events?target_actor=iran")["meta"]["total"] >= 2


def test_dyad_series_is_zero_filled(client):
    rows = data(client, "/v1/stats/dyads?interval=day&from=2017-01-16&to=2017-01-18")["data"]
    visit = next(r for r in rows if (r["source"], r["target"]) == ("imad-khamis", "iran"))
    assert [b["start"] for b in visit["series"]] == ["2017-01-16", "2017-01-17", "2017-01-18"]
    assert [b["count"] for b in visit["series"]] == [1, 0, 0]


def test_directed_network_counts_events_and_statements_apart(client):
    body = data(client, "/v1/network?directed=true")
    edges = {(e["source"], e["target"]): e for e in body["data"]["edges"]}
    assert edges["imad-khamis", "hassan-rouhani"]["event_count"] == 1
    assert edges["ali-akbar-velayati", "usa"] == {**edges["ali-akbar-velayati", "usa"], "event_count": 0,
                                                  "statement_count": 1, "weight": 1}
    assert ("hassan-rouhani", "imad-khamis") not in edges


def test_csv_exports_carry_actor_codes_goldstein_and_quad_class(client):
    text = client.get("/v1/events?format=csv&source_actor=imad-khamis&target_actor=hassan-rouhani").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [(r["source_actor_codes"], r["target_actor_codes"], r["goldstein"], r["quad_class"]) for r in rows] == [
        ("SYRGOV", "IRNGOV", "1.0", "1")]
    text = client.get("/v1/statements?format=csv&target_actor=usa").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [(r["source_actor_codes"], r["target_actor_codes"], r["quad_class"]) for r in rows] == [("IRNGOV", "USA", "3")]


@pytest.fixture(scope="session")
def generated_client_factory(synthetic_root, tmp_path_factory, request):
    """The generated corpus (benchmarks/generate.py) loaded per backend, as a test client."""
    from api import create_app

    from .conftest import loaded_url

    apps = {}

    def make(backend):
        if backend not in apps:
            url = loaded_url(backend, tmp_path_factory, request, root=synthetic_root)
            apps[backend] = create_app({"DATABASE_URL": url, "TESTING": True})
        return apps[backend].test_client()
    return make


def test_generated_corpus_dyads_equal_the_filtered_event_lists(generated_client_factory, backend):
    client = generated_client_factory(backend)
    body = data(client, "/v1/stats/dyads?limit=25&type=05")
    assert body["meta"]["dyads"] > 25 and len(body["data"]) == 25
    for row in body["data"][:10]:
        total = data(client, f"/v1/events?type=05&source_actor={row['source']}&target_actor={row['target']}")["meta"]["total"]
        assert total == row["count"], row
    # signatories (root 05) are on an equal footing: the heaviest dyad has its reverse too
    top = body["data"][0]
    reverse = data(client, f"/v1/stats/dyads?type=05&source_actor={top['target']}&target_actor={top['source']}")["data"]
    assert [(r["source"], r["target"], r["count"]) for r in reverse] == [(top["target"], top["source"], top["count"])]


def test_plover_context_comes_from_the_code(client):
    aid = data(client, "/v1/events/iran-military-support-syria")["data"]
    assert aid["plover"]["context"] == ["military"]
    visit = data(client, "/v1/events/khamis-meets-rouhani")["data"]  # its own mode, the code's (empty) context
    assert visit["plover"] == {"type": "CONSULT", "mode": "visit", "context": []}


def test_generated_corpus_dyads_under_dates_and_quad_class(generated_client_factory, backend):
    # dates, sides and quad_class are answered from the dyad table alone: the same counts as the event list
    client = generated_client_factory(backend)
    params = "from=2014-01-01&to=2015-12-31&quad_class=1,3"
    rows = data(client, f"/v1/stats/dyads?{params}&limit=10&interval=year")["data"]
    assert len(rows) == 10
    for row in rows:
        listed = data(client, f"/v1/events?{params}&source_actor={row['source']}&target_actor={row['target']}")
        assert listed["meta"]["total"] == row["count"], row
        assert sum(b["count"] for b in row["series"]) <= row["count"]  # anchored in the range (ranges may start before)


def test_an_unstated_speaker_is_flagged_as_inferred(client):
    # 'حيث اكد' and 'حيث دعا' have no subject: the speaker is the curator's reading
    for statement in ("khamis-leadership-determined", "khamis-calls-iranian-companies-reconstruction"):
        flags = data(client, f"/v1/statements/{statement}")["data"]["inferred"]
        assert "speaker" in [flag["field"] for flag in flags], statement


def test_dyad_series_are_bounded_in_all_not_only_per_dyad(client, monkeypatch):
    from api.v1 import dyads

    shown = len(data(client, "/v1/stats/dyads?limit=1000")["data"])
    monkeypatch.setattr(dyads, "MAX_SERIES_VALUES", 2 * shown)
    assert client.get("/v1/stats/dyads?limit=1000&interval=day&from=2017-01-17&to=2017-01-18").status_code == 200
    response = client.get("/v1/stats/dyads?limit=1000&interval=day&from=2017-01-16&to=2017-01-18")
    problem = response.get_json()
    assert response.status_code == 400 and problem["type"].endswith("/too-expensive"), problem
    assert "interval" in problem["errors"] and "lower limit" in problem["detail"]
    # fewer dyads, the same days: within the bound
    assert client.get("/v1/stats/dyads?limit=2&interval=day&from=2017-01-16&to=2017-01-18").status_code == 200


def test_a_dyad_series_range_past_the_bucket_bound_is_refused_before_counting(client):
    """With from and to given, a range of more than MAX_BUCKETS buckets is known before any dyad is
    read: the 400 costs no dyad query (it came after summing every pair of the range before)."""
    from models.buckets import MAX_BUCKETS

    from .conftest import count_queries

    years = MAX_BUCKETS // 365 + 2
    with count_queries() as statements:
        response = client.get(f"/v1/stats/dyads?interval=day&from=2000-01-01&to={2000 + years}-01-01")
    problem = response.get_json()
    assert response.status_code == 400 and "interval" in problem["errors"], problem
    assert f"the most is {MAX_BUCKETS}" in problem["detail"]
    assert not [s for s in statements if "dyad" in s.lower()], statements
    assert client.get(f"/v1/stats/dyads?interval=month&from=2000-01-01&to={2000 + years}-01-01").status_code == 200

"""/dashboard used as a reader uses it, in a real headless Chromium driven over the DevTools
protocol (tests/browser.py) on a live gunicorn: paging through the list, answers that arrive out of
order, a panel whose request fails, filters a link carries that the form has no option for."""
from __future__ import annotations

import csv
import io
import json
from urllib.parse import urlencode

import pytest

from tests.conftest import fetch

from .test_dashboard import chromium


@pytest.fixture(scope="module")
def server(sqlite_url):
    from tests.conftest import Gunicorn

    gunicorn = Gunicorn(sqlite_url, workers=2).wait()
    yield gunicorn.base
    gunicorn.stop()


@pytest.fixture()
def browser():
    from tests.browser import Browser

    opened = Browser(chromium())  # (a missing Chromium is a skip, or under CI=true a failure)
    yield opened
    opened.close()


def api(server: str, path: str, **params) -> dict:
    status, _, body = fetch(f"{server}{path}?{urlencode(params, doseq=True)}")
    assert status == 200, body
    return json.loads(body)


ROW_IDS = "[...document.querySelectorAll('#events tbody tr')].map(r => r.dataset.id)"
STATUS = "document.getElementById('status').textContent"


def submit_search(browser, words: str) -> None:
    browser.evaluate(f"document.querySelector('[name=q]').value = {json.dumps(words)};"
                     "document.getElementById('filters').requestSubmit()")


def test_show_more_pages_through_every_event_in_the_apis_order(server, browser):
    expected = [e["id"] for e in api(server, "/v1/events", limit=500, sort="-date")["data"]]
    assert len(expected) > 10
    browser.open(f"{server}/dashboard?rows=5")
    assert browser.evaluate(ROW_IDS) == expected[:5]
    assert f"1–5 of {len(expected)}" in browser.evaluate("document.getElementById('listed').textContent")
    shown = 5
    while shown < len(expected):
        assert browser.evaluate("!document.getElementById('more').hidden")
        browser.evaluate("document.getElementById('more').click()")
        shown = min(shown + 5, len(expected))
        browser.wait_for(f"document.querySelectorAll('#events tbody tr').length === {shown}", f"{shown} rows")
    assert browser.evaluate(ROW_IDS) == expected
    assert browser.evaluate("document.getElementById('more').hidden")
    statements = sum(len(e.get("statements", [])) for e in api(
        server, "/v1/events", limit=500, include="statements")["data"])
    assert browser.evaluate("document.getElementById('statements-count').textContent") == str(statements)


def test_a_late_answer_to_an_earlier_search_does_not_replace_the_newer_one(server, browser):
    astana = [e["id"] for e in api(server, "/v1/events", q="Astana", limit=500, sort="-date")["data"]]
    rouhani = [e["id"] for e in api(server, "/v1/events", q="Rouhani", limit=500, sort="-date")["data"]]
    assert astana and rouhani and astana != rouhani
    browser.open(f"{server}/dashboard")
    browser.intercept("q=Rouhani", "hold")
    submit_search(browser, "Rouhani")
    browser.until(lambda: browser.held, "the Rouhani search sent (and held)")
    submit_search(browser, "Astana")
    browser.wait_for(f"{STATUS}.includes('q=Astana')", "the Astana answer")
    held = len(browser.held)
    browser.release()  # the Rouhani answers arrive now, after the newer search's
    browser.wait_for("performance.getEntriesByType('resource').filter(r => r.name.includes('q=Rouhani')"
                     f" && r.responseEnd > 0).length >= {held}", "the late answers received")
    browser.evaluate("new Promise(resolve => setTimeout(resolve, 100))")  # (their handlers run)
    assert "q=Astana" in browser.evaluate(STATUS)
    assert browser.evaluate(ROW_IDS) == astana


def test_a_failing_panel_leaves_the_others_drawn_and_says_so(server, browser):
    browser.intercept("/v1/network", (503, {"type": "about:blank", "title": "Service unavailable", "status": 503,
                                           "detail": "The database is not reachable right now; retry shortly."}))
    browser.open(f"{server}/dashboard")
    total = api(server, "/v1/events", limit=1)["meta"]["total"]
    assert browser.evaluate("document.getElementById('total').textContent") == str(total)
    assert browser.evaluate("document.querySelectorAll('#events tbody tr').length") == total
    assert browser.evaluate("document.querySelectorAll('#timeline rect.bar').length") > 0
    assert "not reachable" in browser.evaluate("document.getElementById('network').textContent")
    assert "1 panel(s) could not be loaded" in browser.evaluate(STATUS)


def test_a_range_too_long_for_months_is_drawn_by_year(server, browser):
    browser.open(f"{server}/dashboard?from=1800-01-01")
    assert "Error" not in browser.evaluate(STATUS)
    timeline = api(server, "/v1/stats/timeline", **{"from": "1800-01-01", "interval": "year"})
    assert browser.evaluate("document.querySelectorAll('#timeline rect.bar:not(.ranged)').length") == len(timeline["data"])
    assert browser.evaluate("document.getElementById('interval').textContent") == "year"


def test_filters_a_link_carries_are_kept_when_the_form_is_applied(server, browser):
    both = api(server, "/v1/events", status="occurred,planned", limit=500)["meta"]["total"]
    assert both > api(server, "/v1/events", status="occurred", limit=500)["meta"]["total"]
    # the API's repeated form of a list, and a full CAMEO code where the form offers roots
    browser.open(f"{server}/dashboard?status=occurred&status=planned&type=042")
    expected = api(server, "/v1/events", status="occurred,planned", type="042", limit=500)["meta"]["total"]
    assert browser.evaluate("document.getElementById('total').textContent") == str(expected)
    submit_search(browser, "")
    browser.wait_for("location.search.includes('type=042')", "the kept filter in the URL")
    browser.wait_for("document.body.dataset.ready === 'true'", "the page after Apply")
    assert browser.evaluate("document.getElementById('total').textContent") == str(expected)
    assert browser.evaluate("new URLSearchParams(location.search).get('status')") == "occurred,planned"


def test_the_export_links_carry_the_filters(server, browser):
    browser.open(f"{server}/dashboard?country=IRN")
    links = browser.evaluate("[...document.querySelectorAll('#exports a')].map(a => a.href)")
    assert len(links) == 3 and all("country=IRN" in link for link in links), links
    status, headers, body = fetch(links[0])
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) - 1 == api(server, "/v1/events", country="IRN", limit=500)["meta"]["total"]


def test_the_panels_say_when_they_draw_only_the_most_frequent(server, browser):
    browser.open(f"{server}/dashboard")
    counts = api(server, "/v1/stats/facets", facet="participant", limit=8)["meta"]["facets"]["participant"]
    assert counts["truncated"]
    heading = browser.evaluate("document.querySelector('[data-facet=participant] h3').textContent")
    assert heading == f"participant (the 8 most frequent of {counts['values']})"
    network = api(server, "/v1/network", limit=20)["meta"]
    note = browser.evaluate("document.getElementById('network-note').textContent")
    assert note == (f"(the {network['nodes']} most connected of {network['actors_total']} actors)"
                    if network["truncated"] else "")


def test_a_503_that_says_when_is_retried_once(server, browser):
    browser.intercept("/v1/network", ("once", 503, {"type": "about:blank", "title": "Service unavailable",
                                                    "status": 503, "detail": "retry shortly"}, {"Retry-After": "1"}))
    browser.open(f"{server}/dashboard")
    nodes = len(api(server, "/v1/network", limit=20)["data"]["nodes"])
    assert browser.evaluate("document.querySelectorAll('#network circle.node').length") == nodes > 0
    assert "could not be loaded" not in browser.evaluate(STATUS)
    assert browser.evaluate("performance.getEntriesByType('resource')"
                            ".filter(r => r.name.includes('/v1/network')).length") == 2


def test_show_more_while_a_new_choice_loads_does_nothing_wrong(server, browser):
    # the cursor of the list before, sent with the new filters, was a 400 that replaced the status
    # of the page the new choice had loaded meanwhile
    astana = [e["id"] for e in api(server, "/v1/events", q="Astana", limit=500, sort="-date")["data"]]
    browser.open(f"{server}/dashboard?rows=2")
    assert not browser.evaluate("document.getElementById('more').hidden")
    browser.intercept("cursor=", "hold")
    browser.intercept("q=Astana", "hold")
    submit_search(browser, "Astana")
    browser.until(lambda: browser.held, "the Astana search sent (and held)")
    browser.evaluate("document.getElementById('more').click()")
    browser.evaluate("new Promise(resolve => setTimeout(resolve, 200))")  # (a request it sends is held)
    sent_on = [p["request"]["url"] for p in browser.held if "cursor=" in p["request"]["url"]]
    browser.release("q=Astana", unless="cursor=")
    browser.wait_for(f"{STATUS}.includes('q=Astana')", "the Astana answer")
    browser.release()  # whatever Show more asked, answered after the new list
    browser.evaluate("new Promise(resolve => setTimeout(resolve, 300))")
    assert sent_on == [], sent_on
    assert browser.evaluate(ROW_IDS) == astana[:2]
    assert "Error" not in browser.evaluate(STATUS)


def test_a_request_over_its_time_budget_is_not_sent_again(server, browser):
    budget = {"type": "https://event-records.invalid/problems/time-budget", "title": "Time budget exceeded",
              "status": 503, "detail": "The request needed more than its time budget"}
    browser.intercept("/v1/network", ("once", 503, budget, {"Retry-After": "1"}))
    browser.open(f"{server}/dashboard")
    assert "time budget" in browser.evaluate("document.getElementById('network').textContent")
    assert browser.evaluate("performance.getEntriesByType('resource')"
                            ".filter(r => r.name.includes('/v1/network')).length") == 1


def test_each_chart_is_also_a_table_a_keyboard_and_a_screen_reader_reach(server, browser):
    browser.open(f"{server}/dashboard")
    timeline = api(server, "/v1/stats/timeline", interval="month")["data"]
    rows = browser.evaluate("[...document.querySelectorAll('#timeline details.as-table tbody tr')]"
                            ".map(r => [...r.cells].map(c => c.textContent))")
    assert rows == [[b["start"], b["end"], str(b["count"]), str(b["ranged"])] for b in timeline]
    graph = api(server, "/v1/network", limit=20)["data"]
    assert browser.evaluate("document.querySelectorAll('#network details.as-table tbody tr').length") == len(graph["edges"])
    places = {e["place"]["id"] for e in api(server, "/v1/events", limit=500, include="place")["data"] if e.get("place")}
    assert browser.evaluate("document.querySelectorAll('#map details.as-table tbody tr').length") == len(places)
    # reachable: the summary takes the keyboard focus and opens the table
    browser.evaluate("document.querySelector('#timeline summary').focus()")
    assert browser.evaluate("document.activeElement.tagName") == "SUMMARY"


def test_a_participant_facet_shows_both_names(server, browser):
    browser.open(f"{server}/dashboard")
    top = api(server, "/v1/stats/facets", facet="participant", limit=8)["data"]["participant"]
    shown = browser.evaluate("[...document.querySelectorAll('[data-facet=participant] .label')].map(l => l.textContent)")
    assert shown == [f"{v['label']} · \u2068{v['label_ar']}\u2069" for v in top]


def test_the_status_says_which_words_the_search_left_out(server, browser):
    # "Khamis with Rouhani" in Arabic finds what "Khamis Rouhani" finds: the status says why (مع is left out)
    expected = api(server, "/v1/events", q="خميس روحاني", limit=500)["meta"]["total"]
    browser.open(f"{server}/dashboard")
    submit_search(browser, "خميس مع روحاني")
    browser.wait_for(f"{STATUS}.includes('Left out of the search')", "the search's answer")
    said = browser.evaluate(STATUS)
    assert said.startswith(f"{expected} event") and "function words: مع " in said
    submit_search(browser, "روحاني")
    browser.wait_for(f"{STATUS}.includes('q=روحاني')", "the second search's answer")
    assert "Left out" not in browser.evaluate(STATUS)

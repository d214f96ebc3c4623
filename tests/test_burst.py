"""A freshly started server hit by a burst of parallel requests of every kind answers no 5xx.

The first requests of each gunicorn thread bind the models to the database at the
same time; anything bound process-wide instead of per request (a model outside the
thread-safe metadata, a query built once and shared) shows here as a 500. Each
round starts a new server, so the first requests of every thread race each other.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

from .conftest import SOURCE, fetch

#: one of every kind of request, the search ones with a different query each time
PATHS = [
    "/v1/events?limit=1&q=x{i}",
    "/v1/events?limit=2&q=خميس&sort=-date",
    "/v1/events?limit=3&from=2017-01-01&to=2017-01-31",
    "/v1/events?participant=imad-khamis&include=participants,statements,place",
    "/v1/events/khamis-meets-rouhani?include=participants",
    "/v1/statements?q=astana{i}",
    "/v1/statements/velayati-hopes-astana-security?include=speaker,event",
    "/v1/participants?q=ولايتي",
    "/v1/participants/imad-khamis",
    "/v1/places?limit=5",
    "/v1/places/tehran",
    f"/v1/sources/{SOURCE}?highlight=khamis-meets-rouhani",
    "/v1/sources",
    "/v1/event-types",
    "/v1/search?q=طهران{i}",
    "/v1/search?q=Astana",
    "/v1/stats/timeline?interval=week&group_by=status",
    "/v1/stats/facets?facet=participant&facet=cameo_root&q=x{i}",
    "/v1/network?participant=hassan-rouhani",
    "/v1/events?format=csv&limit=5",
    "/readyz",
]

ROUNDS = 3
REQUESTS_PER_ROUND = 160
PARALLEL = 16


def burst(base: str) -> list[tuple[int, str]]:
    urls = [base + quote(PATHS[i % len(PATHS)].format(i=i), safe="/?=&,-_.")
            for i in range(REQUESTS_PER_ROUND)]
    with ThreadPoolExecutor(PARALLEL) as pool:
        statuses = list(pool.map(lambda url: fetch(url, timeout=30)[0], urls))
    return [(status, url) for status, url in zip(statuses, urls)]


def test_a_burst_on_a_fresh_server_gives_no_5xx(database_url, gunicorn_factory):
    failures = []
    for _ in range(ROUNDS):
        server = gunicorn_factory(database_url, "--threads", "8").wait("/healthz")
        answers = burst(server.base)
        failed = [(status, url) for status, url in answers if status >= 500]
        if failed:
            failures.append((failed[:5], server.output()[-3000:]))
        server.stop()
    assert not failures, failures[0]

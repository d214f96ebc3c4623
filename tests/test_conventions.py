"""What HTTP clients and dashboards expect of the parameters and the caching: several values of one
filter, bounded repeats, strict numbers, weak validators, exact cache keys, Vary, real cache sizes."""
from __future__ import annotations

import re
import tracemalloc
from html import unescape
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import Headers

from api.response_cache import ResponseCache
from models.filters import MAX_VALUES


def ids(client, url: str) -> set[str]:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    return {record["id"] for record in response.get_json()["data"]}


# --------------------------------------------------------------------------- several values of one filter


@pytest.mark.parametrize("name,first,second", [
    ("status", "occurred", "planned"),
    ("type", "04", "19"),
    ("plover", "CONSULT", "AID"),
    ("country", "SYR", "KAZ"),
    ("topic", "aleppo", "truce"),
    ("place", "tehran", "astana"),
])
def test_repeated_or_comma_separated_values_are_an_or(client, name, first, second):
    base = "/v1/events?limit=500&include_undated=true&from=1900-01-01"
    one, other = ids(client, f"{base}&{name}={first}"), ids(client, f"{base}&{name}={second}")
    assert one and other and one != other
    assert ids(client, f"{base}&{name}={first}&{name}={second}") == one | other
    assert ids(client, f"{base}&{name}={first},{second}") == one | other
    assert ids(client, f"{base}&{name}={first}%2C%20{second}") == one | other
    total = client.get(f"/v1/events?{name}={first},{second}").get_json()["meta"]["total"]
    assert total == len(ids(client, f"/v1/events?limit=500&{name}={first},{second}"))


def test_an_or_within_a_filter_and_across_filters(client):
    both = ids(client, "/v1/events?limit=500&status=occurred,planned&participant=imad-khamis")
    assert both == ids(client, "/v1/events?limit=500&status=occurred,planned") & ids(
        client, "/v1/events?limit=500&participant=imad-khamis")


def test_participant_keeps_meaning_all_of_them(client):
    assert ids(client, "/v1/events?participant=imad-khamis,hassan-rouhani") == {"khamis-meets-rouhani"}
    three = ids(client, "/v1/events?limit=500&participant=imad-khamis&participant=iran&participant=hassan-rouhani")
    assert three == {"khamis-meets-rouhani"} or three < ids(client, "/v1/events?limit=500&participant=iran")


def test_facets_of_several_values_equal_the_list(client):
    facets = client.get("/v1/stats/facets?facet=status&status=occurred,planned").get_json()
    listed = client.get("/v1/events?status=occurred,planned").get_json()["meta"]["total"]
    assert facets["meta"]["total"] == listed == sum(v["count"] for v in facets["data"]["status"])


def test_too_many_values_are_refused_up_front_as_too_expensive(client):
    values = ",".join(f"p-{i:02d}" for i in range(MAX_VALUES + 1))
    for url in (f"/v1/events?participant={values}", f"/v1/stats/facets?participant={values}",
                f"/v1/network?participant={values}", "/v1/events?status=" + ",".join(["occurred"] * (MAX_VALUES + 1))):
        response = client.get(url)
        body = response.get_json()
        assert response.status_code == 400, url
        assert body["type"].endswith("/too-expensive") and list(body["errors"]) in (["participant"], ["status"])
    assert client.get("/v1/events?participant=" + ",".join(["imad-khamis"] * MAX_VALUES)).status_code == 200


def test_repeatable_parameters_declare_their_bound(client):
    document = client.get("/v1/openapi.json").get_json()
    parameters = document["paths"]["/v1/events"]["get"]["parameters"]
    arrays = {p["name"]: p["schema"] for p in parameters if p["schema"].get("type") == "array"}
    assert {"participant", "status", "type", "country", "topic", "place", "plover", "source"} <= set(arrays)
    assert all(schema["maxItems"] == MAX_VALUES for name, schema in arrays.items()
               if name not in ("fields", "include"))


@pytest.mark.parametrize("value", ["٥", "５", "1_0", "+5", " 5", "5.0", "1e1", "0x5"])
def test_numbers_are_ascii_digits_only(client, value):
    response = client.get(f"/v1/events?limit={quote(value)}")
    assert response.status_code == 400 and "limit" in response.get_json()["errors"]
    assert client.get("/v1/events?limit=5").status_code == 200


# --------------------------------------------------------------------------- negotiation and validators


def test_malformed_quality_values_are_not_acceptable(client):
    for accept in ("text/csv;q=nan", "text/csv;q=1e999", "text/csv;q=2", "text/csv;q=-1"):
        response = client.get("/v1/events", headers={"Accept": accept})
        assert response.status_code == 406, accept
    assert client.get("/v1/events", headers={"Accept": "text/csv;q=0.5"}).mimetype == "text/csv"


def test_text_star_is_csv(client):
    response = client.get("/v1/events", headers={"Accept": "text/*"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert client.get("/v1/sources", headers={"Accept": "text/*"}).status_code == 406


@pytest.mark.parametrize("path", ["/v1/events/khamis-meets-rouhani", "/v1/search?q=Aleppo", "/v1/changes?since=0",
                                  "/v1/releases", "/v1/releases/1", "/v1/sources/000_59c438f4edc17540",
                                  "/v1/event-types", "/v1/participants/imad-khamis"])
def test_an_endpoint_with_json_only_refuses_an_accept_without_it(client, path):
    """As the endpoints with exports do: one behaviour for every endpoint."""
    for accept in ("application/xml", "text/csv"):
        response = client.get(path, headers={"Accept": accept})
        assert response.status_code == 406 and response.mimetype == "application/problem+json", (path, accept)
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert client.get(path, headers={"Accept": browser}).mimetype == "application/json"


def test_weak_and_star_validators_give_304(client):
    first = client.get("/v1/events?limit=3")
    etag = first.headers["ETag"]
    assert client.get("/v1/events?limit=3", headers={"If-None-Match": "W/" + etag}).status_code == 304
    assert client.get("/v1/events?limit=3", headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert client.get("/v1/events/khamis-meets-rouhani", headers={"If-None-Match": "*"}).status_code == 304
    assert client.get("/v1/events/no-such-event", headers={"If-None-Match": "*"}).status_code == 404
    # W/* is no entity tag (* stands alone): it matches nothing
    assert client.get("/v1/events/khamis-meets-rouhani", headers={"If-None-Match": "W/*"}).status_code == 200
    assert client.get("/v1/events?limit=3", headers={"If-None-Match": '"other"'}).status_code == 200


def test_negotiated_answers_vary_on_accept(client):
    for url in ("/v1/events?limit=1", "/v1/stats/facets", "/v1/events/khamis-meets-rouhani"):
        vary = {v.strip() for v in client.get(url).headers.get("Vary", "").split(",")}
        assert "Accept" in vary, url


def test_the_cache_key_is_the_negotiated_representation_not_a_header_prefix(client):
    prefix = "application/x-unknown-" + "a" * 200
    csv = client.get("/v1/events?limit=2", headers={"Accept": prefix + ", text/csv"})
    json_answer = client.get("/v1/events?limit=2", headers={"Accept": prefix + ", application/json"})
    assert csv.mimetype == "text/csv" and json_answer.mimetype == "application/json"
    assert csv.headers["ETag"] != json_answer.headers["ETag"]
    refused = client.get("/v1/events?limit=2", headers={"Accept": prefix + ", image/png"})
    assert refused.status_code == 406


MEDIA = st.sampled_from(["application/json", "text/csv", "application/x-ndjson", "application/geo+json",
                         "text/*", "*/*", "application/*", "image/png", "text/html", "application/problem+json"])
QUALITY = st.sampled_from(["", ";q=1", ";q=0.5", ";q=0", ";q=0.001", ";q=nan", ";q=1.0", ";q=0.9"])
ACCEPT = st.lists(st.tuples(MEDIA, QUALITY).map("".join), min_size=0, max_size=5).map(", ".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(ACCEPT, min_size=2, max_size=2), st.sampled_from(["/v1/events?limit=2", "/v1/sources", "/v1/stats/facets"]))
def test_same_etag_means_same_bytes(client, accepts, path):
    answers = [client.get(path, headers={"Accept": accept}) for accept in accepts]
    first, second = answers
    if first.status_code == second.status_code == 200 and first.headers["ETag"] == second.headers["ETag"]:
        assert first.get_data() == second.get_data()
        assert first.headers["Content-Type"] == second.headers["Content-Type"]


# --------------------------------------------------------------------------- the response cache's size


def test_the_response_cache_counts_what_its_entries_really_hold():
    """The accounted size of many small answers is within a third of what they allocate."""
    headers = Headers([("Content-Type", "application/json"), ("ETag", '"' + "0" * 32 + '"'),
                       ("Cache-Control", "public, max-age=60"), ("Vary", "Accept"),
                       ("Access-Control-Allow-Origin", "*"), ("X-Content-Type-Options", "nosniff"),
                       ("Referrer-Policy", "no-referrer"), ("X-Frame-Options", "DENY"),
                       ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
                       ("Access-Control-Expose-Headers", "ETag, Link, Content-Disposition, Retry-After")])
    cache = ResponseCache(1 << 30)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for i in range(5_000):
        key = f'"{i:032d}"'
        fresh = Headers([("".join(name), "".join(value)) for name, value in headers.items()])  # unshared strings
        cache.put(key, 200, fresh, (b'{"data":[],"meta":{"n":%d}}' % i).ljust(84))
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    allocated = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert 0.75 * allocated <= cache.size <= 1.33 * allocated, (cache.size, allocated)
    assert cache.size / 5_000 > 84 * 5  # what the old accounting missed: far more than the body


# --------------------------------------------------------------------------- finding one's way


def test_the_root_and_v1_point_to_everything(client):
    body = client.get("/").get_json()
    assert body["links"]["openapi"] == "/v1/openapi.json" and body["links"]["docs"] == "/docs"
    for url in body["links"].values():
        if "{" not in url:  # a URI template (search{?q}) needs its parameter
            assert client.get(url).status_code in (200, 503), url
    html = client.get("/", headers={"Accept": "text/html,application/xhtml+xml"})
    assert html.mimetype == "text/html" and b'href="/docs"' in html.data
    assert "/v1/events" in client.get("/v1").get_json()["links"].values()


def test_every_link_of_the_html_pages_answers(client):
    # a templated link (/v1/search{?q}) led a browser to its bare path, a 400: it goes to an example
    for page in ("/", "/v1"):
        html = client.get(page, headers={"Accept": "text/html"}).get_data(as_text=True)
        hrefs = [unescape(href) for href in re.findall(r'href="([^"]+)"', html)]
        assert "/v1/search?q=Astana" in hrefs and not any("{" in href for href in hrefs)
        for href in hrefs:
            assert client.get(href).status_code == 200, (page, href)


def test_redirects_are_relative_and_never_echo_the_host(client):
    for path, target in (("/v1/", "/v1"), ("/docs/", "/docs"), ("/dashboard/", "/dashboard"), ("/v1//events?limit=1", "/v1/events?limit=1")):
        response = client.get(path, headers={"Host": "attacker.example"})
        assert response.status_code == 308 and response.headers["Location"] == target, path
        assert response.data == b"" and "attacker" not in str(response.headers)


def test_one_version_everywhere(client):
    import subprocess
    import sys

    from api.version import VERSION

    assert client.get("/v1/openapi.json").get_json()["info"]["version"] == VERSION == client.get("/").get_json()["version"]
    done = subprocess.run([sys.executable, "-m", "api.cli", "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and VERSION in done.stdout


def test_a_preflight_allows_the_headers_a_dashboard_sends(client, app):
    asked = {"Origin": "https://dashboard.example", "Access-Control-Request-Method": "GET",
             "Access-Control-Request-Headers": "Authorization, X-Requested-With"}
    allowed = client.options("/v1/events", headers=asked).headers["Access-Control-Allow-Headers"]
    assert {"Authorization", "X-Requested-With", "If-None-Match"} <= {h.strip() for h in allowed.split(",")}
    from api import create_app

    limited = create_app({**app.config, "CORS_ALLOW_HEADERS": "X-Requested-With"}).test_client()
    allowed = limited.options("/v1/events", headers=asked).headers["Access-Control-Allow-Headers"]
    assert "X-Requested-With" in allowed and "Authorization" not in allowed

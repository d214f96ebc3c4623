"""Parsed query strings are kept per schema (api/params.py ParsedQueries): the same arguments
as a fresh parse, handed out as copies, never for a query string that was refused, bounded."""
from __future__ import annotations

import pytest

from api import create_app
from api.params import MAX_PARAM_LENGTH, MEMO_QUERY_BYTES, ParsedQueries, StrictParser, without_cursor
from api.v1.blueprints import Blueprint


@pytest.fixture()
def app(sqlite_url):
    return create_app({"DATABASE_URL": sqlite_url, "RESPONSE_CACHE_BYTES": 0})


def memo() -> ParsedQueries:
    return Blueprint.ARGUMENTS_PARSER.memo


def test_a_query_string_parsed_again_gives_equal_arguments_not_the_same_ones(app):
    client = app.test_client()
    url = "/v1/events?country=syr,irn&type=04&limit=3&from=2017-01-01&include=participants"
    first = client.get(url)
    kept = [key for key in memo().parsed if key[2] == url.split("?", 1)[1].encode()]
    assert first.status_code == 200 and len(kept) == 1
    second = client.get(url)
    assert second.status_code == 200 and second.get_json()["data"] == first.get_json()["data"]
    one, other = memo().get(kept[0]), memo().get(kept[0])
    assert one == other and one is not other
    one["country"].append("USA")  # a view changing its arguments changes nobody else's
    assert memo().get(kept[0])["country"] == other["country"]


def test_a_refused_query_string_is_refused_every_time_and_not_kept(app):
    client = app.test_client()
    for _ in range(2):
        answer = client.get("/v1/events?limit=0")
        assert answer.status_code == 400 and "limit" in answer.get_json()["errors"]
    assert not [key for key in memo().parsed if key[2] == b"limit=0"]


def test_the_memo_is_bounded():
    from api.params import EventFilterArgs

    schema = EventFilterArgs()
    parsed = ParsedQueries(entries=3)
    assert parsed.key(schema, "query", b"x" * (MEMO_QUERY_BYTES + 1)) is None
    assert parsed.key({"not": "a schema"}, "query", b"a=1") is None
    assert parsed.key(schema, "query", b"limit=2&cursor=abc") == (schema, "query", b"limit=2&cursor=\0")
    for n in range(7):
        parsed.put(parsed.key(schema, "query", f"a={n}".encode()), {"a": [n]})
        assert len(parsed.parsed) <= 3
    assert parsed.get(parsed.key(schema, "query", b"a=6")) == {"a": [6]}


def test_the_parser_keeps_nothing_it_was_told_to_validate_further(app):
    parser = StrictParser()
    with app.test_request_context("/v1/events?limit=2"):
        from api.params import PageArgs

        schema = PageArgs()
        assert parser.parse(schema, location="query", validate=lambda args: True)["limit"] == 2
        assert not parser.memo.parsed
        assert parser.parse(schema, location="query")["limit"] == 2
        assert len(parser.memo.parsed) == 1


@pytest.mark.parametrize(("query", "expected"), [
    (b"limit=2&sort=-date", (b"limit=2&sort=-date", None)),
    (b"cursor=abc", (b"cursor=\0", "abc")),
    (b"limit=2&cursor=a-b_C9&sort=-date", (b"limit=2&cursor=\0&sort=-date", "a-b_C9")),
    (b"cursor=", (None, None)),  # empty: no cursor, parsed (and refused) every time
    (b"cursor=abc&cursor=abc", (None, None)),  # twice: parsed (and refused) every time
    (b"cursor=ab%2Fc", (None, None)),  # not a cursor's characters
    (b"%63ursor=abc", (b"%63ursor=abc", None)),  # a name spelled otherwise: kept as it is
    (b"q=cursor&cursor=abc", (None, None)),
    (b"xcursor=abc", (None, None)),
    (b"cursor=" + b"a" * (MAX_PARAM_LENGTH + 1), (None, None)),
    (b"cursor=abc\n", (None, None)),  # (a line feed is no cursor's: the pattern's end is the string's)
])
def test_a_cursor_is_taken_out_of_the_kept_query_string_only_when_plainly_given_once(query, expected):
    assert without_cursor(query) == expected


def test_the_pages_of_a_listing_share_one_parse_and_each_keeps_its_own_cursor(app):
    """Walking a listing page by page keeps one entry for all its cursor pages, and each page is
    the one its cursor names (the same as with nothing kept); a bad cursor is refused every time."""
    client = app.test_client()
    base = "/v1/events?sort=-date&limit=2&include=participants"
    walked, url = [], base
    while url:
        answer = client.get(url)
        assert answer.status_code == 200
        walked.append(answer.get_json())
        cursor = answer.get_json()["meta"]["next_cursor"]
        url = f"{base}&cursor={cursor}" if cursor else None
    assert len(walked) >= 3  # (the article's events, two a page)
    kept = [key for key in memo().parsed if key[2].startswith(b"sort=-date&limit=2&include=participants")]
    assert sorted(key[2] for key in kept) == [b"sort=-date&limit=2&include=participants",
                                              b"sort=-date&limit=2&include=participants&cursor=\0"]
    ids = [record["id"] for page in walked for record in page["data"]]
    assert len(ids) == len(set(ids)) == walked[0]["meta"]["total"]
    memo().parsed.clear()
    cursor = walked[0]["meta"]["next_cursor"]
    fresh = client.get(f"{base}&cursor={cursor}").get_json()
    assert fresh["data"] == walked[1]["data"]
    for _ in range(2):
        assert client.get(f"{base}&cursor={cursor[:-2]}").status_code == 400  # edited: not a signature of ours
        refused = client.get(f"{base}&cursor=ab.c")
        assert refused.status_code == 400 and "cursor" in refused.get_json()["errors"]


def test_a_cursor_named_otherwise_is_kept_with_its_query_string_and_refused_or_served_every_time(app):
    """``%63ursor`` is ``cursor`` to the parser, but not taken out of the kept string: each such
    query string keeps its own cursor (a bogus one refused every time, a good one its own page)."""
    client = app.test_client()
    base = "/v1/events?sort=-date&limit=2"
    cursor = client.get(base).get_json()["meta"]["next_cursor"]
    second = client.get(f"{base}&cursor={cursor}").get_json()["data"]
    for _ in range(2):
        assert client.get(f"{base}&%63ursor={cursor}").get_json()["data"] == second
        assert client.get(f"{base}&%63ursor=bogus").status_code == 400

"""Every CSV answer links its CSV on the Web metadata (rel="describedby"), which lists exactly the
CSV's columns and types the code columns as strings. Over a real gunicorn."""
from __future__ import annotations

import csv
import io
import json
import re

import pytest

from tests.conftest import fetch

CSVS = [
    "/v1/events?format=csv", "/v1/events?format=csv&fields=cameo,title_en", "/v1/statements?format=csv",
    "/v1/participants/imad-khamis/statements?format=csv",
    "/v1/participants?format=csv", "/v1/places?format=csv", "/v1/stats/timeline?format=csv&group_by=status",
    "/v1/stats/facets?format=csv", "/v1/network?format=csv&part=nodes", "/v1/network?format=csv",
]


@pytest.fixture(scope="module")
def server(sqlite_url):
    from tests.conftest import Gunicorn

    gunicorn = Gunicorn(sqlite_url, workers=1).wait()
    yield gunicorn.base
    gunicorn.stop()


def described_by(headers) -> str:
    match = re.search(r'<([^>]+)>; rel="describedby"; type="application/csvm\+json"', headers.get("Link", ""))
    assert match, headers.get("Link")
    return match.group(1)


@pytest.mark.parametrize("url", CSVS)
def test_csv_links_metadata_naming_its_columns(server, url):
    status, headers, body = fetch(server + url)
    assert status == 200
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    status, meta_headers, meta_body = fetch(server + described_by(headers))
    assert status == 200 and meta_headers["Content-Type"].startswith("application/csvm+json")
    document = json.loads(meta_body)
    assert document["@context"] == "http://www.w3.org/ns/csvw"
    columns = document["tableSchema"]["columns"]
    assert [column["name"] for column in columns] == rows[0]
    types = {column["name"]: column["datatype"] for column in columns}
    for name in ("cameo_code", "cameo_root", "id", "value"):
        assert types.get(name, "string") == "string", name
    for name in ("date_start", "date_end", "reported_on", "bucket_start", "bucket_end"):
        assert types.get(name, "date") == "date", name
    for index, column in enumerate(columns):  # the typed columns hold what their type says
        for row in rows[1:]:
            if row[index] and column["datatype"] == "integer":
                int(row[index])
            elif row[index] and column["datatype"] == "number":
                float(row[index])
            elif row[index] and column["datatype"] == "date":  # an xsd:date as CSVW reads it by default
                assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row[index]), (column["name"], row[index])
    if "goldstein" in types:  # a score such as 4.4: not an integer
        assert types["goldstein"] == "number"


def test_codes_with_leading_zeros_are_strings_in_the_metadata(server):
    _, headers, body = fetch(server + "/v1/events?format=csv&fields=cameo")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert any(row["cameo_root"].startswith("0") for row in rows)  # 04, 040: what pandas would make 4, 40
    columns = json.loads(fetch(server + described_by(headers))[2])["tableSchema"]["columns"]
    assert {c["name"]: c["datatype"] for c in columns}["cameo_root"] == "string"


def test_csv_chosen_by_accept_links_the_same_metadata(server):
    _, headers, _ = fetch(server + "/v1/stats/facets", {"Accept": "text/csv"})
    assert "format%3Dcsv" in described_by(headers)


def test_metadata_of_a_url_outside_the_api_is_a_400(server):
    for url in ("http://example.org/v1/events", "/healthz", "/csvw?url=x",
                "/v1/events", "/v1/stats/facets"):  # (JSON where a CSVW processor dereferences them)
        from urllib.parse import quote

        status, headers, _ = fetch(server + "/csvw?url=" + quote(url, safe=""))
        assert status == 400 and headers["Content-Type"] == "application/problem+json"

"""The OpenAPI document and the offline docs page."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile

import pytest
from openapi_spec_validator import validate

from .conftest import missing


def test_openapi_document_is_valid_3_1(sqlite_client):
    response = sqlite_client.get("/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"] == "3.1.0"
    validate(spec)


def test_every_route_is_documented_with_its_parameters_and_errors(sqlite_app, sqlite_client):
    spec = sqlite_client.get("/v1/openapi.json").get_json()
    routes = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule) for rule in sqlite_app.url_map.iter_rules()
              if rule.rule.startswith("/v1/") and rule.rule not in ("/v1/openapi.json", "/v1/")}
    assert routes == set(spec["paths"])
    for path, item in spec["paths"].items():
        operation = item["get"]
        assert operation.get("summary"), path
        responses = operation["responses"]
        assert {"200", "304", "500", "503"} <= set(responses), path
        for code in ("400", "404", "406", "500", "503"):
            if code in responses:
                ref = responses[code]["$ref"].rsplit("/", 1)[1]
                assert "application/problem+json" in spec["components"]["responses"][ref]["content"]
        names = {p["name"] for p in operation.get("parameters", [])}
        assert "If-None-Match" in names
    events = {p["name"] for p in spec["paths"]["/v1/events"]["get"]["parameters"]}
    assert {"participant", "country", "place", "type", "plover", "status", "from", "to", "include_undated", "topic",
            "source", "q", "sort", "limit", "cursor", "fields", "include", "format"} <= events


def test_docs_assets_are_served_locally(sqlite_client):
    page = sqlite_client.get("/docs").get_data(as_text=True)
    assert "http://" not in page and "https://" not in page
    for asset in ("/docs/assets/swagger-ui.css", "/docs/assets/swagger-ui-bundle.js", "/docs/init.js"):
        assert asset in page
        response = sqlite_client.get(asset)
        assert response.status_code == 200 and len(response.get_data()) > 100


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_docs_page_renders_every_operation_in_headless_chromium(database_url, backend, gunicorn_factory, tmp_path):
    """A real browser loads /docs from a real gunicorn and shows the operations (no network but loopback)."""
    if backend != "sqlite":
        pytest.skip("the page does not depend on the backend")
    browser = chromium()
    if browser is None:
        missing("Chromium is not installed (apt-get install chromium)")
    server = gunicorn_factory(database_url).wait()
    profile = tempfile.mkdtemp(dir=tmp_path)
    result = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--virtual-time-budget=15000", "--dump-dom", server.base + "/docs"],
        capture_output=True, text=True, timeout=90,
    )
    dom = result.stdout
    assert "swagger-ui" in dom, result.stderr[-2000:]
    for path in ("/v1/events", "/v1/participants/{participant_id}/events", "/v1/search", "/v1/sources/{source_id}"):
        assert path in dom, path
    assert dom.count('class="opblock opblock-get') >= 14
    screenshot = tmp_path / "docs.png"
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--virtual-time-budget=15000", "--window-size=1280,2000",
         f"--screenshot={screenshot}", server.base + "/docs"],
        capture_output=True, text=True, timeout=90,
    )
    assert screenshot.exists() and screenshot.stat().st_size > 20_000
    if os.environ.get("EVENT_RECORDS_KEEP_SCREENSHOT"):
        shutil.copy(screenshot, os.environ["EVENT_RECORDS_KEEP_SCREENSHOT"])


def _meta_properties(spec: dict, operation: dict) -> set:
    """The properties of the 200 answer's ``meta`` (references followed)."""
    def resolve(schema: dict) -> dict:
        while "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        return schema

    answer = resolve(operation["responses"]["200"]["content"]["application/json"]["schema"])
    return set(resolve(answer["properties"]["meta"]).get("properties", {}))


def test_meta_ignored_words_is_documented_exactly_where_q_is_taken(sqlite_client):
    # (it was on every answer's meta, single records and the release list included: a reviewer's finding)
    spec = sqlite_client.get("/v1/openapi.json").get_json()
    with_q = set()
    for path, item in spec["paths"].items():
        operation = item["get"]
        if "application/json" not in operation["responses"]["200"].get("content", {}):
            continue
        takes_q = "q" in {p["name"] for p in operation.get("parameters", [])}
        assert ("ignored_words" in _meta_properties(spec, operation)) == takes_q, path
        if takes_q:
            with_q.add(path)
    assert {"/v1/events", "/v1/search", "/v1/stats/facets", "/v1/network"} <= with_q

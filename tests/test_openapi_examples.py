"""Every operation of the OpenAPI document has an example from the article, and each example is
what a live gunicorn answers to its request (abbreviations aside)."""
from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import pytest

from tests.conftest import fetch


@pytest.fixture(scope="module")
def server(sqlite_url):
    from tests.conftest import Gunicorn

    gunicorn = Gunicorn(sqlite_url, workers=1).wait()
    yield gunicorn.base
    gunicorn.stop()


@pytest.fixture(scope="module")
def document(server):
    return json.loads(fetch(server + "/v1/openapi.json")[2])


def operations(document) -> list[tuple[str, dict]]:
    """(path, GET operation with the path's own parameters added)."""
    return [(path, {**methods["get"], "parameters": methods.get("parameters", []) + methods["get"].get("parameters", [])})
            for path, methods in document["paths"].items() if "get" in methods]


def abbreviates(example, real, where: str = "$") -> list[str]:
    """Where ``example`` is not ``real`` abbreviated: dicts a subset, lists a prefix, strings whole
    or cut with a final "…"."""
    if isinstance(example, dict):
        if not isinstance(real, dict):
            return [where]
        return [w for key, value in example.items()
                for w in ([f"{where}.{key} missing"] if key not in real else abbreviates(value, real[key], f"{where}.{key}"))]
    if isinstance(example, list):
        if not isinstance(real, list) or len(example) > len(real):
            return [where]
        return [w for i, value in enumerate(example) for w in abbreviates(value, real[i], f"{where}[{i}]")]
    if isinstance(example, str) and example.endswith("…"):
        return [] if isinstance(real, str) and real.startswith(example[:-1]) else [where]
    return [] if example == real else [f"{where}: {example!r} != {real!r}"]


def request_of(path: str, operation: dict) -> str:
    url, query = path, []
    for parameter in operation.get("parameters", []):
        if "example" not in parameter:
            continue
        value = parameter["example"]
        value = ",".join(value) if isinstance(value, list) else str(value)
        if parameter["in"] == "path":
            url = url.replace("{" + parameter["name"] + "}", quote(value))
        elif parameter["in"] == "query":
            query.append((parameter["name"], value))
    return url + ("?" + urlencode(query) if query else "")


def test_every_operation_has_an_example(document):
    for path, operation in operations(document):
        if not path.startswith("/v1/") or path == "/v1/openapi.json":
            continue
        if "application/json" not in operation["responses"]["200"]["content"]:  # /v1/dump: a zip
            assert path == "/v1/dump", path
            continue
        content = operation["responses"]["200"]["content"]["application/json"]
        assert "example" in content, path
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                assert "example" in parameter, (path, parameter["name"])


def test_each_example_is_the_live_answer(server, document):
    checked = 0
    for path, operation in operations(document):
        content = operation["responses"].get("200", {}).get("content", {}).get("application/json", {})
        if "example" not in content:
            continue
        url = request_of(path, operation)
        status, _, body = fetch(server + url)
        assert status == 200, (url, body[:300])
        differences = abbreviates(content["example"], json.loads(body))
        assert not differences, (url, differences)
        assert content["example"]["data"], url  # an example that shows something
        checked += 1
    assert checked >= 17

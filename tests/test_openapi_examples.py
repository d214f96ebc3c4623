"""Every operation of the OpenAPI document has an example from the article, and each example is
what a live gunicorn answers to its request (abbreviations aside)."""
from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

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


#: what changes with every load or server: the example shows an illustrative value of the same form
VOLATILE = {"dataset_version": re.compile(r"^[0-9a-f]{16}$"),
            "loaded_at": re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")}


def same_link(example, real) -> bool:
    """Links name the same request: path and parameters alike, in any order; a cursor's value is
    the signing server's (the example's is "…")."""
    if example is None or real is None:
        return example is real
    parts = [urlsplit(link) for link in (example, real)]
    pairs = [sorted((k, "" if k == "cursor" else v) for k, v in parse_qsl(part.query)) for part in parts]
    return parts[0].path == parts[1].path and pairs[0] == pairs[1]


def abbreviates(example, real, where: str = "$") -> list[str]:
    """Where ``example`` is not ``real`` abbreviated: dicts a subset, lists a prefix, strings whole
    or cut with a final "…"; the volatile members alike in form, links naming the same request."""
    key = where.rsplit(".", 1)[-1]
    if key in VOLATILE:
        return [] if isinstance(real, str) and all(VOLATILE[key].match(v) for v in (example, real)) else [where]
    if where.endswith((".links.self", ".links.next")):
        return [] if same_link(example, real) else [f"{where}: {example!r} != {real!r}"]
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


def test_each_example_is_valid_under_its_schema(document):
    """What a client generator or a linter checks: every example whole under its operation's
    response schema (the abbreviated examples left out the envelope's required members)."""
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    registry = Registry().with_resource("urn:openapi", Resource.from_contents(document, default_specification=DRAFT202012))
    checked = 0
    for path, operation in operations(document):
        content = operation["responses"].get("200", {}).get("content", {}).get("application/json", {})
        if "example" not in content:
            continue
        schema = content["schema"]
        if "$ref" in schema:
            schema = {"$ref": "urn:openapi" + schema["$ref"]}
        errors = [error.message for error in
                  jsonschema.Draft202012Validator(schema, registry=registry).iter_errors(content["example"])]
        assert not errors, (path, errors[:3])
        checked += 1
    assert checked >= 17

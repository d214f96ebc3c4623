"""The OpenAPI document the app serves and the answers it gives cannot drift apart.

Every operation of the served ``/v1/openapi.json`` is called with the realistic
requests of ``CASES`` (the variants that change the shape of an answer:
``include=``, ``fields=``, ``?highlight=``, search ``kind=``, stats
``group_by``/``interval``/``facet``, network options, the page after
``meta.next_cursor``) and with error requests (unknown parameter, invalid value,
unknown id, unservable Accept). Each answer is checked against the operation's
documented response for its status code:

* the status code is documented for the operation;
* the Content-Type is one of the documented media types of that response;
* the documented response headers are sent (ETag on 200, Retry-After on 503);
* the body validates against the documented schema (OpenAPI 3.1 = JSON Schema
  2020-12, ``Draft202012Validator``, ``#/components/...`` refs resolved against
  the document's own components), in a closed world: an object schema with
  ``properties`` and no ``additionalProperties`` (nor ``patternProperties`` /
  ``unevaluatedProperties``) accepts no other key, so a field served but not
  documented is found;
* each request of a 200 case is itself valid against the document (every query
  parameter documented for the operation, every value valid for its schema), so
  a parameter the app takes but the document does not list is found too.

The operations are enumerated from the document: an endpoint added without a
case in ``CASES`` fails ``test_answers_match_the_document[<it>]``, and
``test_every_documented_operation_has_cases`` fails on the served document of
each backend. Every discrepancy of an operation is collected and reported at
once, grouped by what is wrong, at the end of its test.
"""
from __future__ import annotations

import copy
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

import pytest
from jsonschema import Draft202012Validator

from api import create_app

from .conftest import SOURCE

DOCUMENT_URL = "/v1/openapi.json"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

#: real ids from fixtures/<SOURCE>/*.json for the path parameters of the document
PATH_IDS = {
    "event_id": "khamis-meets-rouhani",
    "participant_id": "imad-khamis",
    "place_id": "tehran",
    "statement_id": "velayati-hopes-astana-security",
    "source_id": SOURCE,
    "number": "1",  # a release
}
#: well-formed ids that no record has (404 on item paths)
UNKNOWN_IDS = {
    "number": "99",
    "event_id": "no-such-event",
    "participant_id": "no-such-participant",
    "place_id": "no-such-place",
    "statement_id": "no-such-statement",
    "source_id": "no_such_source",
}

#: an app whose database cannot be reached: it serves the document (which needs no
#: database), so the operations can be enumerated at collection time, and it gives the
#: documented 503 of every operation ("The database is unreachable")
UNREACHABLE_APP = create_app({"DATABASE_URL": "sqlite:////nonexistent/openapi-answers/events.sqlite3", "TESTING": True})


def operations_of(document: dict) -> list[str]:
    """``"GET /v1/events"``, … for every operation of the document, in document order."""
    return [f"{method.upper()} {path}" for path, item in document["paths"].items()
            for method in item if method in HTTP_METHODS]


DOCUMENT_AT_COLLECTION = UNREACHABLE_APP.test_client().get(DOCUMENT_URL).get_json()
OPERATIONS = operations_of(DOCUMENT_AT_COLLECTION)


# --------------------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Case:
    """One request of an operation and the status it must get.

    ``query`` is written as in a URL (unencoded; repeat a name for a repeated
    parameter); ``path`` overrides ids of PATH_IDS; ``next_page`` also requests the
    page at ``meta.next_cursor`` (and fails if there is none).
    """

    query: str = ""
    status: int = 200
    path: dict = field(default_factory=dict)
    headers: tuple = ()
    next_page: bool = False
    media: str = "application/json"  # of a 200 (/v1/dump: application/zip)

    @property
    def media_type(self) -> str:
        return self.media if self.status == 200 else "application/problem+json"

    def pairs(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query, keep_blank_values=True, strict_parsing=bool(self.query))


def ok(query: str = "", **kwargs) -> Case:
    return Case(query, 200, **kwargs)


def error(status: int, query: str = "", **kwargs) -> Case:
    return Case(query, status, **kwargs)


UNKNOWN_PARAMETER = error(400, "colour=red")
NOT_ACCEPTABLE = error(406, headers=(("Accept", "application/xml"),))

EVENT_LIST = [
    ok(),
    ok("limit=3", next_page=True),
    ok("limit=2&sort=-date&include=participants,statements,place", next_page=True),
    ok("include=statements&include=participants&include=place&include_undated=true&limit=500"),
    ok("fields=title_en,status"),
    ok("fields=date,place,participants,statements,quantities&include=place,participants,statements"),
    ok("participant=imad-khamis&participant=hassan-rouhani&sort=id"),
    ok("q=خميس&from=2017-01-01&to=2017-01-31&include_undated=true"),
    ok("country=IRN&type=04&status=occurred&plover=CONSULT&place=tehran&topic=astana_talks&source=" + SOURCE),
    ok("status=planned&sort=-id"),
    ok("source_actor=imad-khamis&target_actor=hassan-rouhani,iran&quad_class=1"),
    ok("target_actor=syrian-government&quad_class=1,2"),
    UNKNOWN_PARAMETER,
    error(400, "limit=0"),
    error(400, "quad_class=5"),
    error(400, "include=speaker"),
    error(400, "fields=colour"),
    error(400, "from=2017-02-01&to=2017-01-01"),
    error(400, "cursor=not-a-cursor"),
    NOT_ACCEPTABLE,
]

STATEMENT_LIST = [
    ok(),
    ok("limit=4", next_page=True),
    ok("limit=3&include=event,speaker&sort=-id", next_page=True),
    ok("include=event&include=speaker&limit=500"),
    ok("fields=text_ar,event,speaker&include=event,speaker"),
    ok("fields=span,mode,attributed_via"),
    ok("mode=direct&type=04&topic=astana_talks"),
    ok("q=أستانا&from=2017-01-01&to=2017-12-31"),
    ok("source_actor=ali-akbar-velayati&target_actor=usa&quad_class=3"),
    UNKNOWN_PARAMETER,
    error(400, "mode=shouted"),
    error(400, "target_actor=USA"),
    error(400, "include=place"),
    NOT_ACCEPTABLE,
]

CASES: dict[str, list[Case]] = {
    "GET /v1/events": EVENT_LIST,
    "GET /v1/events/{event_id}": [
        NOT_ACCEPTABLE,
        ok(),
        ok("include=statements,participants,place"),
        ok("fields=title_en,cameo"),
        ok("fields=participants,place,statements&include=participants,place,statements"),
        ok(path={"event_id": "syria-iran-sign-cooperation-agreements"}),  # quantities
        ok(path={"event_id": "syrian-army-recaptures-aleppo"}),  # undated
        ok("include=place", path={"event_id": "astana-talks-preparations"}),  # no place
        ok(path={"event_id": "astana-talks-planned"}),  # planned
        error(404, path={"event_id": UNKNOWN_IDS["event_id"]}),
        UNKNOWN_PARAMETER,
        error(400, "include=speaker"),
        error(400, "fields=title_en&fields=colour"),
    ],
    "GET /v1/participants": [
        ok(),
        ok("limit=5", next_page=True),
        ok("limit=4&sort=-id&kind=person", next_page=True),
        ok("kind=person&country=IRN"),
        ok("q=خميس"),
        ok("q=Khamis&fields=name_en,mention_count,mentions"),
        ok("limit=500&fields=identifiers,aliases,title_ar"),
        UNKNOWN_PARAMETER,
        error(400, "kind=alien"),
        error(400, "country=Iran"),
        NOT_ACCEPTABLE,
    ],
    "GET /v1/participants/{participant_id}": [
        NOT_ACCEPTABLE,
        ok(),
        ok("fields=name_ar"),
        ok("fields=mentions,event_count,statement_count"),
        ok(path={"participant_id": "syria"}),
        ok(path={"participant_id": "syrian-government"}),
        error(404, path={"participant_id": UNKNOWN_IDS["participant_id"]}),
        UNKNOWN_PARAMETER,
        error(400, "include=events"),
    ],
    "GET /v1/participants/{participant_id}/events": [
        ok(),
        ok("limit=2", next_page=True),
        ok("include=participants,statements,place&include_undated=true&limit=500"),
        ok("fields=title_en,date&sort=-date"),
        ok("participant=hassan-rouhani"),
        ok(path={"participant_id": "hassan-rouhani"}),
        error(404, path={"participant_id": UNKNOWN_IDS["participant_id"]}),
        UNKNOWN_PARAMETER,
        error(400, "sort=weight"),
        NOT_ACCEPTABLE,
    ],
    "GET /v1/participants/{participant_id}/statements": [
        ok(),
        ok("limit=2", next_page=True),
        ok("include=event,speaker"),
        ok("fields=text_en,speaker,event&include=speaker"),
        ok("mode=direct&event=khamis-meets-velayati"),
        ok(path={"participant_id": "ali-akbar-velayati"}),
        error(404, path={"participant_id": UNKNOWN_IDS["participant_id"]}),
        UNKNOWN_PARAMETER,
        error(400, "speaker=hassan-rouhani"),  # the path gives the speaker
        NOT_ACCEPTABLE,
    ],
    "GET /v1/statements": [
        *STATEMENT_LIST,
        ok("speaker=ali-akbar-velayati&event=khamis-meets-velayati"),
        ok("participant=imad-khamis&participant=hassan-rouhani"),
    ],
    "GET /v1/statements/{statement_id}": [
        NOT_ACCEPTABLE,
        ok(),
        ok("include=event,speaker"),
        ok("include=event"),
        ok("fields=span,mode,evidence"),
        ok("fields=event,speaker&include=event,speaker"),
        ok(path={"statement_id": "zarif-expects-astana-reconciliation"}),  # reported
        error(404, path={"statement_id": UNKNOWN_IDS["statement_id"]}),
        UNKNOWN_PARAMETER,
        error(400, "include=participants"),
    ],
    "GET /v1/places": [
        ok(),
        ok("limit=2", next_page=True),
        ok("kind=city&sort=-id"),
        ok("fields=lat,lon,identifiers"),
        ok("q=طهران"),
        ok("country=SYR"),
        UNKNOWN_PARAMETER,
        error(400, "kind=planet"),
        NOT_ACCEPTABLE,
    ],
    "GET /v1/places/{place_id}": [
        NOT_ACCEPTABLE,
        ok(),
        ok("fields=name_en,mentions"),
        ok(path={"place_id": "syria"}),  # a country
        ok(path={"place_id": "astana"}),
        error(404, path={"place_id": UNKNOWN_IDS["place_id"]}),
        UNKNOWN_PARAMETER,
        error(400, "fields=kind,colour"),
    ],
    "GET /v1/releases": [
        NOT_ACCEPTABLE,
        ok(),
        ok("limit=1"),
        UNKNOWN_PARAMETER,
        error(400, "limit=0"),
        error(400, "cursor=not-a-cursor"),
    ],
    "GET /v1/releases/{number}": [
        NOT_ACCEPTABLE,
        ok(),
        error(404, path={"number": "99"}),
        UNKNOWN_PARAMETER,
    ],
    "GET /v1/changes": [
        error(406, "since=0", headers=(("Accept", "application/xml"),)),
        ok("since=0"),
        ok("since=0&limit=3", next_page=True),
        ok("since=1"),
        error(400),
        error(400, "since=2"),
        error(400, "since=-1"),
        error(400, "since=one"),
        error(400, "since=0&cursor=bogus"),
        UNKNOWN_PARAMETER,
    ],
    "GET /v1/dump": [
        ok(media="application/zip"),
        UNKNOWN_PARAMETER,
    ],
    "GET /v1/sources": [
        ok(),
        ok("limit=1&sort=-id"),
        UNKNOWN_PARAMETER,
        error(400, "format=csv"),
        error(406, headers=(("Accept", "text/csv"),)),
    ],
    "GET /v1/sources/{source_id}": [
        NOT_ACCEPTABLE,
        ok(),
        ok("highlight=khamis-meets-rouhani"),  # an event
        ok("highlight=syria-iran-sign-cooperation-agreements"),  # an event with a quantity
        ok("highlight=velayati-hopes-astana-security"),  # a statement
        ok("highlight=imad-khamis"),  # a participant
        ok("highlight=tehran"),  # a place
        error(404, path={"source_id": UNKNOWN_IDS["source_id"]}),
        error(400, "highlight=nothing-like-this"),
        UNKNOWN_PARAMETER,
        error(400, "highlight=Not_An_Id"),
    ],
    "GET /v1/event-types": [
        NOT_ACCEPTABLE,
        ok(),
        UNKNOWN_PARAMETER,
        error(400, "limit=5"),
    ],
    "GET /v1/search": [
        error(406, "q=Aleppo", headers=(("Accept", "application/xml"),)),
        ok("q=خميس"),
        ok("q=Astana&kind=event"),
        ok("q=طهران&kind=participant&kind=place"),
        ok("q=velayati&kind=statement&limit=2"),
        ok('q="حسن روحاني"'),
        ok("q=zzzqqqxxx"),  # no hit
        error(400),  # q is required
        UNKNOWN_PARAMETER,
        error(400, "q=Astana&kind=article"),
        error(400, "q=Astana&limit=101"),
    ],
    "GET /v1/stats/timeline": [
        ok(),
        ok("interval=day"),
        ok("interval=week&group_by=participant&group_limit=3"),
        ok("interval=year&group_by=cameo_root"),
        ok("group_by=topic&from=2017-01-01&to=2017-03-31"),
        ok("group_by=status&interval=day&participant=imad-khamis"),
        ok("q=zzzqqqxxx"),  # nothing dated: from/to are null
        ok("include_undated=true&country=IRN&type=04"),
        UNKNOWN_PARAMETER,
        error(400, "interval=hour"),
        error(400, "group_by=colour"),
        error(400, "interval=day&from=1000-01-01&to=2017-01-01"),  # more than 2,000 buckets
        NOT_ACCEPTABLE,
    ],
    "GET /v1/stats/facets": [
        ok(),
        ok("facet=cameo&facet=plover&facet=place"),
        ok("facet=precision,source,cameo_root&limit=2"),
        ok("facet=country,participant,topic,status&participant=imad-khamis"),
        ok("facet=status&q=zzzqqqxxx"),  # no matching event
        UNKNOWN_PARAMETER,
        error(400, "facet=colour"),
        error(400, "limit=0"),
        NOT_ACCEPTABLE,
    ],
    "GET /v1/network": [
        ok(),
        ok("limit=3&min_weight=2&edge_events=0"),
        ok("edge_events=100&participant=imad-khamis"),
        ok("country=IRN&from=2017-01-01&to=2017-01-31"),
        ok("q=zzzqqqxxx"),  # empty graph
        UNKNOWN_PARAMETER,
        error(400, "min_weight=0"),
        error(400, "edge_events=101"),
        ok("directed=true"),
        ok("directed=true&limit=2&min_weight=1&quad_class=1"),
        error(400, "directed=sideways"),
        NOT_ACCEPTABLE,
    ],
    "GET /v1/stats/dyads": [
        ok(),
        ok("interval=month&limit=3"),
        ok("interval=day&from=2017-01-16&to=2017-01-18&source_actor=imad-khamis"),
        ok("quad_class=2&status=ongoing"),
        ok("q=zzzqqqxxx&interval=week"),  # nothing matches
        UNKNOWN_PARAMETER,
        error(400, "limit=0"),
        error(400, "interval=decade"),
        error(400, "interval=day&from=1000-01-01&to=2017-01-01"),
        NOT_ACCEPTABLE,
    ],
}


# --------------------------------------------------------------------------- the document


def resolve(document: dict, node):
    """Follow local ``$ref``s (``#/components/responses/...``) to the object they name."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node:
        pointer = node["$ref"]
        assert pointer.startswith("#/"), f"non-local $ref {pointer}"
        node = document
        for part in pointer[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        seen += 1
        assert seen < 20, f"$ref loop at {pointer}"
    return node


SUBSCHEMA_KEYS = ("additionalProperties", "items", "contains", "not", "if", "then", "else", "propertyNames",
                  "unevaluatedProperties", "unevaluatedItems", "contentSchema")
SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")


def closed(schema):
    """A copy of the schema in which an object schema with ``properties`` and nothing that
    admits other keys (additionalProperties, patternProperties, unevaluatedProperties)
    admits no other key."""
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    for key in SUBSCHEMA_KEYS:
        if isinstance(out.get(key), dict):
            out[key] = closed(out[key])
    for key in SUBSCHEMA_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [closed(item) for item in out[key]]
    for key in SUBSCHEMA_MAPS:
        if isinstance(out.get(key), dict):
            out[key] = {name: closed(item) for name, item in out[key].items()}
    if "properties" in out and not {"additionalProperties", "patternProperties", "unevaluatedProperties"} & set(out):
        out["additionalProperties"] = False
    return out


class Contract:
    """The served document, ready to validate answers and requests against."""

    def __init__(self, document: dict):
        self.document = document
        components = copy.deepcopy(document.get("components", {}))
        components["schemas"] = {name: closed(s) for name, s in components.get("schemas", {}).items()}
        self.components = components
        self._validators: dict[str, Draft202012Validator] = {}

    def operation(self, label: str) -> tuple[str, dict, list[dict]]:
        method, path = label.split(" ", 1)
        item = self.document["paths"][path]
        operation = item[method.lower()]
        parameters = {}
        for parameter in [*item.get("parameters", []), *operation.get("parameters", [])]:  # the operation's win
            parameter = resolve(self.document, parameter)
            parameters[(parameter["in"], parameter["name"])] = parameter
        return path, operation, list(parameters.values())

    def validator(self, schema: dict) -> Draft202012Validator:
        key = json.dumps(schema, sort_keys=True)
        if key not in self._validators:
            root = {**closed(schema), "components": self.components}
            Draft202012Validator.check_schema(root)
            self._validators[key] = Draft202012Validator(root)
        return self._validators[key]


# --------------------------------------------------------------------------- reporting


def json_path(parts) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def short(value, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "…"


def relevant(error):
    """The errors that say what is wrong: in an anyOf/oneOf, the branches the value is
    meant for (not the ones it does not even have the type of)."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        branches = defaultdict(list)
        for sub in error.context:
            branches[sub.relative_schema_path[0]].append(sub)
        meant = [subs for subs in branches.values()
                 if not any(s.validator == "type" and not s.relative_path for s in subs)]
        if meant:
            for subs in meant:
                for sub in subs:
                    yield from relevant(sub)
            return
        # of the type of no branch: one type error naming every documented type
        types = []
        for sub in error.context:
            if sub.validator == "type" and not sub.relative_path:
                types += sub.validator_value if isinstance(sub.validator_value, list) else [sub.validator_value]
        error.validator, error.validator_value = "type", list(dict.fromkeys(types))
    yield error


def problems_of(validator: Draft202012Validator, body) -> list[tuple[str, str]]:
    """(JSON path in the answer, what is wrong) for every way the body breaks the schema."""
    found = []
    for top in validator.iter_errors(body):
        for err in relevant(top):
            path = list(err.absolute_path)
            if err.validator == "additionalProperties" and err.validator_value is False and isinstance(err.instance, dict):
                documented = set(err.schema.get("properties", {}))
                patterns = list(err.schema.get("patternProperties", {}))
                for key in err.instance:
                    if key not in documented and not any(re.search(p, key) for p in patterns):
                        found.append((json_path(path + [key]), f"undocumented key (value {short(err.instance[key], 60)})"))
            elif err.validator == "type":
                found.append((json_path(path),
                              f"type disagrees: documented {err.validator_value}, answered {short(err.instance, 60)}"))
            elif err.validator == "required":
                for name in err.validator_value:
                    if name not in err.instance:
                        found.append((json_path(path + [name]), "documented as required but missing"))
            else:
                found.append((json_path(path), f"{err.validator}: {err.message[:200]}"))
    return list(dict.fromkeys(found))


class Discrepancies:
    def __init__(self, label: str):
        self.label = label
        self.items: list[tuple[str, str, str]] = []  # (request, JSON path, what)

    def add(self, request: str, where: str, what: str) -> None:
        self.items.append((request, where, what))

    def report(self) -> str:
        """Grouped: one line per (what is wrong, path with [*] for array indexes)."""
        groups: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
        for request, where, what in self.items:
            general = re.sub(r"\[\d+\]", "[*]", where)
            general_what = re.sub(r" \(value .*\)$", "", what)
            groups[(general, general_what)].append((request, where))
        heading = f"{len(self.items)} discrepancies between {self.label} and its documentation ({len(groups)} distinct):"
        lines = [heading]
        for (general, what), places in groups.items():
            requests = list(dict.fromkeys(request for request, _ in places))
            example = places[0][1]
            lines.append(f"  {general}: {what}")
            lines.append(f"      {len(places)}x in {len(requests)} answer(s), e.g. {example} of {requests[0]}"
                         + (f"; also {', '.join(requests[1:4])}{' …' if len(requests) > 4 else ''}" if len(requests) > 1 else ""))
        return "\n".join(lines)


# --------------------------------------------------------------------------- checking one answer


def check_request(contract: Contract, label: str, url_path: str, path_values: dict, pairs, found: Discrepancies,
                  request: str) -> None:
    """A 200 case must be a valid request by the document: documented parameters, valid values."""
    _, _, parameters = contract.operation(label)
    by_name = {(p["in"], p["name"]): p for p in parameters}
    for name, value in path_values.items():
        parameter = by_name.get(("path", name))
        if parameter is None:
            found.add(request, f"path parameter {name}", "not documented for this operation")
            continue
        schema = parameter.get("schema", {})
        for where, what in problems_of(contract.validator(schema), coerce(schema, value)):
            found.add(request, f"path parameter {name}={value}", f"request not valid by the document: {what}")
    values: dict[str, list[str]] = defaultdict(list)
    for name, value in pairs:
        values[name].append(value)
    for name, given in values.items():
        parameter = by_name.get(("query", name))
        if parameter is None:
            found.add(request, f"query parameter {name}", "answered 200 but not documented for this operation")
            continue
        schema = parameter.get("schema", {})
        types = schema.get("type")
        types = types if isinstance(types, list) else [types]
        if "array" in types:
            instances = [[coerce(schema.get("items", {}), v) for v in given]]
        elif len(given) > 1:
            found.add(request, f"query parameter {name}", "given more than once but documented as a single value")
            instances = [coerce(schema, v) for v in given]
        else:
            instances = [coerce(schema, given[0])]
        for instance in instances:
            for where, what in problems_of(contract.validator(schema), instance):
                found.add(request, f"query parameter {name}", f"request not valid by the document: {what}")


def coerce(schema: dict, raw: str):
    """A query-string value as the JSON value its documented schema describes."""
    types = schema.get("type")
    types = types if isinstance(types, list) else [types]
    try:
        if "integer" in types:
            return int(raw)
        if "number" in types:
            return float(raw)
    except ValueError:
        return raw
    if "boolean" in types and raw in ("true", "false"):
        return raw == "true"
    return raw


def check_answer(contract: Contract, label: str, response, expected: int, found: Discrepancies, request: str,
                 media_type: str | None = None):
    """The answer against the documented response for its status code; its body (parsed) or None."""
    _, operation, _ = contract.operation(label)
    status = response.status_code
    if status != expected:
        found.add(request, "status", f"expected {expected}, answered {status}: {response.get_data(as_text=True)[:300]}")
    if media_type and response.mimetype != media_type:
        found.add(request, "Content-Type", f"expected {media_type}, answered {response.mimetype!r}")
    responses = operation.get("responses", {})
    documented = responses.get(str(status))
    if documented is None:
        documented = responses.get(f"{str(status)[0]}XX")
    if documented is None:
        found.add(request, "status", f"{status} is not documented for this operation"
                  + (" (only 'default' covers it)" if "default" in responses else ""))
        documented = responses.get("default")
        if documented is None:
            return None
    documented = resolve(contract.document, documented)
    for header in documented.get("headers", {}):
        if header not in response.headers:
            found.add(request, f"header {header}", f"documented for {status} but not sent")
    content = documented.get("content")
    if not content:
        if response.get_data():
            found.add(request, "body", f"{status} documents no content but a body was sent")
        return None
    mimetype = response.mimetype
    if mimetype not in content:
        found.add(request, "Content-Type", f"{mimetype!r} is not a documented media type of {status} ({', '.join(content)})")
        return None
    if not mimetype.endswith("json"):  # a download (/v1/dump): its documented media type is all there is to check
        return response.get_data() or None
    raw = response.get_data(as_text=True)
    try:
        body = json.loads(raw)
    except ValueError:
        found.add(request, "body", f"not JSON ({mimetype}): {raw[:200]!r}")
        return None
    schema = content[mimetype].get("schema")
    if schema is None:
        found.add(request, "body", f"no schema documented for {status} {mimetype}")
        return body
    for where, what in problems_of(contract.validator(schema), body):
        found.add(request, where, what)
    return body


def url_of(template: str, values: dict) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)


def describe(url_path: str, pairs, headers=()) -> str:
    text = url_path + ("?" + urlencode(pairs) if pairs else "")
    return text + "".join(f" [{name}: {value}]" for name, value in headers)


# --------------------------------------------------------------------------- tests


@pytest.fixture()
def contract(client) -> Contract:
    response = client.get(DOCUMENT_URL)
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    assert document["openapi"].startswith("3.1"), document["openapi"]
    return Contract(document)


def test_every_documented_operation_has_cases(contract):
    """Nobody can add an endpoint without a request case, nor leave a case of a removed one."""
    served = operations_of(contract.document)
    assert len(served) >= 17, served
    assert served == OPERATIONS, "the document served with a database differs from the one without"
    lacking = []
    for label in served:
        cases = CASES.get(label, [])
        _, operation, parameters = contract.operation(label)
        if not any(case.status == 200 for case in cases):
            lacking.append(f"{label}: no 200 case")
        if not any(case.status != 200 for case in cases):
            lacking.append(f"{label}: no error case")
        for code in ("400", "404", "406"):
            if code in operation["responses"] and not any(case.status == int(code) for case in cases):
                lacking.append(f"{label}: documents {code} but no case asks for it")
        for parameter in parameters:
            if parameter["in"] == "path" and parameter["name"] not in PATH_IDS:
                lacking.append(f"{label}: no real id for path parameter {parameter['name']} in PATH_IDS")
    stale = sorted(set(CASES) - set(served))
    assert not lacking and not stale, "\n".join(lacking + [f"{label}: case of an operation not in the document" for label in stale])


@pytest.mark.parametrize("label", OPERATIONS)
def test_answers_match_the_document(client, contract, label):
    if label not in operations_of(contract.document):
        pytest.fail(f"{label} is not in the document served with a database")
    cases = CASES.get(label)
    if not cases:
        pytest.fail(f"{label} has no request case in CASES of tests/test_openapi_answers.py: add its realistic "
                    "requests (200) and at least one error request")
    method, template = label.split(" ", 1)
    assert method == "GET", f"{label}: only GET operations are expected in this read-only API"
    found = Discrepancies(label)
    validated = 0
    for case in cases:
        values = {**PATH_IDS, **case.path}
        url_path = url_of(template, values)
        used = {name: values[name] for name in re.findall(r"\{(\w+)\}", template)}
        pairs = case.pairs()
        request = describe(url_path, pairs, case.headers)
        if case.status == 200:
            check_request(contract, label, url_path, used, pairs, found, request)
        response = client.get(url_path, query_string=pairs, headers=list(case.headers))
        body = check_answer(contract, label, response, case.status, found, request, case.media_type)
        validated += body is not None
        if case.status == 200 and response.status_code == 200:
            etag = response.headers.get("ETag")
            if etag:  # the documented 304 (conditional GET)
                again = client.get(url_path, query_string=pairs, headers=[*case.headers, ("If-None-Match", etag)])
                check_answer(contract, label, again, 304, found, request + " [If-None-Match]")
        if case.next_page:
            cursor = ((body or {}).get("meta") or {}).get("next_cursor") if isinstance(body, dict) else None
            if not cursor:
                found.add(request, "$.meta.next_cursor", "the case expects a second page but there is no cursor")
                continue
            more = [*pairs, ("cursor", cursor)]
            next_request = describe(url_path, more, case.headers)
            check_request(contract, label, url_path, used, more, found, next_request)
            second = client.get(url_path, query_string=more, headers=list(case.headers))
            page = check_answer(contract, label, second, 200, found, next_request, case.media_type)
            validated += page is not None
            if isinstance(page, dict) and isinstance(page.get("data"), list) and isinstance(body.get("data"), list):
                first_ids = {r.get("id") for r in body["data"] if isinstance(r, dict)}
                if not page["data"] or first_ids & {r.get("id") for r in page["data"] if isinstance(r, dict)}:
                    found.add(next_request, "$.data", "the second page is empty or repeats records of the first")
    # every answer had a documented JSON body that was validated (or its absence is a discrepancy)
    assert found.items or validated == len(cases) + sum(case.next_page for case in cases), \
        f"{label}: {len(cases) + sum(case.next_page for case in cases) - validated} answer(s) had no body to validate"
    if found.items:
        pytest.fail(found.report(), pytrace=False)


def test_unreachable_database_answers_the_documented_503():
    """503 (database unreachable) on every operation: problem+json with Retry-After, as documented."""
    client = UNREACHABLE_APP.test_client()
    contract = Contract(client.get(DOCUMENT_URL).get_json())
    found = Discrepancies("every operation with the database unreachable")
    for label in operations_of(contract.document):
        path, operation, _ = contract.operation(label)
        assert "503" in operation["responses"], f"{label} does not document 503"
        url_path = url_of(path, PATH_IDS)
        response = client.get(url_path)
        body = check_answer(contract, label, response, 503, found, f"{label}: {url_path}", "application/problem+json")
        if body is not None and body.get("status") != 503:
            found.add(url_path, "$.status", f"{body.get('status')} in the body of a 503")
    if found.items:
        pytest.fail(found.report(), pytrace=False)

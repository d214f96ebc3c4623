"""Version 1 of the API: the resources and their OpenAPI document."""
from __future__ import annotations

import copy
import http

import flask_smorest
from flask import Flask, current_app

from models.documents import dumps

from ..database import NONE, needs_dataset
from ..envelope import json_response
from ..examples import EXAMPLES, whole
from ..resources import RESOURCES
from ..schemas import ProblemSchema
from .blueprints import Blueprint, register_converters
from .collections import blueprint

PROBLEM_CODES = (400, 404, 406, 409, 429, 500, 503)
#: record schemas whose endpoints take ?fields=
SPARSE_RECORDS = ("Event", "Statement", "Participant", "Place")
PROBLEM_DESCRIPTIONS = {
    400: "A parameter is unknown, repeated or invalid; `errors` names each one.",
    404: "No record with this id.",
    406: "The Accept header asks for a representation this endpoint does not have.",
    409: "The `cursor` comes from a page of an earlier release (`stale-cursor`): a load changed the data "
         "between the pages, and going on could skip or repeat records. Start again from the first page, or "
         "follow /v1/changes?since= that release.",
    429: "An export (`format=` other than json), or an answer over EVENT_RECORDS_LARGE_ANSWER_BYTES (1 MiB) as "
         "sent, while this client already receives as many of them as one client may (`too-many-exports`); see "
         "Retry-After.",
    500: "An unexpected error (logged; the body never carries a traceback).",
    503: "The database is unreachable, no dataset is loaded, the request needed more than its time budget of "
         "database work (`time-budget`), or (exports and large answers) the server sends as many of them as it "
         "may at once (`too-many-exports`); see Retry-After.",
}


class Api(flask_smorest.Api):
    """flask-smorest's Api with problem+json as the one error shape.

    Its own error handlers are not installed (``api.errors`` handles every
    error), and its default error responses are replaced by problem+json ones.
    """

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        pass

    def _register_responses(self):
        for code in PROBLEM_CODES:
            self.spec.components.response(f"PROBLEM_{code}", {
                "description": PROBLEM_DESCRIPTIONS[code],
                "content": {"application/problem+json": {"schema": ProblemSchema}},
                **({"headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}} if code in (429, 503) else {}),
            })
        # flask-smorest refers to these by name (e.g. BAD_REQUEST for argument errors, DEFAULT_ERROR)
        for status in http.HTTPStatus:
            if status.value in PROBLEM_CODES:
                self.spec.components.response(status.name, {
                    "description": PROBLEM_DESCRIPTIONS[status.value],
                    "content": {"application/problem+json": {"schema": ProblemSchema}},
                }, lazy=True)
        self.spec.components.response("DEFAULT_ERROR", {
            "description": "Any other error, in the same problem+json shape.",
            "content": {"application/problem+json": {"schema": ProblemSchema}},
        }, lazy=True)


def add_examples(spec: dict) -> None:
    """Each operation's example (api/examples.py): its parameters' values and its JSON answer."""
    for path, (params, answer) in EXAMPLES.items():
        operation = spec["paths"][path]["get"]
        # path parameters are listed on the path, query parameters on the operation
        for parameter in spec["paths"][path].get("parameters", []) + operation.get("parameters", []):
            value = params.get(parameter["name"])
            if value is not None:
                many = parameter.get("schema", {}).get("type") == "array"
                parameter["example"] = value.split(",") if many else value
        content = operation["responses"]["200"]["content"]["application/json"]
        content["example"] = whole(path, params, answer, "links" in _required(spec, content["schema"]))


def _required(spec: dict, schema: dict) -> list[str]:
    """The required members of a schema of the document (followed through its $ref)."""
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema.get("required", [])


def openapi_document(api: Api) -> dict:
    spec = copy.deepcopy(api.spec.to_dict())
    spec["info"]["description"] = (
        "Hand-curated political event records with character-level provenance. "
        "Every 200 body has `data` and `meta` (with `dataset_version` and `release`); collections add `links` and keyset "
        "paging (`meta.next_cursor`). Every error is `application/problem+json` (RFC 9457). "
        "GET answers carry a strong ETag (send If-None-Match for a 304) and CORS headers. To keep a copy: "
        "`/v1/dump` once, then `/v1/changes?since=<release>`."
    )
    spec["servers"] = [{"url": "/"}]
    # Conditional GET works on every operation (HEAD and OPTIONS too; the document lists the GETs).
    for path in spec["paths"].values():
        for method, operation in path.items():
            if method not in ("get", "head", "options"):
                continue
            operation.setdefault("parameters", []).append({
                "name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"},
                "description": "An ETag from an earlier answer: 304 when the answer has not changed.",
            })
            operation["responses"]["304"] = {"description": "Not modified: the ETag still matches."}
            ok = operation["responses"].get("200")
            if ok is not None:
                ok["headers"] = {"ETag": {"schema": {"type": "string"}, "description": "Strong validator of this answer."}}
    add_examples(spec)
    # A sparse field set (?fields=) can leave out any field of a record but its id.
    for name in SPARSE_RECORDS:
        record = spec["components"]["schemas"].get(name)
        if record is not None:
            record["required"] = ["id"]
            record["description"] = ("Every field is present unless `fields` asked for a sparse field set: "
                                     "then only those fields, and `id`, are.")
    return spec


def init_app(app: Flask) -> None:
    from . import dump, dyads, history, search, sources, stats

    app.config.setdefault("OPENAPI_URL_PREFIX", None)  # the document is served below, not by flask-smorest
    api = Api(app, spec_kwargs={"info": {"title": "event-records API"}})
    register_converters(app, api)
    for resource in RESOURCES:
        api.register_blueprint(blueprint(resource))
    for module in (sources, search, stats, dyads, history, dump):
        api.register_blueprint(module.blp)
    app.extensions["openapi"] = api

    docs = Blueprint("openapi", __name__, url_prefix="/v1")

    @docs.route("/openapi.json")
    @needs_dataset(NONE)
    def openapi_json():
        document = current_app.extensions.get("openapi_document")
        if document is None:
            document = dumps(openapi_document(api))
            current_app.extensions["openapi_document"] = document
        # The document does not depend on the database (it is served while the database is down),
        # so it carries a validator made from its bytes (api/http.py) instead of the dataset version's.
        return json_response(document)

    app.register_blueprint(docs)

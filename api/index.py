"""What a visitor of / or /v1 finds: links to the resources, the OpenAPI document and the docs
(JSON for a program, a short HTML page for a browser), and redirects for the trailing slashes.
A link that needs a parameter is written as a URI template (RFC 6570): /v1/search{?q}."""
from __future__ import annotations

from html import escape

from flask import Blueprint, Flask, Response, jsonify, redirect, request

from . import formats
from .database import NONE, needs_dataset
from .version import VERSION

RESOURCES = ("events", "statements", "participants", "places", "sources", "event-types", "search{?q}",
             "stats/timeline", "stats/facets", "stats/dyads", "network", "releases", "changes{?since}", "dump")
#: what the service offers beside the resources of /v1
PAGES = {"openapi": "/v1/openapi.json", "docs": "/docs", "dashboard": "/dashboard", "csvw": "/csvw{?url}",
         "health": "/healthz", "ready": "/readyz"}


def resource_links() -> dict:
    return {name.split("{")[0]: f"/v1/{name}" for name in RESOURCES}


def links() -> dict:
    return {"v1": "/v1", **PAGES, **resource_links()}


def _wants_html() -> bool:
    for media in formats.accepted(request.headers.get("Accept", "")):
        if media in ("text/html", "application/xhtml+xml"):
            return True
        if media in ("application/json", "*/*", "application/*"):
            return False
    return False


#: where the HTML page's link of a templated URL goes: an example that answers (the bare path is a 400)
EXAMPLES = {"/v1/search{?q}": "/v1/search?q=Astana", "/v1/changes{?since}": "/v1/changes?since=0",
            "/csvw{?url}": "/csvw?url=/v1/events%3Fformat%3Dcsv"}


def _page(title: str, items: dict) -> Response:
    rows = "".join(f'<li><a href="{escape(EXAMPLES.get(url, url))}">{escape(url)}</a> — {escape(name)}'
                   f'{" (the link: an example)" if url in EXAMPLES else ""}</li>'
                   for name, url in items.items())
    body = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title></head>'
            f"<body><h1>{escape(title)}</h1><p>Hand-curated political event records, version {escape(VERSION)}. "
            f'The API is described in <a href="/v1/openapi.json">/v1/openapi.json</a> and '
            f'<a href="/docs">/docs</a>.</p><ul>{rows}</ul></body></html>')
    return Response(body, mimetype="text/html")


def _negotiated(response: Response) -> Response:
    """The page or the JSON, chosen by Accept: a shared cache must keep them apart."""
    response.vary.add("Accept")
    return response


def init_app(app: Flask) -> None:
    blueprint = Blueprint("index", __name__)

    @blueprint.get("/")
    @needs_dataset(NONE)
    def root():
        """Links to everything the service offers."""
        if _wants_html():
            return _negotiated(_page("event-records", links()))
        return _negotiated(jsonify({"name": "event-records", "version": VERSION, "links": links()}))

    @blueprint.get("/v1")
    @needs_dataset(NONE)
    def version_one():
        """The resources of version 1."""
        resources = resource_links() | PAGES
        if _wants_html():
            return _negotiated(_page("event-records API v1", resources))
        return _negotiated(jsonify({"version": VERSION, "links": resources}))

    for slashed, target in (("/v1/", "/v1"), ("/docs/", "/docs"), ("/dashboard/", "/dashboard")):
        blueprint.add_url_rule(slashed, f"redirect{target.replace('/', '_')}",
                               needs_dataset(NONE)(lambda target=target: redirect(target, 308)))

    app.register_blueprint(blueprint)

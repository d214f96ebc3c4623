"""CSV on the Web (W3C CSVW) metadata for every CSV the API serves, at /csvw (beside /docs: it
describes answers of /v1 rather than being one of its resources).

Every CSV answer carries ``Link: </csvw?url=…>; rel="describedby"; type="application/csvm+json"``;
that document names the CSV's columns with their datatypes, so a CSVW-aware reader (or a person
setting up pandas) knows that CAMEO codes such as ``040`` and roots such as ``04`` are strings,
not the numbers 40 and 4. The columns are read from the CSV's own header row, so they are exact
for any ``fields=``, ``group_by=`` or ``part=``.
"""
from __future__ import annotations

import csv
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from .database import NONE, needs_dataset
from .errors import Problem

MEDIA_TYPE = "application/csvm+json"
#: columns that hold numbers or calendar days; every other column is a string (codes, ids)
INTEGERS = {"count", "ranged", "weight", "statement_events", "events", "mention_count", "statement_count",
            "event_count", "span_start", "span_end", "first_release", "last_release", "quad_class"}
NUMBERS = {"goldstein", "place_lat", "place_lon", "lat", "lon"}
#: whole ISO days (YYYY-MM-DD) or empty: a date's precision is its own column, never a shorter value
DATES = {"date_start", "date_end", "reported_on", "bucket_start", "bucket_end"}


#: the timeline's columns after these are counts per group value (named by the value)
TIMELINE_DATES = {"bucket_start", "bucket_end"}


def datatype(column: str, path: str = "") -> str:
    if column in INTEGERS or (path == "/v1/stats/timeline" and column not in TIMELINE_DATES):
        return "integer"
    if column in NUMBERS:
        return "number"
    if column in DATES:
        return "date"
    return "string"


def csv_url() -> str:
    """This request's URL as a CSV URL: with ``format=csv`` when Accept chose the format."""
    params = parse_qsl(request.query_string.decode("utf-8", "replace"), keep_blank_values=True)
    if not any(name == "format" for name, _ in params):
        params.append(("format", "csv"))
    return request.path + "?" + urlencode(params)


def link_value(url: str) -> str:
    return f'</csvw?url={quote(url, safe="")}>; rel="describedby"; type="{MEDIA_TYPE}"'


def header_of(url: str) -> list[str]:
    """The header row of the CSV at ``url`` (read from the app itself; only its first bytes)."""
    # as a CSVW processor dereferences it: no Accept (the URL itself must choose the CSV)
    # as this client: its own export slot, and the inner answer's time budget, are its own
    response = current_app.test_client().get(url, buffered=False,
                                             environ_overrides={"REMOTE_ADDR": request.remote_addr or ""})
    try:
        if response.status_code in (429, 503):  # (busy, or over the time budget: as the CSV itself would be)
            detail = (response.get_json(silent=True) or {}).get("detail", "")
            raise Problem(response.status_code, f"The CSV at '{url}' could not be read to describe it: {detail}",
                          None, {"Retry-After": response.headers.get("Retry-After", "5")})
        if response.status_code != 200 or response.mimetype != "text/csv":
            raise Problem(400, f"'{url}' is not a CSV this API serves (it answers {response.status_code} "
                               f"{response.mimetype}): the URL must ask for the CSV itself, with format=csv.",
                          {"url": ["must be the URL of a CSV answer of this API (with format=csv)"]})
        first = b""
        for chunk in response.response:
            first += chunk
            if b"\n" in first:
                break
    finally:
        response.close()
    line = first.decode("utf-8-sig").split("\r\n", 1)[0]
    return next(csv.reader([line]), [])


def metadata(url: str, columns: list[str]) -> dict:
    return {
        "@context": "http://www.w3.org/ns/csvw",
        "url": url,
        "dialect": {"encoding": "utf-8", "header": True, "lineTerminators": ["\r\n"], "skipInitialSpace": False},
        "tableSchema": {
            "columns": [{"name": column, "titles": column, "datatype": datatype(column, urlsplit(url).path)}
                        for column in columns],
            **({"primaryKey": "id"} if "id" in columns else {}),
        },
    }


def init_app(app: Flask) -> None:
    blueprint = Blueprint("csvw", __name__)

    @blueprint.get("/csvw")
    @needs_dataset(NONE)  # the CSV it reads is a request of its own
    def describe():
        """The CSVW metadata of one CSV answer, named by its URL (path and query)."""
        url = request.args.get("url", "")
        target = urlsplit(url)
        if not url.startswith("/v1/") or target.scheme or target.netloc :
            raise Problem(400, "Invalid query parameter 'url': a path of this API under /v1/.",
                          {"url": ["must be a path under /v1/ (with its query)"]})
        response = jsonify(metadata(url, header_of(url)))
        response.mimetype = MEDIA_TYPE
        return response

    @app.after_request
    def describe_csv(response: Response) -> Response:
        # registered after api.http: runs before its finish, so the cached answer keeps the link
        if response.status_code == 200 and response.mimetype == "text/csv" and request.path.startswith("/v1/"):
            response.headers.add("Link", link_value(csv_url()))
        return response

    app.register_blueprint(blueprint)

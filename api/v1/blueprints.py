"""flask-smorest's Blueprint with the project's own documentation helpers."""
from __future__ import annotations

import flask_smorest
from werkzeug.routing import BaseConverter, IntegerConverter

from models.vocabulary import ID_PATTERN

from ..param_fields import MAX_RELEASE
from ..params import StrictParser
from ..formats import RENDERERS


class RecordIdConverter(BaseConverter):
    """``<record_id:name>``: an event, statement, participant or place id.

    A path segment that cannot be an id (``..``, ``%00``, 5,000 characters) is
    a 404 from routing, before any query runs.
    """

    regex = ID_PATTERN.strip("^$")


class SourceIdConverter(BaseConverter):
    """``<source_id:name>``: a source id (a seed file name): no NUL, at most 200 characters."""

    regex = "[^/\\x00]{1,200}"


class ReleaseConverter(IntegerConverter):
    """``<release:name>``: a release number, 0 to MAX_RELEASE (beyond it: a 404 from routing, never an
    overflowing query)."""

    def __init__(self, url_map):
        super().__init__(url_map, min=0, max=MAX_RELEASE)


CONVERTERS = {
    "record_id": (RecordIdConverter, {"type": "string", "pattern": ID_PATTERN}),
    "release": (ReleaseConverter, {"type": "integer", "minimum": 0, "maximum": MAX_RELEASE}),
    "source_id": (SourceIdConverter, {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[^/\\u0000]+$"}),
}


def register_converters(app, api) -> None:
    for name, (converter, schema) in CONVERTERS.items():
        app.url_map.converters[name] = converter
        api.register_converter(converter, lambda _converter, schema=schema: dict(schema))


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = StrictParser()

    def arguments(self, schema, *args, **kwargs):
        """As flask-smorest's, with one instance of a schema class made here: given the class,
        webargs makes a new instance for every request (copying every field), a good part of
        the cost of a cheap request."""
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)

    def problems(self, *codes: int):
        """Document the problem+json answers an operation can give (429, 503 and 500 always: any
        answer may be large enough to need an export slot, api/http.py)."""
        def decorator(view):
            for code in dict.fromkeys((*codes, 429, 503, 500)):
                view = self.alt_response(code, response=f"PROBLEM_{code}")(view)
            return view
        return decorator

    def formats(self, *names: str):
        """Document the other representations of a 200 answer (exports)."""
        content = {RENDERERS[name].bare_type: {"schema": {"type": "object" if name == "geojson" else "string",
                                                          "description": RENDERERS[name].description}}
                   for name in names}
        return self.doc(responses={200: {"content": content}})

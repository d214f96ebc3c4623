"""flask-smorest's Blueprint with the project's own documentation helpers."""
from __future__ import annotations

import flask_smorest

from ..params import StrictParser
from ..formats import MEDIA_TYPES


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = StrictParser()

    def problems(self, *codes: int):
        """Document the problem+json answers an operation can give (503 and 500 always)."""
        def decorator(view):
            for code in (*codes, 503, 500):
                view = self.alt_response(code, response=f"PROBLEM_{code}")(view)
            return view
        return decorator

    def formats(self, *names: str):
        """Document the other representations of a 200 answer (exports)."""
        schemas = {
            "csv": {"type": "string", "description": "CSV with a UTF-8 BOM and a header row; nested fields flattened."},
            "ndjson": {"type": "string", "description": "One JSON record per line."},
            "geojson": {"type": "object", "description": "RFC 7946 FeatureCollection of the records that have coordinates."},
        }
        content = {MEDIA_TYPES[name].split(";")[0]: {"schema": schemas[name]} for name in names}
        return self.doc(responses={200: {"content": content}})

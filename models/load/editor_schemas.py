"""JSON Schemas of the fixture files, for editors, generated from the marshmallow load schemas.

One truth: the schemas a load validates with (models/load/schemas.py) are turned
into JSON Schema (draft 2020-12) here, and ``schemas/*.schema.json`` (beside seeds/ and fixtures/) are
their output (``event-records schemas`` writes them; a test checks they are
current). An editor that knows them (VS Code ``json.schemas``) flags an unknown
key or a wrong value while the curator types.
"""
from __future__ import annotations

import json
from pathlib import Path

from marshmallow import Schema, fields, validate

from . import schemas

DIALECT = "https://json-schema.org/draft/2020-12/schema"
#: file name -> (schema, a JSON array of records or one object, what the file holds)
FILES = {
    "participants": (schemas.ParticipantSchema, True, "fixtures/<source>/participants.json"),
    "places": (schemas.PlaceSchema, True, "fixtures/<source>/places.json"),
    "events": (schemas.EventSchema, True, "fixtures/<source>/events.json"),
    "statements": (schemas.StatementSchema, True, "fixtures/<source>/statements.json"),
    "codebook": (schemas.CodebookSchema, False, "fixtures/codebook.json"),
    "seed": (schemas.SeedMetaSchema, False, "seeds/<source>.json"),
}


def _validators(field: fields.Field) -> dict:
    out: dict = {}
    for validator in field.validators:
        if isinstance(validator, validate.OneOf):
            out["enum"] = list(validator.choices)
        elif isinstance(validator, validate.Regexp):
            out["pattern"] = validator.regex.pattern
        elif isinstance(validator, validate.Range):
            out.update({k: v for k, v in (("minimum", validator.min), ("maximum", validator.max)) if v is not None})
        elif isinstance(validator, validate.Length):
            key = "Items" if isinstance(field, fields.List) else "Length"
            out.update({k: v for k, v in ((f"min{key}", validator.min), (f"max{key}", validator.max)) if v is not None})
    return out


_TYPES = [
    (fields.Integer, {"type": "integer"}),
    (fields.Float, {"type": "number"}),
    (fields.AwareDateTime, {"type": "string", "format": "date-time"}),
    (fields.Date, {"type": "string", "format": "date"}),
    (fields.Url, {"type": "string", "format": "uri"}),
    (fields.String, {"type": "string"}),
]


def field_schema(field: fields.Field, definitions: dict) -> dict:
    if isinstance(field, fields.Nested):
        out = {"$ref": f"#/$defs/{object_schema(field.nested, definitions)}"}
    elif isinstance(field, fields.List):
        out = {"type": "array", "items": field_schema(field.inner, definitions)}
    else:
        out = next((dict(kind) for cls, kind in _TYPES if isinstance(field, cls)), {})
    out.update(_validators(field))
    if field.metadata.get("description"):
        out["description"] = field.metadata["description"]
    if field.allow_none:
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def object_schema(schema_class: type[Schema], definitions: dict) -> str:
    """The name of ``schema_class``'s definition in ``definitions`` (added on first use)."""
    name = schema_class.__name__.removesuffix("Schema")
    if name in definitions:
        return name
    definitions[name] = {}  # a placeholder: nested schemas may refer back
    schema = schema_class()
    definitions[name] = {
        "type": "object",
        "properties": {f.data_key or key: field_schema(f, definitions) for key, f in schema.fields.items()},
        "required": [f.data_key or key for key, f in schema.fields.items() if f.required],
        "additionalProperties": False,
    }
    if schema_class.__doc__:
        definitions[name]["description"] = " ".join(schema_class.__doc__.split())
    return name


def document(kind: str) -> dict:
    schema_class, many, holds = FILES[kind]
    definitions: dict = {}
    root = {"$ref": f"#/$defs/{object_schema(schema_class, definitions)}"}
    if many:
        root = {"type": "array", "items": root}
    return {"$schema": DIALECT, "title": f"event-records: {holds}",
            "description": "Generated from the marshmallow load schemas by `event-records schemas`; do not edit.",
            **root, "$defs": definitions}


def rendered(kind: str) -> str:
    return json.dumps(document(kind), ensure_ascii=False, indent=2) + "\n"


def write_all(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in FILES:
        path = directory / f"{kind}.schema.json"
        path.write_text(rendered(kind), encoding="utf-8")
        written.append(path)
    return written


def stale(directory: Path) -> list[str]:
    """The schema files that differ from what the load schemas give (missing ones included)."""
    return [kind for kind in FILES
            if not (directory / f"{kind}.schema.json").exists()
            or (directory / f"{kind}.schema.json").read_text(encoding="utf-8") != rendered(kind)]

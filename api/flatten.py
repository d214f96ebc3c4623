"""CSV columns of each resource: a record's document flattened into one row.

Nested fields become columns (``date_start``, ``cameo_code``, ``place_lat``); lists
are joined with ``;`` (ids never hold one); span lists keep their texts.
"""
from __future__ import annotations


def join(values) -> str:
    return ";".join("" if v is None else str(v) for v in values)


def span_texts(spans) -> str:
    return " … ".join(s["text"] for s in spans)


def actor_columns(sources: list[dict], targets: list[dict]) -> dict:
    """Ids and CAMEO actor codes of the source and target sides (an unknown code is empty)."""
    return {
        "source_actor_ids": join(p["id"] for p in sources),
        "source_actor_codes": join(p.get("actor_code") or "" for p in sources),
        "target_actor_ids": join(p["id"] for p in targets),
        "target_actor_codes": join(p.get("actor_code") or "" for p in targets),
    }


def curation_columns(doc: dict) -> dict:
    """What every curated record carries: the codebook it was coded with, the curator's notes and
    the releases that first and last changed it."""
    return {
        "codebook_version": doc.get("codebook_version"),
        "notes": doc.get("notes"),
        "first_release": doc.get("first_release"),
        "last_release": doc.get("last_release"),
    }


def event_row(doc: dict) -> dict:
    place = doc.get("place") or {}
    date = doc["date"]
    plover = doc.get("plover") or {}
    return {
        "id": doc["id"],
        "title_en": doc["title_en"],
        "summary_en": doc["summary_en"],
        "title_ar": doc["title_ar"],
        "summary_ar": doc["summary_ar"],
        "status": doc["status"],
        "date_start": date["start"],
        "date_end": date["end"],
        "date_precision": date["precision"],
        "date_expression": (date.get("expression") or {}).get("text"),
        "date_resolution": date["resolution"],
        "cameo_code": doc["cameo"]["code"],
        "cameo_label": doc["cameo"]["label"],
        "cameo_root": doc["cameo"]["root"],
        "cameo_root_label": doc["cameo"]["root_label"],
        "goldstein": doc["cameo"]["goldstein"],
        "quad_class": doc["cameo"].get("quad_class"),
        "plover_type": plover.get("type"),
        "plover_mode": plover.get("mode"),
        **actor_columns(doc.get("source_actors", []), doc.get("target_actors", [])),
        "place_id": place.get("id"),
        "place_name_en": place.get("name_en"),
        "place_name_ar": place.get("name_ar"),
        "place_country": place.get("country"),
        "place_lat": place.get("lat"),
        "place_lon": place.get("lon"),
        "participant_ids": join(p["participant"]["id"] for p in doc["participants"]),
        "participant_names_en": join(p["participant"]["name_en"] for p in doc["participants"]),
        "participant_names_ar": join(p["participant"]["name_ar"] for p in doc["participants"]),
        "participant_roles": join(p["role"] for p in doc["participants"]),
        "topics": join(doc["topics"]),
        "statement_ids": join(s if isinstance(s, str) else s["id"] for s in doc["statements"]),
        "evidence_ar": span_texts(doc["evidence"]),
        "quantities": join(f'{q["value"]} {q["unit"]}' for q in doc.get("quantities", [])),
        "confidence": doc["confidence"],
        "source": doc["source"],
        "inferred_fields": join(entry["field"] for entry in doc["inferred"]),
        **curation_columns(doc),
        "plover_context": join(plover.get("context") or []),
    }


def statement_row(doc: dict) -> dict:
    plover = doc.get("plover") or {}
    date = doc.get("date") or {}
    return {
        "id": doc["id"],
        "speaker_id": doc["speaker"]["id"],
        "speaker_name_en": doc["speaker"]["name_en"],
        "speaker_name_ar": doc["speaker"]["name_ar"],
        "event_id": doc["event"] if isinstance(doc["event"], str) or doc["event"] is None else doc["event"]["id"],
        "event_link": doc["event_link"],
        "mode": doc["mode"],
        "text_ar": doc["text_ar"],
        "text_en": doc["text_en"],
        "translation": doc["translation"],
        "attributed_via": join(p["id"] for p in doc["attributed_via"]),
        "topics": join(doc["topics"]),
        "cameo_code": doc["cameo"]["code"],
        "cameo_label": doc["cameo"]["label"],
        "cameo_root": doc["cameo"]["root"],
        "goldstein": doc["cameo"]["goldstein"],
        "quad_class": doc["cameo"].get("quad_class"),
        "plover_type": plover.get("type"),
        **actor_columns([doc["speaker"]], doc.get("addressees", [])),
        "span_start": doc["span"]["start"],
        "span_end": doc["span"]["end"],
        "reported_on": doc["reported_on"],
        "confidence": doc["confidence"],
        "source": doc["source"],
        # (after the columns CSVs had before: readers by position keep theirs)
        "date_start": date.get("start"),
        "date_end": date.get("end"),
        "date_precision": date.get("precision"),
        "evidence_ar": span_texts(doc.get("evidence") or []),
        "inferred_fields": join(entry["field"] for entry in doc["inferred"]),
        **curation_columns(doc),
        "cameo_root_label": doc["cameo"]["root_label"],
        "plover_mode": plover.get("mode"),
        "plover_context": join(plover.get("context") or []),
    }


def participant_row(doc: dict) -> dict:
    return {
        "id": doc["id"], "name_en": doc["name_en"], "name_ar": doc["name_ar"], "kind": doc["kind"],
        "country": doc["country"], "title_en": doc["title_en"], "title_ar": doc["title_ar"],
        "aliases": join(doc["aliases"]), "wikidata": doc["identifiers"]["wikidata"],
        "mention_count": doc["mention_count"], "event_count": doc["event_count"],
        "statement_count": doc["statement_count"], "confidence": doc["confidence"],
        "search_forms": join(doc.get("search_forms") or []), "actor_code": doc.get("actor_code"),
        **curation_columns(doc), "geonames": doc["identifiers"]["geonames"],
    }


def place_row(doc: dict) -> dict:
    return {
        "id": doc["id"], "name_en": doc["name_en"], "name_ar": doc["name_ar"], "kind": doc["kind"],
        "country": doc["country"], "lat": doc["lat"], "lon": doc["lon"], "aliases": join(doc["aliases"]),
        "geonames": doc["identifiers"]["geonames"], "mention_count": doc["mention_count"],
        "event_count": doc["event_count"], "confidence": doc["confidence"],
        "search_forms": join(doc.get("search_forms") or []), **curation_columns(doc),
    }


#: columns not named after the field they come from (the others: the field's name, or its name
#: in the singular and an underscore before the column's own: ``date_start``, ``participant_ids``)
COLUMN_FIELDS = {
    "goldstein": "cameo", "quad_class": "cameo",  # of the CAMEO code
    "wikidata": "identifiers", "geonames": "identifiers",
}
#: the same, for one kind of record only
KIND_COLUMN_FIELDS = {
    "statement": {"source_actor_ids": "speaker", "source_actor_codes": "speaker",
                  "target_actor_ids": "addressees", "target_actor_codes": "addressees"},
}


class ColumnChoice:
    """The CSV columns of the fields ``fields=`` asks for (and ``id``), worked out once per column
    name for a whole export: a column belongs to the field it is named after, the longest such
    field where several are (``source_actor_ids`` is of ``source_actors``, not of ``source``)."""

    def __init__(self, kind: str, wanted: list[str], field_names: tuple[str, ...]):
        self.wanted = {"id", *wanted}
        self.field_names = field_names
        self.owners = {**COLUMN_FIELDS, **KIND_COLUMN_FIELDS.get(kind, {})}
        self.kept: dict[str, bool] = {}

    def owner(self, column: str) -> str | None:
        if column in self.owners:
            return self.owners[column]
        if column in self.field_names:
            return column
        named = [field for field in self.field_names if column.startswith(field.removesuffix("s") + "_")]
        return max(named, key=len) if named else None

    def __call__(self, row: dict) -> dict:
        kept = self.kept
        chosen = {}
        for column, value in row.items():
            keep = kept.get(column)
            if keep is None:
                keep = kept[column] = self.owner(column) in self.wanted
            if keep:
                chosen[column] = value
        return chosen



"""CSV, NDJSON and GeoJSON renderings, streamed record by record.

Exports never hold more than one batch of records in memory: the rows come from
a keyset iterator and each record is written as soon as it is read.
"""
from __future__ import annotations

import csv
import io
import json

from .errors import Problem

MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "ndjson": "application/x-ndjson",
    "geojson": "application/geo+json",
}
ACCEPT_TO_FORMAT = {
    "application/json": "json",
    "text/csv": "csv",
    "application/x-ndjson": "ndjson",
    "application/ndjson": "ndjson",
    "application/geo+json": "geojson",
}


def negotiate(explicit: str | None, accept_header: str, allowed: tuple[str, ...]) -> str:
    """The format asked for by ?format=, else by Accept; JSON by default."""
    if explicit:
        if explicit not in allowed:
            raise Problem(400, f"format '{explicit}' is not available here; available: {', '.join(allowed)}",
                          {"format": [f"must be one of: {', '.join(allowed)}"]})
        return explicit
    if not accept_header:
        return "json"
    choices = []
    for position, part in enumerate(accept_header.split(",")[:20]):
        media, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        choices.append((-quality, position, media.strip().lower()))
    for negative_quality, _, media in sorted(choices):
        if negative_quality == 0:
            continue
        if media in ("*/*", "application/*", "") or media == "application/problem+json":
            return "json"
        fmt = ACCEPT_TO_FORMAT.get(media)
        if fmt in allowed:
            return fmt
    raise Problem(406, f"None of the media types in Accept can be served here; available: "
                       f"{', '.join(MEDIA_TYPES[f].split(';')[0] for f in allowed)} (or use ?format=)")


def _join(values) -> str:
    return ";".join("" if v is None else str(v) for v in values)


def _span_texts(spans) -> str:
    return " … ".join(s["text"] for s in spans)


def event_row(doc: dict) -> dict:
    place = doc.get("place") or {}
    date = doc["date"]
    plover = doc.get("plover") or {}
    return {
        "id": doc["id"],
        "title_en": doc["title_en"],
        "summary_en": doc["summary_en"],
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
        "plover_type": plover.get("type"),
        "plover_mode": plover.get("mode"),
        "place_id": place.get("id"),
        "place_name_en": place.get("name_en"),
        "place_name_ar": place.get("name_ar"),
        "place_country": place.get("country"),
        "place_lat": place.get("lat"),
        "place_lon": place.get("lon"),
        "participant_ids": _join(p["participant"]["id"] for p in doc["participants"]),
        "participant_names_en": _join(p["participant"]["name_en"] for p in doc["participants"]),
        "participant_names_ar": _join(p["participant"]["name_ar"] for p in doc["participants"]),
        "participant_roles": _join(p["role"] for p in doc["participants"]),
        "topics": _join(doc["topics"]),
        "statement_ids": _join(s if isinstance(s, str) else s["id"] for s in doc["statements"]),
        "evidence_ar": _span_texts(doc["evidence"]),
        "quantities": _join(f'{q["value"]} {q["unit"]}' for q in doc.get("quantities", [])),
        "confidence": doc["confidence"],
        "source": doc["source"],
    }


def statement_row(doc: dict) -> dict:
    plover = doc.get("plover") or {}
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
        "attributed_via": _join(p["id"] for p in doc["attributed_via"]),
        "topics": _join(doc["topics"]),
        "cameo_code": doc["cameo"]["code"],
        "cameo_label": doc["cameo"]["label"],
        "cameo_root": doc["cameo"]["root"],
        "plover_type": plover.get("type"),
        "span_start": doc["span"]["start"],
        "span_end": doc["span"]["end"],
        "reported_on": doc["reported_on"],
        "confidence": doc["confidence"],
        "source": doc["source"],
    }


def participant_row(doc: dict) -> dict:
    return {
        "id": doc["id"], "name_en": doc["name_en"], "name_ar": doc["name_ar"], "kind": doc["kind"],
        "country": doc["country"], "title_en": doc["title_en"], "title_ar": doc["title_ar"],
        "aliases": _join(doc["aliases"]), "wikidata": doc["identifiers"]["wikidata"],
        "mention_count": doc["mention_count"], "event_count": doc["event_count"],
        "statement_count": doc["statement_count"], "confidence": doc["confidence"],
    }


def place_row(doc: dict) -> dict:
    return {
        "id": doc["id"], "name_en": doc["name_en"], "name_ar": doc["name_ar"], "kind": doc["kind"],
        "country": doc["country"], "lat": doc["lat"], "lon": doc["lon"], "aliases": _join(doc["aliases"]),
        "geonames": doc["identifiers"]["geonames"], "mention_count": doc["mention_count"],
        "event_count": doc["event_count"], "confidence": doc["confidence"],
    }


ROW_FLATTENERS = {"events": event_row, "statements": statement_row, "participants": participant_row, "places": place_row}


def csv_stream(rows):
    """CSV with a UTF-8 BOM (so spreadsheets read the Arabic) and a header row."""
    buffer = io.StringIO()
    writer = None
    yield "\ufeff".encode("utf-8")
    for row in rows:
        if writer is None:
            writer = csv.DictWriter(buffer, fieldnames=list(row), lineterminator="\r\n")
            writer.writeheader()
        writer.writerow(row)
        if buffer.tell() > 64_000:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def csv_table(header: list[str], rows):
    """CSV of fixed columns (for stats), same conventions as csv_stream."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return "\ufeff" + buffer.getvalue()


def ndjson_stream(raw_docs):
    """One stored JSON document per line, as stored (no re-serialisation)."""
    batch = []
    for doc in raw_docs:
        batch.append(doc)
        if len(batch) >= 500:
            yield ("\n".join(batch) + "\n").encode("utf-8")
            batch = []
    if batch:
        yield ("\n".join(batch) + "\n").encode("utf-8")


def geojson_feature(doc: dict) -> dict | None:
    place = doc.get("place")
    if not place or place.get("lat") is None or place.get("lon") is None:
        return None
    properties = event_row(doc)
    return {
        "type": "Feature",
        "id": doc["id"],
        "geometry": {"type": "Point", "coordinates": [place["lon"], place["lat"]]},  # RFC 7946: lon, lat
        "properties": properties,
    }


def geojson_stream(docs, meta: dict):
    yield b'{"type":"FeatureCollection","features":['
    first = True
    for doc in docs:
        feature = geojson_feature(doc)
        if feature is None:
            continue
        yield (("" if first else ",") + json.dumps(feature, ensure_ascii=False, separators=(",", ":"))).encode("utf-8")
        first = False
    yield ('],"meta":' + json.dumps(meta, ensure_ascii=False) + "}").encode("utf-8")

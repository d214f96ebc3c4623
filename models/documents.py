"""The public JSON form of each record, rendered once at load time.

The API serves these documents as they are (and embeds the summaries), so the
request path never rebuilds them. ``api/schemas.py`` describes the same shapes
for the OpenAPI document; a test checks every stored document against it.
"""
from __future__ import annotations

import json

from .vocabulary import quad_class

#: Mentions listed inline on a participant or place; the rest are counted.
MENTIONS_INLINE = 200


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# --------------------------------------------------------------------------- a record's stored text

#: Between the top-level members of a record's stored text (event, statement, participant,
#: place), and nowhere else: JSON escapes the line breaks inside strings and the encoder adds
#: none. So each member is a fragment that an answer can leave out or replace without decoding
#: the document (api/splice.py), and removing the breaks gives the compact JSON that is served.
MEMBER_BREAK = ",\n"

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def record_text(doc: dict) -> str:
    """A record's document as stored: compact JSON with a line break after each member's comma."""
    return "{" + MEMBER_BREAK.join(f'"{name}":{_encode(value)}' for name, value in doc.items()) + "}"


def members(text: str) -> dict[str, str]:
    """The members of a stored record text by name, in order: ``{"id": '"id":"x"', …}``."""
    return {member[1:member.index('"', 1)]: member for member in text[1:-1].split(MEMBER_BREAK)}


def joined(parts) -> str:
    """A JSON object of member fragments (compact)."""
    return "{" + ",".join(parts) + "}"


def compact(text: str) -> str:
    """A stored record text as served: the member breaks removed (the only line breaks in it)."""
    return text.replace("\n", "")


def span(source_id: str, raw: dict) -> dict:
    return {"source": source_id, "start": raw["start"], "end": raw["end"], "text": raw["text"]}


def cameo(entry: dict, root: dict) -> dict:
    return {
        "code": entry["code"],
        "label": entry["label"],
        "root": root["code"],
        "root_label": root["label"],
        "goldstein": entry.get("goldstein"),
        "quad_class": quad_class(entry["code"]),
    }


def plover(type_: str | None, mode: str | None, context=()) -> dict | None:
    return {"type": type_, "mode": mode, "context": list(context)} if type_ else None


def participant_summary(record: dict) -> dict:
    return {
        "id": record["id"],
        "name_en": record["name_en"],
        "name_ar": record["name_ar"],
        "kind": record["kind"],
        "country": record["country"],
        "actor_code": record.get("actor_code"),
    }


def place_summary(record: dict) -> dict:
    return {
        "id": record["id"],
        "name_en": record["name_en"],
        "name_ar": record["name_ar"],
        "country": record["country"],
        "lat": record["lat"],
        "lon": record["lon"],
    }


def curation(record: dict) -> dict:
    return {
        "confidence": record["confidence"],
        "codebook_version": record["codebook_version"],
        "notes": record["notes"],
    }


def participant(record: dict, mentions: list[dict], counts: dict) -> dict:
    return {
        **participant_summary(record),
        "aliases": record["aliases"],
        "search_forms": record["search_forms"],
        "title_en": record["title_en"],
        "title_ar": record["title_ar"],
        "roles_at_sources": record.get("roles_at_sources", []),
        "identifiers": record["identifiers"],
        "mentions": mentions[:MENTIONS_INLINE],
        "mention_count": len(mentions),
        "event_count": counts.get("events", 0),
        "statement_count": counts.get("statements", 0),
        **curation(record),
    }


def embedded(doc: dict) -> dict:
    """A participant or place as embedded in other records: without its mentions (a popular
    actor has thousands; its count stays, the spans are at /v1/participants/{id})."""
    return {key: value for key, value in doc.items() if key != "mentions"}


def place(record: dict, mentions: list[dict], counts: dict) -> dict:
    return {
        **place_summary(record),
        "aliases": record["aliases"],
        "search_forms": record["search_forms"],
        "kind": record["kind"],
        "identifiers": record["identifiers"],
        "mentions": mentions[:MENTIONS_INLINE],
        "mention_count": len(mentions),
        "event_count": counts.get("events", 0),
        **curation(record),
    }


def event(record: dict, *, source_id, cameo_doc, plover_doc, place_doc, participants, statement_ids,
          actors=None) -> dict:
    """``actors``: {"source_actors": [summary], "target_actors": [summary]}."""
    date = record["date"]
    return {
        "id": record["id"],
        "title_en": record["title_en"],
        "summary_en": record["summary_en"],
        "title_ar": record.get("title_ar"),
        "summary_ar": record.get("summary_ar"),
        "cameo": cameo_doc,
        "plover": plover_doc,
        "status": record["status"],
        "date": {
            "start": date["start"].isoformat() if date["start"] else None,
            "end": date["end"].isoformat() if date["end"] else None,
            "precision": date["precision"],
            "expression": span(source_id, date["expression"]) if date["expression"] else None,
            "resolution": date["resolution"],
        },
        "place": place_doc,
        "participants": participants,
        "source_actors": (actors or {}).get("source_actors", []),
        "target_actors": (actors or {}).get("target_actors", []),
        "inferred": record.get("inferred", []),
        "topics": record["topics"],
        "evidence": [span(source_id, s) for s in record["evidence"]],
        "quantities": [
            {"value": int(q["value"]) if q["value"].is_integer() else q["value"], "unit": q["unit"],
             "span": span(source_id, q["span"])}
            for q in record["quantities"]
        ],
        "statements": statement_ids,
        **curation(record),
        "source": source_id,
    }


def date_doc(source_id: str, date: dict | None) -> dict | None:
    if date is None:
        return None
    return {
        "start": date["start"].isoformat() if date["start"] else None,
        "end": date["end"].isoformat() if date["end"] else None,
        "precision": date["precision"],
        "expression": span(source_id, date["expression"]) if date["expression"] else None,
        "resolution": date["resolution"],
    }


def statement(record: dict, *, source_id, speaker, attributed_via, cameo_doc, plover_doc, reported_on,
              addressees=()) -> dict:
    return {
        "id": record["id"],
        "speaker": speaker,
        "event": record["event"],
        "event_link": record["event_link"],
        "text_ar": record["span"]["text"],
        "text_en": record["text_en"],
        "translation": record["translation"],
        "mode": record["mode"],
        "attributed_via": attributed_via,
        "addressees": list(addressees),
        "topics": record["topics"],
        "cameo": cameo_doc,
        "plover": plover_doc,
        "span": span(source_id, record["span"]),
        "evidence": [span(source_id, s) for s in record["evidence"]],
        "reported_on": reported_on,
        "date": date_doc(source_id, record.get("date")),
        "inferred": record.get("inferred", []),
        **curation(record),
        "source": source_id,
    }


def source(meta: dict, source_id: str, counts: dict) -> dict:
    return {
        "id": source_id,
        "publisher": meta["publisher"],
        "publisher_ar": meta["publisher_ar"],
        "title": meta["title"],
        "published_at": meta["published_at"].isoformat(),
        "language": meta["language"],
        "url": meta["url"],
        "sha256": meta["sha256"],
        "event_count": counts.get("events", 0),
        "statement_count": counts.get("statements", 0),
    }


def cameo_type(entry: dict, root: dict, counts: dict) -> dict:
    return {
        **cameo(entry, root),
        "plover": plover(entry["plover_type"], entry["plover_mode"], entry.get("plover_context", [])),
        "event_count": counts.get("events", 0),
        "statement_count": counts.get("statements", 0),
    }

"""Output formats: one registry of renderers, negotiated from ``?format=`` or ``Accept``.

A renderer turns a stream of records into the bytes of one representation, a
batch at a time, so an export never holds more than one batch in memory. JSON
pages are built by the views (api/envelope.py); the other formats stream every
matching record. A new format is one :class:`Renderer` passed to :func:`register`.
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass

from .errors import Problem

BATCH = 500


@dataclass(frozen=True)
class Renderer:
    name: str
    media_type: str  # with its parameters, as sent in Content-Type
    extension: str
    accepts: tuple[str, ...]  # media types in Accept that choose it
    description: str = ""

    @property
    def bare_type(self) -> str:
        return self.media_type.split(";")[0]

    def render(self, records, *, flatten=None, meta=None, columns=None):
        """The body: ``records`` are stored JSON strings when :attr:`raw`, else dicts; ``columns()``
        gives the CSV's header when no record comes."""
        raise NotImplementedError

    #: takes the stored JSON documents as they are (no decoding)
    raw = False


class NDJSON(Renderer):
    raw = True

    def render(self, records, *, flatten=None, meta=None, columns=None):
        """One JSON record per line, as stored (no re-serialisation)."""
        batch = []
        for record in records:
            batch.append(record)
            if len(batch) >= BATCH:
                yield ("\n".join(batch) + "\n").encode("utf-8")
                batch = []
        if batch:
            yield ("\n".join(batch) + "\n").encode("utf-8")


class CSV(Renderer):
    def render(self, records, *, flatten=None, meta=None, columns=None):
        """CSV with a UTF-8 BOM (so spreadsheets read the Arabic) and a header row, also when no
        record matched (``columns()``: a reader of an empty answer still learns its columns)."""
        buffer = io.StringIO()
        writer = None
        yield "\ufeff".encode("utf-8")
        for record in records:
            row = flatten(record)
            if writer is None:
                writer = csv.DictWriter(buffer, fieldnames=list(row), lineterminator="\r\n")
                writer.writeheader()
            writer.writerow(row)
            if buffer.tell() > 64_000:
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
        if writer is None and columns is not None:
            header = columns()
            if header:
                csv.writer(buffer, lineterminator="\r\n").writerow(header)
        yield buffer.getvalue().encode("utf-8")


class GeoJSON(Renderer):
    def render(self, records, *, flatten=None, meta=None, columns=None):
        """An RFC 7946 FeatureCollection of the events that have coordinates."""
        yield b'{"type":"FeatureCollection","features":['
        first = True
        for record in records:
            feature = geojson_feature(record, flatten)
            if feature is None:
                continue
            yield (("" if first else ",") + json.dumps(feature, ensure_ascii=False, separators=(",", ":"))).encode("utf-8")
            first = False
        yield ('],"meta":' + json.dumps(meta, ensure_ascii=False) + "}").encode("utf-8")


RENDERERS: dict[str, Renderer] = {}


def register(renderer: Renderer) -> Renderer:
    RENDERERS[renderer.name] = renderer
    return renderer


register(Renderer("json", "application/json", "json", ("application/json", "application/problem+json"), "JSON."))
register(CSV("csv", "text/csv; charset=utf-8", "csv", ("text/csv",),
             "CSV with a UTF-8 BOM and a header row; nested fields flattened."))
register(NDJSON("ndjson", "application/x-ndjson", "ndjson", ("application/x-ndjson", "application/ndjson"),
                "One JSON record per line."))
register(GeoJSON("geojson", "application/geo+json", "geojson", ("application/geo+json",),
                 "RFC 7946 FeatureCollection of the records that have coordinates."))

#: kept for callers that only need the Content-Type of a format
MEDIA_TYPES = {name: renderer.media_type for name, renderer in RENDERERS.items()}


_QVALUE = re.compile(r"^(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$")
#: media ranges that match every type (an empty one, as in ``Accept: ,``, is taken as ``*/*``)
ANYTHING = ("*/*", "")


def _ranges(accept_header: str) -> list[tuple[str, float, int]]:
    """(media range, qvalue, position) of an Accept header, q=0 ones included: a more specific range
    with q=0 rules a type out however a wildcard rates it (RFC 9110 12.5.1). A malformed qvalue
    (q=nan, q=1e999, q=2) counts 0 (12.4.2: 0 to 1 with at most three decimals)."""
    ranges = []
    for position, part in enumerate(accept_header.split(",")[:20]):
        media, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                quality = float(value) if _QVALUE.match(value.strip()) else 0.0
        ranges.append((media.strip().lower(), quality, position))
    return ranges


def accepted(accept_header: str) -> list[str]:
    """The acceptable media ranges of an Accept header (q > 0), best first."""
    return [media for media, quality, position in sorted(_ranges(accept_header), key=lambda r: (-r[1], r[2]))
            if quality > 0]


def _rating(renderer: Renderer, ranges: list) -> tuple[float, int] | None:
    """(qvalue, position) of the most specific range matching the renderer's types (its exact type,
    then its ``type/*``, then ``*/*``), or None when no range matches it."""
    wildcard = renderer.bare_type.split("/")[0] + "/*"
    for matches in (lambda media: media in renderer.accepts, lambda media: media == wildcard,
                    lambda media: media in ANYTHING):
        rated = [(quality, position) for media, quality, position in ranges if matches(media)]
        if rated:
            return max(rated, key=lambda rating: (rating[0], -rating[1]))
    return None


def preference(accept_header: str) -> str:
    """The formats an Accept header makes acceptable, best first, up to JSON (which every endpoint
    serves): all that negotiation can depend on, whatever the header's spelling or length. Ties go
    to the range named first, then to the registry's order (JSON first: what ``*/*`` gets)."""
    if not accept_header:
        return "json"
    ranges = _ranges(accept_header)
    rated = []
    for order, (name, renderer) in enumerate(RENDERERS.items()):
        rating = _rating(renderer, ranges)
        if rating is not None and rating[0] > 0:
            rated.append((-rating[0], rating[1], order, name))
    names = []
    for *_, name in sorted(rated):
        names.append(name)
        if name == "json":
            break
    return ",".join(names) or "none"


def negotiate(explicit: str | None, accept_header: str, allowed: tuple[str, ...]) -> str:
    """The format asked for by ?format=, else by Accept; JSON by default."""
    if explicit:
        if explicit not in allowed:
            raise Problem(400, f"format '{explicit}' is not available here; available: {', '.join(allowed)}",
                          {"format": [f"must be one of: {', '.join(allowed)}"]})
        return explicit
    for name in preference(accept_header).split(","):
        if name in allowed:
            return name
    raise Problem(406, f"None of the media types in Accept can be served here; available: "
                       f"{', '.join(RENDERERS[f].bare_type for f in allowed)} (or use ?format=)")


def json_only() -> None:
    """(An endpoint with no other representation.) A 406 when Accept rules out JSON, as the
    endpoints with exports answer: one behaviour for every endpoint, before any work."""
    from flask import request

    negotiate(None, request.headers.get("Accept", ""), ("json",))


def csv_table(header: list[str], rows) -> str:
    """CSV of fixed columns (for stats), same conventions as the CSV renderer."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return "\ufeff" + buffer.getvalue()


def geojson_feature(doc: dict, flatten) -> dict | None:
    """The record as a Feature at its place (None without coordinates); its properties are its CSV
    columns (``flatten``, as the CSV renderer's: those of the fields asked for)."""
    place = doc.get("place")
    if not place or place.get("lat") is None or place.get("lon") is None:
        return None
    return {
        "type": "Feature",
        "id": doc["id"],
        "geometry": {"type": "Point", "coordinates": [place["lon"], place["lat"]]},  # RFC 7946: lon, lat
        "properties": flatten(doc),
    }

"""/v1/sources/{id} (the text, with a record's spans marked) and /v1/event-types.

The list of sources is the generic collection (api/resources.py).
"""
from __future__ import annotations

from html import escape

from flask.views import MethodView

from models import changes, queries

from .. import formats
from ..envelope import envelope, page
from ..errors import Problem, bad_parameter
from ..param_fields import record_id
from ..params import NoArgs, QuerySchema
from ..schemas import EventTypePage, SourceOne
from .blueprints import Blueprint

blp = Blueprint("source-texts", __name__, url_prefix="/v1",
                description="The source texts, verbatim, with any record's spans marked; the CAMEO codes in use.")

SPAN_ROLES = (("evidence", "evidence"), ("mentions", "mention"), ("span", "quote"))


def spans_of(kind: str, doc: dict, source_id: str) -> list[dict]:
    """Every span of a record in one source, with what it is (evidence, mention, quote, date)."""
    found = []
    for key, role in SPAN_ROLES:
        value = doc.get(key)
        for span in ([value] if isinstance(value, dict) else value or []):
            if span and span.get("source") == source_id:
                found.append({"start": span["start"], "end": span["end"], "text": span["text"], "role": role})
    for quantity in doc.get("quantities") or []:
        if quantity["span"]["source"] == source_id:
            found.append({**{k: quantity["span"][k] for k in ("start", "end", "text")}, "role": "quantity"})
    expression = (doc.get("date") or {}).get("expression")
    if expression and expression["source"] == source_id:
        found.append({**{k: expression[k] for k in ("start", "end", "text")}, "role": "date_expression"})
    return sorted(found, key=lambda s: (s["start"], s["end"]))


def marked(text: str, spans: list[dict]) -> str:
    """The text, HTML-escaped, with <mark> around the spans (overlaps merged)."""
    merged: list[list[int]] = []
    for span in spans:
        if merged and span["start"] <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], span["end"])
        else:
            merged.append([span["start"], span["end"]])
    out, position = [], 0
    for start, end in merged:
        out.append(escape(text[position:start]))
        out.append("<mark>" + escape(text[start:end]) + "</mark>")
        position = end
    out.append(escape(text[position:]))
    return "".join(out)


class SourceArgs(QuerySchema):
    highlight = record_id("Id of an event, statement, participant or place: its spans in this source are returned "
                          "in data.highlights and marked in data.text_marked.")


@blp.route("/sources/<source_id:source_id>")
class SourceById(MethodView):
    @blp.arguments(SourceArgs, location="query", as_kwargs=False)
    @blp.response(200, SourceOne)
    @blp.problems(400, 404, 406)
    def get(self, args, source_id):
        """One source with its full text

        `?highlight=<record id>` returns that record's spans in this text
        (`data.highlights`) and the text with `<mark>` around them (`data.text_marked`).
        """
        formats.json_only()
        found = queries.source_text(source_id)
        if found is None:
            raise Problem(404, f"No source with id '{source_id}'.")
        doc, text = found
        changes.add_releases("source", doc)
        doc["text"] = text
        if args.get("highlight"):
            doc.update(highlighted(args["highlight"], source_id, text))
        return envelope(doc)


def highlighted(record_id: str, source_id: str, text: str) -> dict:
    record = queries.record_spans(record_id)
    if record is None:
        # a bad value of a parameter, not a missing source: a client must not take it for one
        raise bad_parameter("highlight", f"no event, statement, participant or place has the id '{record_id}' (it "
                                         "may have been removed in a later release); give the id of a record")
    kind, record_doc = record
    spans = spans_of(kind, record_doc, source_id)
    return {"highlight": {"kind": kind, "id": record_id}, "highlights": spans, "text_marked": marked(text, spans)}


@blp.route("/event-types")
class EventTypes(MethodView):
    @blp.arguments(NoArgs, location="query", as_kwargs=False)
    @blp.response(200, EventTypePage)
    @blp.problems(400, 406)
    def get(self, args):
        """The CAMEO codes in use, with labels, roots, PLOVER types and counts (for legends)"""
        formats.json_only()
        types = queries.event_types()
        return page(types, len(types), len(types))

"""/v1/search: one ranked search across events, statements, participants and places."""
from __future__ import annotations

import re

from flask import current_app, request
from flask.views import MethodView
from marshmallow import fields, validate

from models import gazetteer, queries, search
from models.records import Event, Participant, Place, Statement
from models.vocabulary import MAX_QUERY_LENGTH

from .. import database, formats, pagination
from ..errors import bad_parameter
from ..envelope import page
from ..param_fields import CommaList, StrictInteger, text
from ..params import CURSOR_ERROR, CURSOR_PATTERN, QuerySchema, search_query
from ..schemas import Base, LinksSchema, SearchedListMetaSchema, ignored_words, one_of
from .blueprints import Blueprint

blp = Blueprint("search", __name__, url_prefix="/v1",
                description="Full-text search in Arabic and English; spelling variants and clitics unified.")

MODELS = {"event": Event, "statement": Statement, "participant": Participant, "place": Place}
# the fields of each kind whose words can be highlighted: (Arabic, English, either); a query in Arabic
# script tries the Arabic ones first, one in Latin script the English ones, so a hit's snippet is in
# the language asked in wherever the record has it (the source's own words, the evidence, before the
# curator's Arabic)
SNIPPET_FIELDS = {
    "event": (("evidence", "title_ar", "summary_ar"), ("title_en", "summary_en"), ()),
    "statement": (("text_ar", "evidence"), ("text_en",), ()),  # evidence is indexed too (models/search.py)
    "participant": (("name_ar", "title_ar"), ("name_en", "title_en"), ("aliases", "search_forms")),
    "place": (("name_ar",), ("name_en",), ("aliases", "search_forms")),
}
_ARABIC_LETTER = re.compile(r"[\u0620-\u064A\u066E-\u06D3\u06FA-\u06FF]")
_LATIN_LETTER = re.compile(r"[A-Za-z\u00C0-\u024F]")
SNIPPET_RADIUS = 80


class SearchArgs(QuerySchema):
    q = text(MAX_QUERY_LENGTH, 'Words (all must match), "a phrase", -excluded. Arabic spelling variants, '
             'harakat and proclitics (و ف ب ل ال …) are unified; words match as prefixes.', required=True)
    kind = CommaList(search.KINDS, "Restrict to these kinds (repeatable, as every list parameter).")
    limit = StrictInteger(load_default=20, validate=validate.Range(1, 100),
                          metadata={"description": "Hits per page (1–100, default 20)."})
    cursor = fields.String(validate=validate.Regexp(CURSOR_PATTERN, error=CURSOR_ERROR), metadata={
        "description": "Where the next page starts: `meta.next_cursor` of the page before (signed; valid for the same "
                       "`q` and `kind`)."})


class MatchSchema(Base):
    start = fields.Integer()
    end = fields.Integer()


class SnippetSchema(Base):
    field = fields.String(metadata={"description": "The record field the snippet comes from."})
    text = fields.String(metadata={"description": "An excerpt of the field, in its original spelling."})
    offset = fields.Integer(metadata={"description": "Where the excerpt starts in the field."})
    matches = fields.List(fields.Nested(MatchSchema), metadata={"description": "Matched words, as offsets into `text`."})


class HitSchema(Base):
    kind = one_of(search.KINDS)
    id = fields.String()
    score = fields.Float(metadata={"description": (
        "1 when every word matched as written (or as a name of an entity it names), 0.5 when some word "
        "matched only through its stem or a demonym. Hits are ordered by score, then newest first, then "
        "kind and id: the same order on every backend.")})
    title = fields.String()
    snippet = fields.Nested(SnippetSchema, allow_none=True)


class SearchMetaSchema(SearchedListMetaSchema):
    ignored_words = ignored_words(required=True)  # (said on every search)


SearchPage = Base.from_dict({
    "data": fields.List(fields.Nested(HitSchema)),
    "meta": fields.Nested(SearchMetaSchema),
    "links": fields.Nested(LinksSchema),
}, name="SearchPage")


def snippet_fields(kind: str, query: search.Query) -> tuple[str, ...]:
    """The fields of ``kind`` in the order their snippets are preferred for this query."""
    arabic, english, either = SNIPPET_FIELDS[kind]
    words = " ".join(query.positive)
    if len(_LATIN_LETTER.findall(words)) > len(_ARABIC_LETTER.findall(words)):
        return english + either + arabic
    return arabic + either + english


def best_marks(doc: dict, kind: str, query: search.Query, named: search.Names) -> tuple | None:
    """(field, text, marks) of the text that shows the most of the query's words (ties: the field
    of the query's language first), or None when no field has a mark."""
    wanted = len(set(query.positive)) or 1
    best, shown_best = None, 0
    for name in snippet_fields(kind, query):
        value = doc.get(name)
        texts = [s["text"] for s in value] if name == "evidence" else value if isinstance(value, list) else [value]
        for value_text in texts:
            marks, shown = search.highlight_covering(value_text, query, named)
            if marks and shown > shown_best:
                best, shown_best = (name, value_text, marks), shown
                if shown >= wanted:
                    return best
    return best


def snippet(doc: dict, kind: str, query: search.Query, named: search.Names) -> dict | None:
    """The excerpt around the marks of :func:`best_marks`' text, or None."""
    found = best_marks(doc, kind, query, named)
    if found is None:
        return None
    name, value_text, marks = found
    start = max(0, marks[0]["start"] - SNIPPET_RADIUS)
    end = min(len(value_text), marks[-1]["end"] + SNIPPET_RADIUS)
    return {
        "field": name,
        "text": value_text[start:end],
        "offset": start,
        "matches": [{"start": m["start"] - start, "end": m["end"] - start} for m in marks if m["end"] <= end],
    }


def title_of(kind: str, doc: dict) -> str:
    if kind == "event":
        return doc["title_en"]
    if kind == "statement":
        return f'{doc["speaker"]["name_en"]}: {doc["text_en"][:120]}'
    return f'{doc["name_en"]} ({doc["name_ar"]})'


@blp.route("/search")
class Search(MethodView):
    @blp.arguments(SearchArgs, location="query", as_kwargs=False)
    @blp.response(200, SearchPage)
    @blp.problems(400, 406, 409)
    def get(self, args):
        """Search every kind of record, best matches first

        Each hit has its kind, id, a score and a snippet whose `matches` point
        at the matched words in the original spelling. Paged like every
        collection: `meta.next_cursor` and `links.next` lead to the last of the
        `meta.total` hits.
        """
        formats.json_only()
        query = search_query(args["q"])
        kinds = tuple(args.get("kind") or search.KINDS)
        scope = {"q": args["q"], "kind": sorted(kinds)}
        after = position_of(args.get("cursor"), scope)  # (before any SQL: a cursor of another query is a 400 at once)
        select = search.ranked_matches(query, kinds)
        total = select.count()
        hits, next_cursor = page_of_hits(select, scope, after, args["limit"])
        by_kind: dict[str, list[str]] = {}
        for hit in hits:
            by_kind.setdefault(hit["kind"], []).append(hit["record_id"])
        docs = {kind: queries.docs_by_id(MODELS[kind], ids) for kind, ids in by_kind.items()}
        named = search.Names(gazetteer.gazetteer_for(database.version(), queries.entity_names).named_by(query))
        data = []
        for hit in hits:
            doc = docs[hit["kind"]].get(hit["record_id"])
            if doc is not None:
                data.append({
                    "kind": hit["kind"],
                    "id": hit["record_id"],
                    "score": 1.0 if hit["rank"] == 0 else 0.5,
                    "title": title_of(hit["kind"], doc),
                    "snippet": snippet(doc, hit["kind"], query, named),
                })
        return page(data, total, args["limit"], next_cursor)  # (with meta.ignored_words: api/envelope.py)


#: the order of hits (the cursor's sort name: models.search.ranked_page)
ORDER = "rank,-date,kind,id"


def _secret() -> bytes:
    return current_app.config["CURSOR_SECRET"].encode()


def position_of(cursor: str | None, scope: dict) -> list | None:
    """Where the page after ``cursor`` starts (a cursor of the same ``scope``: q and kinds), or None."""
    if not cursor:
        return None
    after = pagination.decode(_secret(), cursor, request.path, ORDER, scope, len(search.HIT_KEY),
                              database.served())
    if after[0] not in ("0", "1"):  # (a rank: a cursor signed with the secret is still checked)
        raise bad_parameter("cursor", "does not fit this sort order")
    return [int(after[0]), *after[1:]]


def page_of_hits(select, scope: dict, after: list | None, limit: int) -> tuple[list[dict], str | None]:
    """The hits of a page (after ``after``: :func:`position_of`) and the cursor of the next page,
    None after the last."""
    hits = search.ranked_page(select, after, limit + 1)
    if len(hits) <= limit:
        return hits, None
    key = [str(hits[limit - 1][name]) for name in search.HIT_KEY]
    return hits[:limit], pagination.encode(_secret(), request.path, ORDER, scope, key, database.served())

"""/v1/statements"""
from __future__ import annotations

from flask.views import MethodView

from models import queries
from models.records import Event, Participant, Statement

from ..params import SingleStatementArgs, StatementListArgs
from ..schemas import StatementOne, StatementPage
from .blueprints import Blueprint
from .common import listing, one

blp = Blueprint("statements", __name__, url_prefix="/v1/statements",
                description="Quoted and reported statements: verbatim Arabic, English translation, speaker, provenance.")


def embed(include: list[str]):
    if not include:
        return None

    def transform(docs: list[dict]) -> list[dict]:
        if "event" in include:
            events = queries.docs_by_id(Event, [d["event"] for d in docs if d["event"]])
            for doc in docs:
                if doc["event"]:
                    doc["event"] = events.get(doc["event"], doc["event"])
        if "speaker" in include:
            people = queries.docs_by_id(Participant, [d["speaker"]["id"] for d in docs], Participant.embedded)
            for doc in docs:
                doc["speaker"] = people.get(doc["speaker"]["id"], doc["speaker"])
        return docs

    return transform


@blp.route("")
class Statements(MethodView):
    @blp.arguments(StatementListArgs, location="query", as_kwargs=False)
    @blp.response(200, StatementPage)
    @blp.problems(400, 406)
    @blp.formats("csv", "ndjson")
    def get(self, args):
        """List statements

        Sorted by the day they were reported (`date`), ties broken by id.
        """
        return listing("statements", args, queries.statement_select, Statement, transform=embed(args.get("include")))


@blp.route("/<record_id:statement_id>")
class StatementById(MethodView):
    @blp.arguments(SingleStatementArgs, location="query", as_kwargs=False)
    @blp.response(200, StatementOne)
    @blp.problems(400, 404)
    def get(self, args, statement_id):
        """One statement"""
        doc = queries.doc_of(Statement, statement_id)
        transform = embed(args.get("include"))
        if doc is not None and transform:
            doc = transform([doc])[0]
        return one(doc, "statement", statement_id, args.get("fields_"))

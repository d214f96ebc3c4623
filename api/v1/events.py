"""/v1/events"""
from __future__ import annotations

from flask.views import MethodView

from models import queries
from models.records import Event, Participant, Place, Statement

from ..params import EventListArgs, SingleEventArgs
from ..schemas import EventOne, EventPage
from .blueprints import Blueprint
from .common import EVENT_FORMATS, listing, one

blp = Blueprint("events", __name__, url_prefix="/v1/events",
                description="Events: meetings, visits, signings, planned talks and background events, each with its evidence.")


def embed(include: list[str]):
    """A function that adds the full related records to a batch of event documents."""
    if not include:
        return None

    def transform(docs: list[dict]) -> list[dict]:
        if "statements" in include:
            statements = queries.docs_by_id(Statement, [s for d in docs for s in d["statements"]])
            for doc in docs:
                doc["statements"] = [statements[s] for s in doc["statements"] if s in statements]
        if "participants" in include:
            people = queries.docs_by_id(Participant, [p["participant"]["id"] for d in docs for p in d["participants"]],
                                         Participant.embedded)
            for doc in docs:
                for link in doc["participants"]:
                    link["participant"] = people.get(link["participant"]["id"], link["participant"])
        if "place" in include:
            places = queries.docs_by_id(Place, [d["place"]["id"] for d in docs if d["place"]], Place.embedded)
            for doc in docs:
                if doc["place"]:
                    doc["place"] = places.get(doc["place"]["id"], doc["place"])
        return docs

    return transform


@blp.route("")
class Events(MethodView):
    @blp.arguments(EventListArgs, location="query", as_kwargs=False)
    @blp.response(200, EventPage)
    @blp.problems(400, 406)
    @blp.formats("csv", "ndjson", "geojson")
    def get(self, args):
        """List events

        Filters combine with AND. Pages are keyset-paginated: follow
        `links.next` (or pass `meta.next_cursor` as `cursor`); a deep page costs
        the same as the first. `format=csv|ndjson|geojson` (or the Accept
        header) exports every matching event in one streamed download.
        """
        return listing("events", args, queries.event_listing, Event, allowed_formats=EVENT_FORMATS,
                       transform=embed(args.get("include")), count=queries.event_total)


@blp.route("/<record_id:event_id>")
class EventById(MethodView):
    @blp.arguments(SingleEventArgs, location="query", as_kwargs=False)
    @blp.response(200, EventOne)
    @blp.problems(400, 404)
    def get(self, args, event_id):
        """One event, with its participants, place, evidence and statement ids"""
        doc = queries.doc_of(Event, event_id)
        transform = embed(args.get("include"))
        if doc is not None and transform:
            doc = transform([doc])[0]
        return one(doc, "event", event_id, args.get("fields_"))

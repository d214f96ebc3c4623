"""/v1/participants"""
from __future__ import annotations

from flask.views import MethodView

from models import queries
from models.records import Event, Participant, Statement

from ..errors import Problem
from ..params import EventListArgs, ParticipantListArgs, ParticipantStatementArgs, SingleParticipantArgs
from ..schemas import EventPage, ParticipantOne, ParticipantPage, StatementPage
from .blueprints import Blueprint
from .common import EVENT_FORMATS, listing, one
from .events import embed as embed_events
from .statements import embed as embed_statements

blp = Blueprint("participants", __name__, url_prefix="/v1/participants",
                description="People, governments, armies, countries and groups, with every mention in the sources.")


def require(participant_id: str) -> None:
    if not Participant.select().where(Participant.id == participant_id).exists():
        raise Problem(404, f"No participant with id '{participant_id}'.")


@blp.route("")
class Participants(MethodView):
    @blp.arguments(ParticipantListArgs, location="query", as_kwargs=False)
    @blp.response(200, ParticipantPage)
    @blp.problems(400, 406)
    @blp.formats("csv", "ndjson")
    def get(self, args):
        """List participants

        `q` finds a participant by any alias or spelling (عماد خميس, خميس, Khamis).
        """
        return listing("participants", args, queries.participant_select, Participant)


@blp.route("/<record_id:participant_id>")
class ParticipantById(MethodView):
    @blp.arguments(SingleParticipantArgs, location="query", as_kwargs=False)
    @blp.response(200, ParticipantOne)
    @blp.problems(400, 404)
    def get(self, args, participant_id):
        """One participant"""
        return one(queries.doc_of(Participant, participant_id), "participant", participant_id, args.get("fields_"))


@blp.route("/<record_id:participant_id>/events")
class ParticipantEvents(MethodView):
    @blp.arguments(EventListArgs, location="query", as_kwargs=False)
    @blp.response(200, EventPage)
    @blp.problems(400, 404, 406)
    @blp.formats("csv", "ndjson", "geojson")
    def get(self, args, participant_id):
        """Events a participant took part in (takes every /v1/events filter)"""
        require(participant_id)
        args = {**args, "participant": [participant_id, *args.get("participant", [])]}
        return listing("events", args, queries.event_listing, Event, allowed_formats=EVENT_FORMATS,
                       transform=embed_events(args.get("include")), count=queries.event_total)


@blp.route("/<record_id:participant_id>/statements")
class ParticipantStatements(MethodView):
    @blp.arguments(ParticipantStatementArgs, location="query", as_kwargs=False)
    @blp.response(200, StatementPage)
    @blp.problems(400, 404, 406)
    @blp.formats("csv", "ndjson")
    def get(self, args, participant_id):
        """Statements made by a participant (takes every /v1/statements filter but speaker and participant)"""
        require(participant_id)
        args = {**args, "speaker": participant_id}
        return listing("statements", args, queries.statement_select, Statement,
                       transform=embed_statements(args.get("include")))

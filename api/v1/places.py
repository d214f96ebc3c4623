"""/v1/places"""
from __future__ import annotations

from flask.views import MethodView

from models import queries
from models.records import Place

from ..params import PlaceListArgs, SinglePlaceArgs
from ..schemas import PlaceOne, PlacePage
from .blueprints import Blueprint
from .common import listing, one

blp = Blueprint("places", __name__, url_prefix="/v1/places",
                description="Places named in the sources, with coordinates and every spelling used.")


@blp.route("")
class Places(MethodView):
    @blp.arguments(PlaceListArgs, location="query", as_kwargs=False)
    @blp.response(200, PlacePage)
    @blp.problems(400, 406)
    @blp.formats("csv", "ndjson")
    def get(self, args):
        """List places"""
        return listing("places", args, queries.place_select, Place)


@blp.route("/<record_id:place_id>")
class PlaceById(MethodView):
    @blp.arguments(SinglePlaceArgs, location="query", as_kwargs=False)
    @blp.response(200, PlaceOne)
    @blp.problems(400, 404)
    def get(self, args, place_id):
        """One place"""
        return one(queries.doc_of(Place, place_id), "place", place_id, args.get("fields_"))

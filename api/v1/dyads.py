"""/v1/stats/dyads: who acts on whom, per directed pair (see :mod:`models.dyads`)."""
from __future__ import annotations

import datetime as dt

from flask.views import MethodView
from marshmallow import fields, validate

from models import dyads, stats
from models.buckets import INTERVALS, MAX_BUCKETS, TooManyBuckets, bucket_count

from ..envelope import envelope
from ..errors import Problem, bad_parameter
from ..param_fields import StrictInteger
from ..params import EventFilterArgs
from ..schemas import Base, QueriedMetaSchema
from .blueprints import Blueprint
from .stats import csv_response, event_filters, format_field, negotiated

blp = Blueprint("dyads", __name__, url_prefix="/v1", description="Directed dyads: who acts on whom.")

MAX_DYADS = 1_000
#: values of the series one answer may hold in all (dyads x buckets): 500 daily series over
#: five years were a million values, 52 MB of JSON and a gigabyte of a worker's memory
MAX_SERIES_VALUES = 100_000


class DyadArgs(EventFilterArgs):
    interval = fields.String(validate=validate.OneOf(INTERVALS), metadata={
        "description": f"Also give each dyad a zero-filled series of its events per day, week, month or year "
                       f"(by anchor date; at most {MAX_BUCKETS} buckets, and {MAX_SERIES_VALUES:,} values in all: "
                       f"dyads shown times buckets)."})
    limit = StrictInteger(load_default=100, validate=validate.Range(1, MAX_DYADS), metadata={
        "description": f"Dyads shown, most events first (1–{MAX_DYADS}, default 100)."})
    format = format_field()


class DyadBucketSchema(Base):
    start = fields.String()
    end = fields.String()
    count = fields.Integer()


class DyadSchema(Base):
    source = fields.String(metadata={"description": "Participant id of the acting side."})
    target = fields.String(metadata={"description": "Participant id of the side acted upon."})
    source_label = fields.String(metadata={"description": "The acting side's name_en."})
    target_label = fields.String(metadata={"description": "The side acted upon's name_en."})
    source_label_ar = fields.String(allow_none=True, metadata={"description": "The acting side's name_ar."})
    target_label_ar = fields.String(allow_none=True, metadata={"description": "The side acted upon's name_ar."})
    count = fields.Integer(metadata={"description": "Matching events with this directed pair: "
                                                    "/v1/events with source_actor and target_actor lists exactly these."})
    goldstein_sum = fields.Float()
    goldstein_mean = fields.Float(allow_none=True)
    series = fields.List(fields.Nested(DyadBucketSchema), metadata={"description": "With interval: events per bucket."})


class DyadMetaSchema(QueriedMetaSchema):
    dyads = fields.Integer(metadata={"description": "Directed pairs of the matching events (before the limit)."})
    limit = fields.Integer()
    truncated = fields.Boolean()
    interval = fields.String(allow_none=True)


DyadsResponse = Base.from_dict({"data": fields.List(fields.Nested(DyadSchema)), "meta": fields.Nested(DyadMetaSchema)},
                               name="Dyads")


def too_many_buckets(count: int, interval: str) -> Problem:
    message = (f"the range is {count} {interval} buckets; the most is {MAX_BUCKETS}: use a longer "
               "interval or a narrower from/to")
    return Problem(400, f"Invalid query parameter 'interval': {message}", {"interval": [message]})


def check_range(filters: dict, interval: str) -> None:
    """A from/to range of more than MAX_BUCKETS buckets is a 400 before any dyad is counted (without
    both dates the range is the data's, known once the dyads are read)."""
    if filters.get("from") and filters.get("to"):
        count = bucket_count(dt.date.fromisoformat(filters["from"]), dt.date.fromisoformat(filters["to"]), interval)
        if count > MAX_BUCKETS:
            raise too_many_buckets(count, interval)


def series_of(filters: dict, shown: list, interval: str) -> list:
    """The buckets of the dyads' series (filled in), or a 400 that says what bound they pass."""
    most = min(MAX_BUCKETS, MAX_SERIES_VALUES // max(1, len(shown)))
    try:
        return dyads.dyad_series(filters, shown, interval, filters.get("from"), filters.get("to"), max_buckets=most)
    except TooManyBuckets as error:
        if error.count > MAX_BUCKETS:
            raise too_many_buckets(error.count, interval) from None
        message = (f"the range is {error.count} {interval} buckets for {len(shown)} dyads, and a series may hold at "
                   f"most {MAX_SERIES_VALUES:,} values in all ({most} buckets for {len(shown)} dyads): use a lower "
                   "limit, a longer interval or a narrower from/to")
        raise Problem(400, f"Request too expensive: 'interval': {message}", {"interval": [message]},
                      slug="too-expensive") from None


@blp.route("/stats/dyads")
class Dyads(MethodView):
    @blp.arguments(DyadArgs, location="query", as_kwargs=False)
    @blp.response(200, DyadsResponse)
    @blp.problems(400, 406)
    @blp.formats("csv")
    def get(self, args):
        """Events per directed pair of actors, with Goldstein sum and mean

        Takes every event filter of /v1/events. A directed pair (dyad) is an
        event's source actor and one of its target actors (sides on an equal
        footing give one dyad each way); an event counts once per dyad it has.
        `count` equals the total of /v1/events with the same filters plus
        `source_actor` and `target_actor` of the dyad. With `source_actor`
        and/or `target_actor`, only the pairs with those sides are listed (of
        the events that have them). Sides named alone (no
        target, or no source) are not dyads. With `interval`, each dyad has a
        zero-filled `series` by the events' anchor date (as /v1/stats/timeline).

        CSV: `source,target,count,goldstein_sum,goldstein_mean` (no series: `interval` with CSV is a 400).
        """
        fmt = negotiated(args)
        if fmt == "csv" and args.get("interval"):  # refused rather than dropped without a word
            raise bad_parameter("interval", "the CSV has one row per dyad and no series; leave out interval, or "
                                            "ask for JSON to get each dyad's series")
        filters = event_filters({k: v for k, v in args.items() if k != "interval"})
        if args.get("interval"):
            check_range(filters, args["interval"])
        shown, found = dyads.top_dyads(filters, args["limit"])
        buckets = []
        if args.get("interval"):
            buckets = series_of(filters, shown, args["interval"])
        if fmt == "csv":
            # sums rounded as in JSON: the digits past them are the float noise of the order of addition
            return csv_response("dyads", ["source", "target", "count", "goldstein_sum", "goldstein_mean"],
                                ([d.source, d.target, d.count, round(d.goldstein_sum, 4), d.goldstein_mean]
                                 for d in shown))
        ids = [d.source for d in shown] + [d.target for d in shown]
        names, arabic = stats.labels("participant", ids), stats.arabic_labels("participant", ids)
        data = []
        for d in shown:
            item = {"source": d.source, "target": d.target, "source_label": names.get(d.source, d.source),
                    "target_label": names.get(d.target, d.target), "source_label_ar": arabic.get(d.source),
                    "target_label_ar": arabic.get(d.target), "count": d.count,
                    "goldstein_sum": round(d.goldstein_sum, 4), "goldstein_mean": d.goldstein_mean}
            if args.get("interval"):
                item["series"] = [{"start": b.start.isoformat(), "end": b.end.isoformat(), "count": d.series.get(b.start, 0)}
                                  for b in buckets]
            data.append(item)
        return envelope(data, {"dyads": found, "limit": args["limit"], "truncated": found > len(shown),
                               "interval": args.get("interval")})

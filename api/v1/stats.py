"""/v1/stats/timeline, /v1/stats/facets and /v1/network: counts for dashboards.

All three take every event filter of /v1/events and count in the database
(see :mod:`models.stats`); none reads a stored document. Each answers JSON or,
with ``format=csv`` / ``Accept: text/csv``, a small CSV table (UTF-8 with BOM).
"""
from __future__ import annotations

from flask import Response, request
from flask.views import MethodView
from marshmallow import fields, validate

from models import counts, dyads, stats
from models.buckets import INTERVALS, MAX_BUCKETS, TooManyBuckets
from models.queries import event_total
from models.vocabulary import PARTICIPANT_KINDS

from .. import formats
from ..envelope import envelope
from ..errors import Problem
from ..param_fields import CommaList, Day, StrictInteger
from ..params import EventFilterArgs, to_filters
from ..schemas import Base, QueriedMetaSchema, nullable_str, one_of
from .blueprints import Blueprint
from .collections import download_name

blp = Blueprint("stats", __name__, url_prefix="/v1", description="Counts, time series and the actor network for dashboards.")

STATS_FORMATS = ("json", "csv")
NETWORK_PARTS = ("edges", "nodes")
#: the CSV columns of the network's parts (the JSON keys of data.nodes / data.edges)
NETWORK_COLUMNS = {"edges": ["source", "target", "weight", "statement_events"],
                   "nodes": ["id", "name_en", "name_ar", "kind", "country", "events"]}
#: the directed network's CSV columns (data.nodes and data.edges with directed=true)
DIRECTED_NODE_COLUMNS = ["id", "name_en", "name_ar", "kind", "country", "actor_code", "events"]
DIRECTED_EDGE_COLUMNS = ["source", "target", "weight", "event_count", "statement_count", "goldstein_sum"]
MAX_FACET_SIZE = 1_000
MAX_GROUPS = 200
MAX_NODES = 500
MAX_EDGE_EVENTS = 100


# --------------------------------------------------------------------------- parameters


def format_field():
    return fields.String(validate=validate.OneOf(STATS_FORMATS),
                         metadata={"description": "json (default) or csv; also chosen by the Accept header."})


class TimelineArgs(EventFilterArgs):
    from_ = Day(data_key="from", metadata={"description": (
        "First day of the range (ISO, inclusive). Events are counted by their anchor date (date.start, else date.end), "
        "so only events anchored in [from, to] are counted. Default: the earliest anchor of the matching events.")})
    to = Day(metadata={"description": "Last day of the range (ISO, inclusive). Default: the latest anchor of the matching events."})
    include_undated = fields.Boolean(load_default=False, metadata={
        "description": "Accepted for symmetry with /v1/events; undated events are never put in a bucket and are always counted in meta.undated."})
    interval = fields.String(load_default="month", validate=validate.OneOf(INTERVALS), metadata={
        "description": f"Bucket size: day, week (ISO, Monday to Sunday), month or year. At most {MAX_BUCKETS} buckets."})
    group_by = fields.String(validate=validate.OneOf(counts.TIMELINE_GROUPS), metadata={
        "description": "Also count each bucket per CAMEO root, status, participant or topic (bucket.groups)."})
    group_limit = StrictInteger(load_default=20, validate=validate.Range(1, MAX_GROUPS), metadata={
        "description": f"With group_by: keep the N most frequent values over the range (1–{MAX_GROUPS}, default 20)."})
    format = format_field()


class FacetArgs(EventFilterArgs):
    facet = CommaList(counts.FACETS, "Facet to count; repeatable. Default: cameo_root, status, country, participant, topic.")
    limit = StrictInteger(load_default=50, validate=validate.Range(1, MAX_FACET_SIZE), metadata={
        "description": f"Values per facet, most frequent first (1–{MAX_FACET_SIZE}, default 50)."})
    format = format_field()


class NetworkArgs(EventFilterArgs):
    limit = StrictInteger(load_default=100, validate=validate.Range(1, MAX_NODES), metadata={
        "description": f"Nodes: the N actors with the most matching events (1–{MAX_NODES}, default 100)."})
    min_weight = StrictInteger(load_default=1, validate=validate.Range(1, 1_000_000), metadata={
        "description": "Only edges of at least this many shared events (default 1)."})
    edge_events = StrictInteger(load_default=10, validate=validate.Range(0, MAX_EDGE_EVENTS), metadata={
        "description": f"Event ids listed per edge (0–{MAX_EDGE_EVENTS}, default 10); weight always counts them all."})
    part = fields.String(load_default="edges", validate=validate.OneOf(NETWORK_PARTS), metadata={
        "description": "With format=csv: the edges (default; source,target,weight,statement_events) or the nodes "
                       "(id,name_en,name_ar,kind,country,events)."})
    directed = fields.Boolean(load_default=False, metadata={
        "description": "Directed, weighted edges source → target (who acts on whom) instead of co-participation: "
                       "event_count (matching events with the dyad) and statement_count (statements by the source "
                       "addressed to the target, under the filters statements share) counted separately."})
    format = format_field()


DEFAULT_FACETS = ("cameo_root", "status", "country", "participant", "topic")
OWN_PARAMS = ("interval", "group_by", "group_limit", "facet", "limit", "min_weight", "edge_events", "directed", "part",
              "format")


def event_filters(args: dict) -> dict:
    return to_filters(args, OWN_PARAMS)


# --------------------------------------------------------------------------- response schemas


class StatsValueSchema(Base):
    value = fields.String(metadata={"description": "The value, as the matching filter of /v1/events takes it."})
    label = fields.String(metadata={"description": "CAMEO label, participant or place name_en, topic label, source title; else the value."})
    label_ar = nullable_str("A participant's or place's name_ar; null for the other kinds of value.")
    count = fields.Integer(metadata={"description": "Matching events with this value."})


class TimelineGroupSchema(StatsValueSchema):
    undated = fields.Integer(metadata={"description": "Matching events with this value and no date at all (in no bucket, not in count)."})


class TimelineBucketSchema(Base):
    start = fields.String(metadata={"description": "First day of the bucket (ISO)."})
    end = fields.String(metadata={"description": "Last day of the bucket (ISO, inclusive)."})
    count = fields.Integer(metadata={"description": "Events anchored in the bucket (0 for empty buckets)."})
    ranged = fields.Integer(metadata={"description": "Of which dated less precisely than a day."})
    groups = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "With group_by: events per group value (every value of meta.groups, zeros included)."})


class TimelineMetaSchema(QueriedMetaSchema):
    interval = fields.String()
    group_by = fields.String(allow_none=True)
    from_ = fields.String(data_key="from", allow_none=True, metadata={"description": "First day counted (null if nothing dated matched)."})
    to = fields.String(allow_none=True, metadata={"description": "Last day counted."})
    buckets = fields.Integer(metadata={"description": "Number of buckets in data."})
    total = fields.Integer(metadata={"description": "Events counted in the buckets."})
    ranged = fields.Integer(metadata={"description": "Of those, events whose date precision is not day (counted by their anchor date)."})
    undated = fields.Integer(metadata={"description": "Matching events with no date at all (in no bucket)."})
    groups = fields.List(fields.Nested(TimelineGroupSchema), metadata={
        "description": "With group_by: the group values shown, with their totals in the buckets and their undated events."})
    groups_total = fields.Integer(metadata={"description": "With group_by: distinct group values in the range."})


class FacetSummarySchema(Base):
    values = fields.Integer(metadata={"description": "Distinct values (before the limit)."})
    missing = fields.Integer(metadata={"description": "Matching events with no value for this facet."})
    truncated = fields.Boolean()


class FacetsMetaSchema(QueriedMetaSchema):
    total = fields.Integer(metadata={"description": "Matching events."})
    limit = fields.Integer()
    facets = fields.Dict(keys=fields.String(), values=fields.Nested(FacetSummarySchema))


class NetworkNodeSchema(Base):
    id = fields.String()
    name_en = fields.String()
    name_ar = fields.String()
    kind = one_of(PARTICIPANT_KINDS)
    country = fields.String(allow_none=True)
    actor_code = fields.String(allow_none=True, metadata={"description": "With directed: the CAMEO actor code."})
    events = fields.Integer(metadata={"description": "Matching events the actor takes part in (participant, or speaker of a "
                                                     "linked statement; with directed: a side of one of their dyads)."})


class NetworkEdgeSchema(Base):
    source = fields.String()
    target = fields.String()
    weight = fields.Integer(metadata={"description": "Matching events both actors take part in."})
    statement_events = fields.Integer(metadata={"description": "Of which events that join the pair only through a linked statement."})
    events = fields.List(fields.String(), metadata={"description": "Ids of the first shared events (see edge_events), in id order."})
    event_count = fields.Integer(metadata={"description": "With directed: matching events with the dyad source → target."})
    statement_count = fields.Integer(metadata={"description": "With directed: statements by source addressed to target."})
    goldstein_sum = fields.Float(metadata={"description": "With directed: Goldstein scores of those events and statements, summed."})


class NetworkGraphSchema(Base):
    nodes = fields.List(fields.Nested(NetworkNodeSchema))
    edges = fields.List(fields.Nested(NetworkEdgeSchema))


class NetworkMetaSchema(QueriedMetaSchema):
    events = fields.Integer(metadata={"description": "Matching events."})
    nodes = fields.Integer()
    edges = fields.Integer()
    actors_total = fields.Integer(metadata={"description": "Actors of the matching events before the node limit."})
    truncated = fields.Boolean()
    limit = fields.Integer()
    min_weight = fields.Integer()


TimelineResponse = Base.from_dict({"data": fields.List(fields.Nested(TimelineBucketSchema)), "meta": fields.Nested(TimelineMetaSchema)},
                                  name="Timeline")
FacetsResponse = Base.from_dict({
    "data": fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(StatsValueSchema)),
                        metadata={"description": "Keyed by facet name, in the order asked."}),
    "meta": fields.Nested(FacetsMetaSchema)}, name="Facets")
NetworkResponse = Base.from_dict({"data": fields.Nested(NetworkGraphSchema), "meta": fields.Nested(NetworkMetaSchema)}, name="Network")


# --------------------------------------------------------------------------- rendering


def negotiated(args: dict) -> str:
    return formats.negotiate(args.get("format"), request.headers.get("Accept", ""), STATS_FORMATS)


def csv_response(kind: str, header: list[str], rows) -> Response:
    response = Response(formats.csv_table(header, rows), mimetype="text/csv")
    response.headers["Content-Type"] = formats.RENDERERS["csv"].media_type
    response.headers["Content-Disposition"] = f'attachment; filename="{download_name(kind, "csv")}"'
    return response


# --------------------------------------------------------------------------- endpoints


@blp.route("/stats/timeline")
class Timeline(MethodView):
    @blp.arguments(TimelineArgs, location="query", as_kwargs=False)
    @blp.response(200, TimelineResponse)
    @blp.problems(400, 406)
    @blp.formats("csv")
    def get(self, args):
        """Events per day, week, month or year, zero-filled

        Takes every event filter of /v1/events. `data` has one bucket per
        interval from `from` to `to` (inclusive; by default the span of the
        matching dated events), empty buckets included with `count` 0.

        Counting rule: each event is counted once, in the bucket of its
        **anchor date** — `date.start`, or `date.end` when the start is open
        (e.g. "before 16 January"). Events dated less precisely than a day
        (precision month, year or range) are counted the same way and also
        tallied in the bucket's `ranged` and in `meta.ranged`. Events with no
        date at all are in no bucket: `meta.undated` counts them. `from`/`to`
        select events by anchor date, unlike /v1/events where they select
        every event whose date interval overlaps the range.

        Weeks are ISO weeks (Monday to Sunday); a bucket keeps its calendar
        bounds even when `from`/`to` cut it (only the days in range are
        counted). More than 2,000 buckets is a 400 naming `interval`.

        With `group_by`, each bucket also has `groups`: events per value
        (an event with two topics counts in both), for the `group_limit` most
        frequent values over the range, listed in `meta.groups`.

        CSV: `bucket_start,bucket_end,count,ranged` and one column per group value;
        a last row with no bucket dates counts the undated events (and, per group
        value, those of each value: `meta.groups[].undated`).
        """
        fmt = negotiated(args)
        group_by = args.get("group_by")
        try:
            result = counts.timeline(event_filters(args), args["interval"], args.get("from_"), args.get("to"),
                                    group_by, args["group_limit"])
        except TooManyBuckets as error:
            message = f"{error}: use a longer interval or a narrower from/to"
            raise Problem(400, f"Invalid query parameter 'interval': {message}", {"interval": [message]}) from None
        group_values = [value for value, _ in result.groups]
        if fmt == "csv":
            rows = [[b.start.isoformat(), b.end.isoformat(), b.count, b.ranged, *(b.groups.get(v, 0) for v in group_values)]
                    for b in result.buckets]
            # the undated events, in no bucket: a last row with no bucket dates (counts sum to total + undated)
            rows.append(["", "", result.undated, 0, *(result.undated_groups.get(v, 0) for v in group_values)])
            return csv_response("timeline", ["bucket_start", "bucket_end", "count", "ranged", *group_values], rows)
        data = []
        for bucket in result.buckets:
            item = {"start": bucket.start.isoformat(), "end": bucket.end.isoformat(), "count": bucket.count, "ranged": bucket.ranged}
            if group_by:
                item["groups"] = bucket.groups
            data.append(item)
        extra = {}
        if group_by:
            names, arabic = stats.labels(group_by, group_values), stats.arabic_labels(group_by, group_values)
            extra = {"groups": [{"value": v, "label": names.get(v, v), "label_ar": arabic.get(v), "count": n,
                                 "undated": result.undated_groups.get(v, 0)} for v, n in result.groups],
                     "groups_total": result.groups_total}
        return envelope(data, {"interval": result.interval, "group_by": group_by,
                               "from": result.first.isoformat() if result.first else None,
                               "to": result.last.isoformat() if result.last else None, "buckets": len(result.buckets),
                               "total": result.total, "ranged": result.ranged, "undated": result.undated, **extra})


@blp.route("/stats/facets")
class Facets(MethodView):
    @blp.arguments(FacetArgs, location="query", as_kwargs=False)
    @blp.response(200, FacetsResponse)
    @blp.problems(400, 406)
    @blp.formats("csv")
    def get(self, args):
        """Value counts of the matching events, per facet

        Takes every event filter of /v1/events. `data` maps each asked facet to
        its values, most frequent first: `{value, label, count}`, where `count`
        is the number of matching events with that value. Adding the facet's
        filter to the same query gives exactly `count` events in /v1/events
        (`cameo_root` → `type`, `plover` → `plover`, `country` → `country`,
        `participant` → `participant`, …; `cameo` is exact while `type=042`
        also matches 0421). Events without a value (no place, no PLOVER type)
        are counted in `meta.facets.<facet>.missing`; an event counts once per
        value, so participant, country and topic counts can sum to more than
        `meta.total`.

        CSV: `facet,value,label,label_ar,count`.
        """
        fmt = negotiated(args)
        wanted = args.get("facet") or list(DEFAULT_FACETS)
        filters = event_filters(args)
        limit = args["limit"]
        data, info = {}, {}
        for name in wanted:
            result = counts.facet_counts(filters, name)
            shown = result.values[:limit]
            names = stats.labels(name, [value for value, _ in shown])
            arabic = stats.arabic_labels(name, [value for value, _ in shown])
            data[name] = [{"value": value, "label": names.get(value, value), "label_ar": arabic.get(value), "count": n}
                          for value, n in shown]
            info[name] = {"values": len(result.values), "missing": result.missing, "truncated": len(result.values) > limit}
        if fmt == "csv":
            rows = ([name, item["value"], item["label"], item["label_ar"] or "", item["count"]]
                    for name, items in data.items() for item in items)
            return csv_response("facets", ["facet", "value", "label", "label_ar", "count"], rows)
        return envelope(data, {"total": event_total(filters), "limit": limit, "facets": info})


@blp.route("/network")
class Network(MethodView):
    @blp.arguments(NetworkArgs, location="query", as_kwargs=False)
    @blp.response(200, NetworkResponse)
    @blp.problems(400, 406)
    @blp.formats("csv")
    def get(self, args):
        """The actor co-participation graph of the matching events

        Takes every event filter of /v1/events. The **actors** of an event are
        its participants (any role) and the speakers of the statements linked
        to it (statement.event): a statement by A linked to an event of B's
        joins A and B even when A is not listed as a participant.

        `data.nodes`: the `limit` actors with the most matching events (ties by
        id), each with `events` = matching events it is an actor of.
        `data.edges`: one per pair of shown actors sharing at least
        `min_weight` matching events; `weight` = those shared events (each
        event counts once per pair, whatever the roles or number of
        statements), `statement_events` = how many of them join the pair only
        through a statement, `events` = the first `edge_events` ids. Edges are
        undirected (`source` < `target`), heaviest first: ready for a
        force-directed layout (d3-force takes `nodes`/`edges` as is).

        CSV: the edges, `source,target,weight,statement_events`, or with
        `part=nodes` the nodes, `id,name_en,name_ar,kind,country,events`; with
        `directed=true` the edges `source,target,weight,event_count,statement_count,goldstein_sum`
        or the nodes `id,name_en,name_ar,kind,country,actor_code,events`.
        """
        fmt = negotiated(args)
        filters = event_filters(args)
        if args["directed"]:
            return directed_network(args, filters, fmt)
        graph = stats.network(filters, args["limit"], args["min_weight"], args["edge_events"])
        if fmt == "csv":
            part, columns = args["part"], NETWORK_COLUMNS[args["part"]]
            items = graph.nodes if part == "nodes" else graph.edges
            return csv_response(f"network-{part}", columns, ([item.get(c) for c in columns] for item in items))
        return envelope({"nodes": graph.nodes, "edges": graph.edges}, {
            "events": graph.events, "nodes": len(graph.nodes), "edges": len(graph.edges),
            "actors_total": graph.actors_total, "truncated": graph.actors_total > len(graph.nodes),
            "limit": args["limit"], "min_weight": args["min_weight"]})


def directed_network(args: dict, filters: dict, fmt: str):
    """The directed graph of /v1/network?directed=true (nodes: the actors of the heaviest edges)."""
    edges = dyads.directed_edges(filters, args["min_weight"])
    per_actor = dyads.actor_event_counts(filters)
    actors = {a for e in edges for a in (e["source"], e["target"])}
    ranked = sorted(actors, key=lambda a: (-per_actor.get(a, 0), a))
    shown = set(ranked[:args["limit"]])
    edges = [e for e in edges if e["source"] in shown and e["target"] in shown]
    if fmt == "csv" and args["part"] == "edges":
        return csv_response("network", DIRECTED_EDGE_COLUMNS,
                            ([e["source"], e["target"], e["weight"], e["events"], e["statements"], e["goldstein_sum"]]
                             for e in edges))
    nodes = [{**node, "events": per_actor.get(node["id"], 0)} for node in dyads.actor_nodes(shown)]
    nodes.sort(key=lambda n: (-n["events"], n["id"]))
    if fmt == "csv":
        columns = DIRECTED_NODE_COLUMNS
        return csv_response("network-nodes", columns, ([node[c] for c in columns] for node in nodes))
    data_edges = [{"source": e["source"], "target": e["target"], "weight": e["weight"], "event_count": e["events"],
                   "statement_count": e["statements"], "goldstein_sum": round(e["goldstein_sum"], 4)} for e in edges]
    return envelope({"nodes": nodes, "edges": data_edges}, {
        "events": event_total(filters), "nodes": len(nodes), "edges": len(data_edges),
        "actors_total": len(actors), "truncated": len(actors) > len(nodes), "limit": args["limit"],
        "min_weight": args["min_weight"]})

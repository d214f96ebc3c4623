"""Each collection described once: what it lists, how it filters, sorts, embeds and exports.

One list view and one item view (api/v1/collections.py) serve every
:class:`Resource`; the parameter schemas, the response schemas and so the
OpenAPI document are derived from the same descriptor. A new resource is one
descriptor here (and its model, filter table and record schema below it).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from models import filters, queries
from models.records import Event, Participant, Place, Source, Statement

from . import flatten, param_fields, params, schemas, splice


@dataclass(frozen=True)
class Related:
    """A collection of another resource under an item: /participants/{id}/events."""

    path: str
    resource: "Resource"
    filter: str  # the filter the item's id fills
    excluded: tuple[str, ...] = ()  # parameters the path makes meaningless
    summary: str = ""


@dataclass(frozen=True)
class Resource:
    name: str  # the collection's path segment: events
    kind: str  # one record: event
    model: type
    listing: Callable[[dict], object]  # filters -> select (or Branches)
    record_schema: type
    filters: tuple = ()
    sorts: tuple[str, ...] = ("id", "-id")
    default_sort: str = "id"
    sort_help: str = ""
    count: Callable[[dict], int] | None = None  # a cheaper total than counting the rows
    flatten: Callable[[dict], dict] | None = None  # one CSV row of a record
    embeds: dict = field(default_factory=dict)  # include value -> the api.splice.Splice that embeds it
    embed_help: str = ""
    formats: tuple[str, ...] = ("json", "csv", "ndjson")
    item: bool = True  # served by the generic item view
    related: tuple = ()
    description: str = ""
    list_doc: str = ""
    item_doc: str = ""

    @property
    def id_param(self) -> str:
        """The name of the item's path parameter: event_id."""
        return f"{self.kind}_id"

    @property
    def field_names(self) -> tuple[str, ...]:
        """The fields of a record, for ``fields=`` (from the record schema: one truth)."""
        return tuple(self.record_schema().fields)

    def list_args(self, excluded: tuple[str, ...] = ()) -> type:
        attrs = {
            "sort": param_fields.sort_param(self.sorts, self.default_sort, self.sort_help),
            "format": param_fields.format_param(self.formats),
        }
        if self.item:
            attrs["fields_"] = param_fields.fields_param(self.field_names)
        if self.embeds:
            attrs["include"] = param_fields.CommaList(tuple(self.embeds), self.embed_help)
        for name, value in params.filter_fields(self.filters).items():
            attrs[name] = value
        for name in excluded:
            attrs.pop(name, None)
        base = (params.DateOrder, params.PageArgs)
        return type(f"{self.kind.title()}ListArgs{''.join(x.title() for x in excluded)}", base, attrs)

    def item_args(self) -> type:
        attrs = {"fields_": param_fields.fields_param(self.field_names)}
        if self.embeds:
            attrs["include"] = param_fields.CommaList(tuple(self.embeds), self.embed_help)
        return type(f"Single{self.kind.title()}Args", (params.QuerySchema,), attrs)

    def page_schema(self):
        searched = any(found.name == "q" for found in self.filters)
        return schemas.envelope(f"{self.kind.title()}Page", self.record_schema, True, searched)

    def splices(self, include: list[str] | None) -> list:
        """The splices of the ``include`` values asked for, in order."""
        return [self.embeds[name] for name in include or ()]

    def one_schema(self):
        return schemas.envelope(f"{self.kind.title()}One", self.record_schema, False)


EVENTS = Resource(
    "events", "event", Event, queries.event_listing, schemas.EventSchema,
    filters=filters.EVENT_FILTERS, sorts=("date", "-date", "id", "-id"), default_sort="date",
    sort_help="date, -date, id or -id; ties broken by id. Undated events come last under both date and -date.",
    count=queries.event_total, flatten=flatten.event_row,
    embeds={"statements": splice.STATEMENTS, "participants": splice.PARTICIPANTS, "place": splice.PLACE},
    embed_help="Embed related records: full statements; participant and place records without their mention spans "
               "(mention_count stays).",
    formats=("json", "csv", "ndjson", "geojson"),
    description="Events: meetings, visits, signings, planned talks and background events, each with its evidence.",
    list_doc="""List events

Filters combine with AND. Pages are keyset-paginated: follow
`links.next` (or pass `meta.next_cursor` as `cursor`); a deep page costs
the same as the first. `format=csv|ndjson|geojson` (or the Accept
header) exports every matching event in one streamed download.""",
    item_doc="One event, with its participants, place, evidence and statement ids",
)

STATEMENTS = Resource(
    "statements", "statement", Statement, queries.statement_select, schemas.StatementSchema,
    filters=filters.STATEMENT_FILTERS, sorts=("date", "-date", "id", "-id"), default_sort="date",
    flatten=flatten.statement_row, embeds={"event": splice.EVENT, "speaker": splice.SPEAKER},
    embed_help="Embed the full event or speaker record.",
    description="Quoted and reported statements: verbatim Arabic, English translation, speaker, provenance.",
    list_doc="""List statements

Sorted by the day they were reported (`date`), ties broken by id.""",
    item_doc="One statement",
)

PARTICIPANTS = Resource(
    "participants", "participant", Participant, queries.participant_select, schemas.ParticipantSchema,
    filters=filters.PARTICIPANT_FILTERS, flatten=flatten.participant_row,
    related=(
        Related("events", EVENTS, "participant",
                summary="Events a participant took part in (takes every /v1/events filter)"),
        Related("statements", STATEMENTS, "speaker", excluded=("speaker", "participant"),
                summary="Statements made by a participant (takes every /v1/statements filter but speaker and participant)"),
    ),
    description="People, governments, armies, countries and groups, with every mention in the sources.",
    list_doc="""List participants

`q` finds a participant by any alias or spelling (عماد خميس, خميس, Khamis).""",
    item_doc="One participant",
)

PLACES = Resource(
    "places", "place", Place, queries.place_select, schemas.PlaceSchema,
    filters=filters.PLACE_FILTERS, flatten=flatten.place_row,
    description="Places named in the sources, with coordinates and every spelling used.",
    list_doc="List places", item_doc="One place",
)

SOURCES = Resource(
    "sources", "source", Source, queries.source_select, schemas.SourceSchema,
    filters=filters.SOURCE_FILTERS, formats=("json",), item=False,
    description="The source texts, verbatim, and the CAMEO codes in use.",
    list_doc="List sources (metadata only)",
)

RESOURCES = (EVENTS, STATEMENTS, PARTICIPANTS, PLACES, SOURCES)

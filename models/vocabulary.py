"""The words both layers speak: record kinds, statuses, precisions, modes and the id grammar.

The fixture schemas (models/load/schemas.py) validate records against these, and
the API's parameter schemas (api/params.py) validate filters against the same
tuples, so a value the loader accepts is a value a filter can ask for.
"""
from __future__ import annotations

ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,79}$"
#: a source id: the name of its seed file and fixtures directory
SOURCE_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,79}$"
TOPIC_PATTERN = r"^[a-z][a-z0-9_]{1,59}$"
ISO3 = r"^[A-Z]{3}$"
CAMEO_PATTERN = r"^[0-9]{2,4}$"

CONFIDENCE = ("high", "medium", "low")
PARTICIPANT_KINDS = ("person", "organization", "country", "group")
PLACE_KINDS = ("city", "country", "region")
EVENT_STATUSES = ("occurred", "planned", "ongoing", "background")
DATE_PRECISIONS = ("day", "month", "year", "range", "unknown")
STATEMENT_MODES = ("direct", "reported")
EVENT_LINKS = ("explicit", "inferred")
TRANSLATIONS = ("human", "machine")
PLOVER_TYPES = (
    "AGREE", "CONSULT", "SUPPORT", "CONCEDE", "COOPERATE", "AID", "RETREAT", "REQUEST",
    "ACCUSE", "REJECT", "THREATEN", "PROTEST", "SANCTION", "MOBILIZE", "COERCE", "ASSAULT",
)

#: kinds of searchable records, in the order /v1/search lists them
SEARCH_KINDS = ("event", "statement", "participant", "place")
#: the longest search text accepted (characters)
MAX_QUERY_LENGTH = 200

#: the filters that bound dates; counts and listings read them apart from the others
DATE_FILTERS = ("from", "to", "include_undated")

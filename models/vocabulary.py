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

#: a CAMEO actor code: 3-letter blocks (a country or IGO code, then role codes), e.g. SYRGOV, IRNBUS, MED
ACTOR_CODE_PATTERN = r"^(?:[A-Z]{3}){1,4}$"
ACTOR_CODE_KINDS = ("country", "igo", "role")
#: GDELT's QuadClass by CAMEO root: (class, label, first root, last root)
QUAD_CLASSES = (
    (1, "Verbal cooperation", 1, 5),
    (2, "Material cooperation", 6, 9),
    (3, "Verbal conflict", 10, 14),
    (4, "Material conflict", 15, 20),
)
#: what of a record may be the coder's inference rather than the text's words
INFERABLE = ("place", "date", "participants", "source_actors", "target_actors", "speaker", "addressees", "event")
#: roles that make a participant the acted-upon side, or the acting side, of a directed event
TARGET_ROLES = ("host", "recipient", "target")
SOURCE_ROLES = ("visitor", "provider", "actor", "speaker")


def quad_class(cameo_code: str) -> int:
    """GDELT's QuadClass of a CAMEO code, by its root (01–05 → 1 … 15–20 → 4)."""
    root = int(cameo_code[:2])
    return next(number for number, _, low, high in QUAD_CLASSES if low <= root <= high)

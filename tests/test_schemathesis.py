"""Schemathesis against the app's own OpenAPI document, in process (WSGI), on SQLite.

The document is read from ``/v1/openapi.json`` of an app built at import time
(the document needs no database), so ``@schema.parametrize()`` makes one test
per operation; every generated request goes to the ``sqlite_app`` fixture (the
repository's data loaded into SQLite). 25 examples per operation, positive and
negative, and schemathesis' whole default set of checks on every answer:
not_a_server_error, status_code_conformance, content_type_conformance,
response_headers_conformance, response_schema_conformance,
negative_data_rejection, positive_data_acceptance, missing_required_header,
unsupported_method, ...

One check is narrowed, not switched off: ``positive_data_acceptance`` fails a
schema-valid request that gets a 400. Six rules of the API are beyond what a
JSON Schema of one parameter can say, so a 400 that names only the parameter
of one of them, with that rule's message, is accepted; any other 400 on valid
data still fails:

* ``q``: must hold a word to search for, close its quotes, have at most 12 terms
  (a search grammar, models/search.py parse_query);
* ``cursor``: must be a cursor the API issued for this query (signed, opaque);
* ``from``: must not be after ``to`` (a rule across two parameters);
* ``interval``: at most 2,000 buckets between from and to (/v1/stats/timeline);
* ``since``: must not be after the current release (/v1/changes: the data decides, not the schema);
* any repeatable filter: at most 20 values in all, comma-separated ones counted (``maxItems``
  bounds the repeats; a repeat may hold several comma-separated values).

``schemathesis.pytest.from_fixture`` would avoid the import-time app, but it
does not run on pytest 9 (it writes ``request.node._nodeid``, gone in pytest 9).
"""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api import create_app

#: serves the document only; the requests go to the sqlite_app fixture
document_app = create_app({"DATABASE_URL": "sqlite:////nonexistent/schemathesis.sqlite3", "TESTING": True})
schema = schemathesis.openapi.from_wsgi("/v1/openapi.json", document_app)

# parameter -> words of the only 400 messages that a schema-valid value may get
RULES_BEYOND_THE_SCHEMA = {
    "q": ("has no word to search for", "unclosed quotation mark", "has more than", "is not an operator here"),
    "cursor": ("is not a cursor this API issued", "was issued for another endpoint", "does not fit this sort order"),
    "from": ("is after 'to'",),
    "interval": ("buckets", "the CSV has one row per dyad"),
    "since": ("is after the current release",),
    "highlight": ("no event, statement, participant or place has the id",),  # a well-formed id of no record
}
#: the words of the one rule any repeatable parameter has beyond its schema (models/filters.py MAX_VALUES)
TOO_MANY_VALUES = "values; the most is"


def broke_a_rule_beyond_the_schema(response, case) -> bool:
    if response.status_code != 400:
        return False
    errors = response.json().get("errors") or {}
    sent = set(case.query or {})
    return bool(errors) and all(
        (name in RULES_BEYOND_THE_SCHEMA and (name in sent or name == "interval")
         and all(any(words in message for words in RULES_BEYOND_THE_SCHEMA[name]) for message in messages))
        or (name in sent and all(TOO_MANY_VALUES in message for message in messages))
        for name, messages in errors.items()
    )


def positive_data_acceptance_but_semantic_rules(ctx, response, case):
    """positive_data_acceptance, except for a 400 naming only a rule of RULES_BEYOND_THE_SCHEMA."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if broke_a_rule_beyond_the_schema(response, case):
            return None
        raise


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_api_conforms_to_its_openapi_document(case, sqlite_app):
    case.call_and_validate(
        app=sqlite_app,
        # the WSGI transport asks for gzip like requests does but does not decode it, as an HTTP
        # client would; compression is tested over a real socket (tests/test_compression.py)
        headers={"Accept-Encoding": "identity"},
        excluded_checks=[positive_data_acceptance],
        additional_checks=[positive_data_acceptance_but_semantic_rules],
    )


def test_every_operation_is_exercised():
    operations = {result.ok().label for result in schema.get_all_operations()}
    assert len(operations) >= 17, operations
    assert "GET /v1/events" in operations and "GET /v1/search" in operations

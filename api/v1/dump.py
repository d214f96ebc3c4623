"""/v1/dump: the whole current release in one download (models/dump.py)."""
from __future__ import annotations

from flask import Response
from flask.views import MethodView

from models import dump

from .. import database
from ..params import NoArgs
from .blueprints import Blueprint

blp = Blueprint("dump", __name__, url_prefix="/v1", description="The whole dataset in one download.")


@blp.route("/dump")
class Dump(MethodView):
    @blp.arguments(NoArgs, location="query", as_kwargs=False)
    @blp.doc(responses={200: {"description": "A zip archive (streamed).", "content": {
        "application/zip": {"schema": {"type": "string", "format": "binary"}}}}})
    @blp.problems(400, 429)
    def get(self, args):
        """The whole dataset: a zip of NDJSON files

        One file per kind (`sources.ndjson`, `participants.ndjson`,
        `places.ndjson`, `events.ndjson`, `statements.ndjson`: each record as
        its collection serves it, one per line, by id), the sources' texts
        (`texts.ndjson`: each source's id and text) and `manifest.json` (the release, the
        dataset version, the records of each kind, the sha256 and size of each
        file). Streamed in constant memory; the ETag is the release's,
        so `If-None-Match` answers 304 until the next release. Keep your copy
        up to date with /v1/changes?since=<manifest release>.
        """
        close = database.current().hand_off()  # the body is read after the view returns (see collections.stream)

        def chunks():
            try:
                yield from dump.zip_chunks()
            finally:
                close()

        response = Response(chunks(), mimetype="application/zip")
        response.call_on_close(close)
        name = f"event-records-{database.release()}-{database.version()}.zip"
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

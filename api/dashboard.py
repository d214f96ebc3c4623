"""/dashboard: a page built only on the public JSON API, as a dashboard developer would build one.

Plain HTML, JS and CSS in api/dashboard_files (no library, no CDN): filters kept in the URL, a
zero-filled timeline, facet bars, the actor network, a map of the events' places, and the events
with their statements (Arabic right-to-left beside the English) and their evidence marked in the
source text. tests/test_dashboard.py loads it in headless Chromium.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, Response

from .assets import send_asset
from .database import NONE, needs_dataset

FILES = Path(__file__).parent / "dashboard_files"
ASSETS = ("dashboard.js", "charts.js", "dashboard.css")
#: the page loads only its own files and reads only this origin's API
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def init_app(app: Flask) -> None:
    blueprint = Blueprint("dashboard", __name__)

    @blueprint.get("/dashboard")
    @needs_dataset(NONE)
    def page():
        response = send_asset(FILES, "index.html", max_age=60)
        response.headers["Content-Security-Policy"] = CSP
        return response

    @blueprint.get("/dashboard/assets/<name>")
    @needs_dataset(NONE)
    def asset(name: str) -> Response:
        if name not in ASSETS:
            from .errors import Problem

            raise Problem(404, f"No dashboard asset '{name}'.")
        return send_asset(FILES, name, max_age=300)

    app.register_blueprint(blueprint)

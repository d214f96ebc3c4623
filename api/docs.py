"""/docs: Swagger UI 5 served from the installed flask-swagger-ui package (no CDN)."""
from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, Flask, Response

from .assets import send_asset
from .database import NONE, needs_dataset

ASSETS = Path(flask_swagger_ui.__file__).parent / "dist"

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>event-records API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""

INIT = """window.ui = SwaggerUIBundle({
  url: "/v1/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  docExpansion: "list",
  validatorUrl: null
});
"""

CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'"


def init_app(app: Flask) -> None:
    blueprint = Blueprint("docs", __name__)

    @blueprint.get("/docs")
    @needs_dataset(NONE)
    def page():
        return Response(PAGE, mimetype="text/html", headers={"Content-Security-Policy": CSP})

    @blueprint.get("/docs/init.js")
    @needs_dataset(NONE)
    def init_script():
        return Response(INIT, mimetype="text/javascript")

    @blueprint.get("/docs/assets/<path:name>")
    @needs_dataset(NONE)
    def asset(name):
        return send_asset(ASSETS, name)

    app.register_blueprint(blueprint)

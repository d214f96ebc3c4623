"""The HTTP layer: ``create_app`` builds the Flask app (also ``gunicorn 'api:create_app()'``)."""
from .app import create_app

__all__ = ["create_app"]

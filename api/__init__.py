"""The HTTP layer: ``create_app`` builds the Flask app (also ``gunicorn 'api:create_app()'``)."""
from __future__ import annotations

__all__ = ["create_app"]


def __getattr__(name: str):
    # The app (Flask, flask-smorest, every resource) is imported when it is first asked for:
    # ``event-records load`` and ``check`` run in this package but need none of it (a fifth of a
    # second of every incremental load went to importing it).
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Serving with gunicorn, configured for this app.

``preload_app`` imports and builds the app once in the master; the app opens
no database connection until a request arrives, so nothing is shared across
the fork. The control socket is disabled (one less thing listening).
"""
from __future__ import annotations

from gunicorn.app.base import BaseApplication

from . import create_app


def gunicorn_options(host: str, port: int, workers: int, threads: int) -> dict:
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "preload_app": True,
        "control_socket_disable": True,
        "timeout": 60,
        "graceful_timeout": 30,
        "keepalive": 5,
        "limit_request_line": 8190,
        "limit_request_fields": 100,
        "limit_request_field_size": 8190,
        "errorlog": "-",
        "loglevel": "info",
    }


class Server(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return create_app()


def run(host: str = "127.0.0.1", port: int = 8000, workers: int = 2, threads: int = 4) -> None:
    Server(gunicorn_options(host, port, workers, threads)).run()

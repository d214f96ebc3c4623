"""Serving with gunicorn, configured for this app.

``preload_app`` imports and builds the app once in the master; the app opens
no database connection until a request arrives, so nothing is shared across
the fork. The control socket is disabled (one less thing listening).
"""
from __future__ import annotations

import json
import os
import threading

from gunicorn import util as gunicorn_util
from gunicorn.app.base import BaseApplication
from gunicorn.http import wsgi as gunicorn_wsgi

from .collector import freeze_survivors
from .errors import PROBLEM_TYPE_BASE, SLUGS, title_of
from .requesttarget import accept_utf8_targets_in_gunicorn
from .worker import ACCEPT_TABLE

#: What the Server header says. gunicorn writes ``Server: gunicorn`` on every answer
#: (its name, no version) and has no setting for it; see :func:`neutralise_gunicorn`.
SERVER_NAME = "event-records"


def gunicorn_options(host: str, port: int, workers: int, threads: int) -> dict:
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        # gthread, with request heads read in the event loop and a send timeout (api/worker.py)
        "worker_class": "api.worker.SlowClientSafeWorker",
        "threads": threads,
        "preload_app": True,
        # One socket shared by the workers, which take turns accepting by how many connections
        # each holds (api/accept_balance.py): a pool of keep-alive clients (a load balancer,
        # wrk's 8 connections) is spread evenly. Not SO_REUSEPORT: the kernel's hash of the
        # addresses put 6, 7 or 8 of 8 on one worker in a third of the benchmark's rounds, and a
        # worker's own socket takes the connections queued on it down with it when it dies.
        "reuse_port": False,
        "child_exit": release_accept_slot,
        "control_socket_disable": True,
        "timeout": 60,
        "graceful_timeout": 30,
        "keepalive": 5,
        "limit_request_line": 8190,
        "limit_request_fields": 100,
        "limit_request_field_size": 8190,
        "post_worker_init": warm_up_worker,
        "errorlog": "-",
        "loglevel": "info",
        # the pure Python parser, which api.requesttarget teaches to take raw UTF-8 targets
        "http_parser": "python",
    }


def release_accept_slot(arbiter, worker) -> None:
    """(In the master, once it has reaped a worker.) The others stop counting its connections
    at once instead of after api.accept_balance.LIVE_SECONDS."""
    slot = getattr(worker, "accept_slot", None)
    if slot is not None:
        ACCEPT_TABLE.leave(slot, worker.age)


def warm_up_worker(worker) -> None:
    """In a booting worker, start building what the first requests would otherwise wait for
    (the search gazetteer: seconds on a large dataset), in a thread of its own so that the worker
    answers other requests meanwhile and its boot is never late for gunicorn's timeout."""
    extension = getattr(worker.wsgi, "extensions", {}).get("request_database")
    if extension is not None:
        threading.Thread(target=extension.warm_up, name="warm-up", daemon=True).start()


def write_problem(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's answer to a request it refuses before the app sees it (request line or
    headers too large, malformed request), in the app's problem+json shape with its
    security headers, instead of gunicorn's HTML page. Same signature as
    ``gunicorn.util.write_error``."""
    if status_int == 400:  # the request itself is malformed: no parameter is at fault
        slug, title = "malformed-request", "Malformed request"
    else:
        slug = SLUGS.get(status_int) or title_of(status_int).lower().replace(" ", "-")
        title = title_of(status_int)
    body = json.dumps({
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status_int,
        "detail": mesg or reason,
    }).encode("utf-8")
    head = (f"HTTP/1.1 {status_int} {reason}\r\n"
            "Connection: close\r\n"
            "Content-Type: application/problem+json\r\n"
            f"Content-Length: {len(body)}\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "Cache-Control: no-store\r\n"
            f"{cors_lines()}"
            "\r\n").encode("latin-1")
    gunicorn_util.write_nonblock(sock, head + body)


def cors_lines() -> str:
    """The CORS headers of the app's own answers (api.http), so that a browser page can read
    gunicorn's refusals too."""
    origin = os.environ.get("EVENT_RECORDS_CORS_ORIGINS", "*")
    if not origin or not origin.isascii() or "\r" in origin or "\n" in origin:
        return ""
    vary = "" if origin == "*" else "Vary: Origin\r\n"
    return f"Access-Control-Allow-Origin: {origin}\r\n{vary}"


def neutralise_gunicorn() -> None:
    """The two things gunicorn writes itself, made the app's: the Server header (read by
    each gunicorn Response from the module global ``gunicorn.http.wsgi.SERVER``) and the
    error pages of refused requests (``gunicorn.util.write_error``). Runs in the master
    before the workers fork; tests/test_security.py checks both over a real socket."""
    gunicorn_wsgi.SERVER = SERVER_NAME
    gunicorn_util.write_error = write_problem
    accept_utf8_targets_in_gunicorn()


class Server(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            if key in self.cfg.settings:  # http_parser is gunicorn 25+
                self.cfg.set(key, value)
        neutralise_gunicorn()

    def load(self):
        # by name, as `gunicorn 'api:create_app()'` does: the command that starts the server
        # (api/cli.py) is itself part of the app, and must not be imported back from here
        app = gunicorn_util.import_app("api:create_app()")
        freeze_survivors()
        return app


def run(host: str = "127.0.0.1", port: int = 8000, workers: int = 2, threads: int = 4) -> None:
    Server(gunicorn_options(host, port, workers, threads)).run()

"""Request targets sent as raw UTF-8 bytes (``curl 'http://…/v1/participants?q=ولايتي'``).

RFC 9112 wants the bytes above 0x7F of a request target percent-encoded, and browsers do so, but
curl, scripts and some proxies send them as they are. Both servers the API runs under mishandle
them by default:

* gunicorn (27) refuses any byte above 0x7E in the target with a 400 "Invalid HTTP request line";
* werkzeug's development server (``flask --app api run``) decodes the request line as Latin-1
  and then encodes that text as UTF-8 again, so the app reads mojibake and finds nothing.

Both are fixed the same way: the raw bytes are percent-encoded (what a browser would have sent)
before anything else reads the target. Percent-encoding is lossless, so bytes that are not UTF-8
still reach the app's own check (a 400 naming the parameter, api.params.check_raw_query).
"""
from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

_HIGH_BYTES = re.compile(rb"[\x80-\xff]")


def percent_encode_high_bytes(target: bytes) -> bytes:
    """``/v1/x?q=\\xd9\\x88`` → ``/v1/x?q=%D9%88``; ASCII targets are returned unchanged."""
    return _HIGH_BYTES.sub(lambda match: b"%%%02X" % match.group()[0], target)


def utf8_request_line(line: bytes) -> bytes:
    """A request line whose target has its raw high bytes percent-encoded. Raw UTF-8 never holds
    a 0x20 byte, so the line still splits into method, target and version at its spaces."""
    parts = line.split(b" ", 2)
    if len(parts) != 3:
        return line  # malformed: left for gunicorn to refuse
    method, target, version = parts
    return b" ".join((method, percent_encode_high_bytes(target), version))


def accept_utf8_targets_in_gunicorn() -> None:
    """Make gunicorn's (pure Python) request-line parser percent-encode raw high bytes of the
    target before its RFC 9112 check refuses them. gunicorn has no setting for this (its optional
    C parser ``gunicorn_h1c`` has none either, so api.server selects the Python parser)."""
    from gunicorn.http import message

    if getattr(message.Request.parse_request_line, "accepts_utf8", False):
        return
    original = message.Request.parse_request_line

    def parse_request_line(self, line_bytes):
        if line_bytes.isascii():  # nearly every request: nothing to encode
            return original(self, line_bytes)
        return original(self, utf8_request_line(bytes(line_bytes)))

    parse_request_line.accepts_utf8 = True
    message.Request.parse_request_line = parse_request_line


class Utf8TargetMiddleware:
    """WSGI middleware for werkzeug's development server: rebuilds ``PATH_INFO``,
    ``QUERY_STRING`` and ``RAW_URI`` from the bytes the client sent when the target held raw
    high bytes. Other servers pass the target through untouched (gunicorn never sees such a
    target after :func:`accept_utf8_targets_in_gunicorn`)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get("SERVER_SOFTWARE", "").startswith("Werkzeug/"):
            _repair_werkzeug_environ(environ)
        return self.app(environ, start_response)


def _repair_werkzeug_environ(environ: dict) -> None:
    raw_uri = environ.get("RAW_URI", "")
    if raw_uri.isascii():
        return  # percent-encoded (or plain ASCII): werkzeug decoded it right
    try:
        # werkzeug: raw bytes → Latin-1 text → UTF-8 bytes → Latin-1 text (WSGI); undone step by step
        sent = raw_uri.encode("latin-1").decode("utf-8").encode("latin-1")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return  # not what werkzeug makes of a raw target: leave it
    target = percent_encode_high_bytes(sent).decode("ascii")
    path, _, query = target.partition("?")
    path = path.partition("#")[0]
    query = query.partition("#")[0]
    environ["RAW_URI"] = environ["REQUEST_URI"] = target
    environ["PATH_INFO"] = unquote_to_bytes(path).decode("latin-1")
    environ["QUERY_STRING"] = query

"""Security headers and surface, over a real gunicorn (raw sockets where a client would refuse).

* X-Content-Type-Options: nosniff on every answer: data, errors (the app's and
  gunicorn's own refusals), exports, /docs and its assets;
* no server banner with a name or version (gunicorn's ``Server: gunicorn`` is
  replaced, see api/server.py), no X-Powered-By;
* no traceback, SQL or internals in any error body; every error is problem+json;
* only GET, HEAD and OPTIONS;
* request size limits: a long request line is a 414, large or many headers a
  431, a body on a GET a 400/413 (refused unread, answered at once).
"""
from __future__ import annotations

import http.client
import json
import re
import socket
import time

import pytest

from .conftest import Gunicorn, SOURCE

LEAKS = ("Traceback", 'File "', "SELECT ", "sqlite", "psycopg", "peewee", "werkzeug", "gunicorn", "/work/",
         "site-packages", ".py", "Exception")
BANNER = re.compile(r"gunicorn|werkzeug|python|flask|\d+\.\d+", re.IGNORECASE)


@pytest.fixture(scope="module")
def server(sqlite_url):
    server = Gunicorn(sqlite_url, workers=1).wait("/readyz")
    yield server
    server.stop()


def raw(server, request: bytes, method: str = "GET", timeout: float = 10.0):
    """Send bytes as they are; (status, headers, body) of the answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(request)
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        body = response.read()
        return response.status, response.headers, body


def request(server, method: str, target: str, headers: dict | None = None, body: bytes = b"") -> tuple:
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return raw(server, head + body, method)


# every kind of answer the server gives: (method, target, headers, expected status)
ANSWERS = [
    ("GET", "/v1/events?limit=2", {}, 200),
    ("GET", "/v1/events/khamis-meets-rouhani", {}, 200),
    ("GET", "/v1/events?format=ndjson", {}, 200),
    ("GET", "/v1/events?format=csv", {}, 200),
    ("GET", "/v1/events?format=geojson", {}, 200),
    ("GET", "/v1/stats/timeline?format=csv", {}, 200),
    ("GET", f"/v1/sources/{SOURCE}?highlight=tehran", {}, 200),
    ("GET", "/v1/search?q=%D8%A3%D8%B3%D8%AA%D8%A7%D9%86%D8%A7", {}, 200),
    ("GET", "/v1/openapi.json", {}, 200),
    ("GET", "/docs", {}, 200),
    ("GET", "/docs/init.js", {}, 200),
    ("GET", "/docs/assets/swagger-ui.css", {}, 200),
    ("GET", "/docs/assets/swagger-ui-bundle.js", {}, 200),
    ("GET", "/healthz", {}, 200),
    ("GET", "/readyz", {}, 200),
    ("HEAD", "/v1/events", {}, 200),
    ("OPTIONS", "/v1/events", {"Origin": "https://dash.example", "Access-Control-Request-Method": "GET"}, 204),
    ("GET", "/v1/events?limit=0", {}, 400),
    ("GET", "/v1/events?colour=blue", {}, 400),
    ("GET", "/v1/search?q=%00", {}, 400),
    ("GET", "/v1/events/no-such-event", {}, 404),
    ("GET", "/v1/events/..%2f..%2fetc%2fpasswd", {}, 404),
    ("GET", "/docs/assets/nothing.js", {}, 404),
    ("GET", "/nowhere", {}, 404),
    ("POST", "/v1/events", {"Content-Type": "application/json"}, 405),
    ("DELETE", "/v1/events/khamis-meets-rouhani", {}, 405),
    ("GET", "/v1/events", {"Accept": "image/png"}, 406),
    ("GET", "/v1/events", {"Content-Length": "100000000"}, 413),
    ("GET", "/v1/events?" + "a" * 9000, {}, 414),
    ("GET", "/v1/events", {"X-Padding": "a" * 9000}, 431),
]


@pytest.mark.parametrize("method,target,headers,status", ANSWERS, ids=[f"{a[0]} {a[1][:40]} {a[3]}" for a in ANSWERS])
def test_every_answer_has_nosniff_and_no_banner(server, method, target, headers, status):
    got, response_headers, body = request(server, method, target, headers)
    assert got == status, body[:300]
    assert response_headers["X-Content-Type-Options"] == "nosniff"
    for name in response_headers.get_all("Server") or []:
        assert not BANNER.search(name), name
    assert "X-Powered-By" not in response_headers
    if status >= 400:
        assert response_headers["Content-Type"] == "application/problem+json"
        problem = json.loads(body)
        assert problem["status"] == status and problem["type"].startswith("https://")
        text = body.decode("utf-8")
        for leak in LEAKS:
            assert leak not in text, leak


def test_the_server_header_is_the_apps_own(server):
    _, headers, _ = request(server, "GET", "/healthz")
    assert headers.get_all("Server") == ["event-records"]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "TRACE", "PROPFIND", "MKCOL", "LOCK", "PURGE"])
def test_only_get_head_and_options(server, method):
    status, headers, body = request(server, method, "/v1/events", {"X-Probe": "echo-me"}, b"{}" if method != "TRACE" else b"")
    assert status == 405
    assert {m.strip() for m in headers["Allow"].split(",")} == {"GET", "HEAD", "OPTIONS"}
    assert b"echo-me" not in body  # TRACE does not reflect the request
    assert headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("line", [b"FOO\x01 / HTTP/1.1", b"GET /v1/events HTTP/9.9", b"GET /v1/events", b"G\xffT / HTTP/1.1"])
def test_malformed_requests_are_refused_in_the_same_shape(server, line):
    status, headers, body = raw(server, line + b"\r\nHost: x\r\n\r\n")
    assert 400 <= status < 500 or status == 505
    assert headers["Content-Type"] == "application/problem+json"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert json.loads(body)["status"] == status


def test_request_size_limits(server):
    # the request line: gunicorn's limit_request_line (8190)
    status, _, _ = request(server, "GET", "/v1/events?q=" + "x" * 8200)
    assert status == 414
    # under that limit, the app caps any parameter at 1,000 characters and q at 200
    status, _, body = request(server, "GET", "/v1/events?source=" + "x" * 5000)
    assert status == 400 and "source" in json.loads(body)["errors"]
    # one header over limit_request_field_size (8190), or more than limit_request_fields (100)
    status, _, _ = request(server, "GET", "/v1/events", {"Cookie": "c" * 9000})
    assert status == 431
    status, _, _ = request(server, "GET", "/v1/events", {f"X-H{i}": "1" for i in range(101)})
    assert status == 431
    # a huge Accept under the limits is read, not choked on
    status, _, _ = request(server, "GET", "/v1/events", {"Accept": ", ".join(["text/html"] * 600)})
    assert status == 406


def test_a_body_on_a_get_is_refused_unread_and_at_once(server):
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        # 100 MB announced, none sent: the answer must not wait for it
        sock.sendall(b"GET /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n")
        response = http.client.HTTPResponse(sock)
        response.begin()
        body = response.read()
    assert response.status == 413 and json.loads(body)["status"] == 413
    assert time.monotonic() - started < 3
    status, _, body = request(server, "GET", "/v1/events", {"Content-Type": "text/plain"}, b"hello")
    assert status == 400 and "body" in json.loads(body)["errors"]
    status, _, _ = request(server, "GET", "/healthz")
    assert status == 200  # and the server is none the worse

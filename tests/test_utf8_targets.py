"""Request targets with raw UTF-8 bytes, as curl sends the README's Arabic example, over a raw
socket to both servers the API runs under: ``event-records serve`` (gunicorn) and
``flask --app api run`` (werkzeug's development server)."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys

import pytest

from tests.conftest import ROOT, free_port, wait_for

QUERY = "/v1/participants?q=ولايتي&fields=name_en"


def raw_get(port: int, target: bytes, headers: bytes = b"") -> tuple[int, dict, bytes]:
    """One request whose target is sent byte for byte (http.client would refuse non-ASCII)."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + headers + b"\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    if fields.get("transfer-encoding") == "chunked":
        body = dechunk(body)
    return int(lines[0].split()[1]), fields, body


def dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, body = out + body[:size], body[size + 2:]
    return out


@pytest.fixture()
def flask_server(sqlite_url):
    port = free_port()
    flask = shutil.which("flask") or None
    command = [flask] if flask else [sys.executable, "-m", "flask"]
    process = subprocess.Popen([*command, "--app", "api", "run", "--port", str(port)], cwd=ROOT,
                               env={**os.environ, "DATABASE_URL": sqlite_url}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        yield port
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture()
def gunicorn_port(sqlite_url, gunicorn_factory):
    return gunicorn_factory(sqlite_url, workers=1).wait().port


@pytest.fixture(params=["gunicorn", "flask run"])
def server_port(request):
    return request.getfixturevalue("gunicorn_port" if request.param == "gunicorn" else "flask_server")


def test_raw_utf8_query_finds_what_the_percent_encoded_one_finds(server_port):
    from urllib.parse import quote

    status, _, body = raw_get(server_port, QUERY.encode("utf-8"))
    assert status == 200, body
    raw = json.loads(body)
    assert raw["data"][0]["id"] == "ali-akbar-velayati"
    encoded = raw_get(server_port, quote(QUERY, safe="/?=&").encode("ascii"))
    assert json.loads(encoded[2])["data"] == raw["data"]


def test_raw_utf8_path_reaches_the_router(server_port):
    """A raw non-ASCII path is a 404 problem from the app (not a refused request line)."""
    status, headers, body = raw_get(server_port, "/v1/places/طهران".encode("utf-8"))
    assert status == 404
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["status"] == 404


def test_raw_bytes_that_are_not_utf8_are_a_400_naming_the_parameter(server_port):
    status, headers, body = raw_get(server_port, b"/v1/participants?q=\xff\xfe")
    assert status == 400
    assert "q" in json.loads(body)["errors"]


def test_gunicorn_refusals_carry_cors_headers(gunicorn_port):
    """A request gunicorn refuses itself (here a target with a control byte) is answered in the
    app's problem shape with the CORS header a browser page needs to read it."""
    status, headers, body = raw_get(gunicorn_port, b"/v1/events?q=a\x01b")
    assert status == 400
    assert headers["content-type"] == "application/problem+json"
    assert headers["access-control-allow-origin"] == "*"
    assert json.loads(body)["status"] == 400

"""End to end: `event-records serve` (a real gunicorn) on loopback."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request

from .conftest import ROOT, copy_dataset, free_port, wait_for


def fetch(url: str, headers: dict | None = None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_health_readiness_and_data_through_gunicorn(database_url, gunicorn_factory):
    server = gunicorn_factory(database_url).wait("/readyz")
    status, _, body = fetch(server.base + "/healthz")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    status, _, body = fetch(server.base + "/readyz")
    assert status == 200 and json.loads(body)["status"] == "ready"

    status, headers, body = fetch(server.base + "/v1/events?participant=hassan-rouhani&limit=500")
    assert status == 200
    events = json.loads(body)["data"]
    assert "khamis-meets-rouhani" in [e["id"] for e in events]
    status, _, body = fetch(server.base + "/v1/events?participant=hassan-rouhani&limit=500", {"If-None-Match": headers["ETag"]})
    assert status == 304 and body == b""
    assert "gunicorn" not in headers.get("Server", "").lower() or "/" not in headers.get("Server", "")

    status, headers, body = fetch(server.base + "/v1/events?limit=0")
    assert status == 400 and headers["Content-Type"] == "application/problem+json"


def test_readyz_fails_without_data_while_healthz_stays_up(tmp_path, gunicorn_factory):
    empty = f"sqlite:///{tmp_path / 'missing.sqlite3'}"
    server = gunicorn_factory(empty).wait("/healthz")
    status, headers, body = fetch(server.base + "/readyz")
    assert status == 503 and headers["Content-Type"] == "application/problem+json"
    assert "Retry-After" in headers
    status, _, _ = fetch(server.base + "/v1/events")
    assert status == 503


def run_serve(args, env, timeout=60):
    return subprocess.Popen([sys.executable, "-m", "api.cli", "serve", *args], cwd=env["WORKDIR"],
                            env={k: v for k, v in env.items() if k != "WORKDIR"}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def test_serve_loads_a_missing_database_then_serves(tmp_path):
    copy_dataset(tmp_path)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WORKDIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    process = run_serve(["--port", str(port), "--workers", "1"], env)
    try:
        wait_for(f"http://127.0.0.1:{port}/readyz", timeout=60)
        assert (tmp_path / "data" / "event-records.sqlite3").exists()
        status, _, body = fetch(f"http://127.0.0.1:{port}/v1/events?limit=1")
        assert status == 200 and json.loads(body)["meta"]["total"] > 0
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output = process.communicate(timeout=30)[0]
    assert process.returncode == 0, output
    assert "loading" in output


def test_serve_refuses_broken_fixtures_with_exit_1(tmp_path):
    copy_dataset(tmp_path)
    events = next((tmp_path / "fixtures").glob("*/events.json"))
    events.write_text(events.read_text(encoding="utf-8").replace('"status": "planned"', '"status": "someday"'), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WORKDIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    process = run_serve(["--port", str(free_port())], env)
    output = process.communicate(timeout=60)[0]
    assert process.returncode == 1
    assert "status" in output and "nothing was loaded" in output

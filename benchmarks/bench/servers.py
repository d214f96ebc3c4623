"""The three servers of a run, all on 127.0.0.1: ours (``event-records serve``), Datasette on
the same file, and the floor (a bare WSGI app under our gunicorn settings)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .processes import HOST, OUT, REPO, VENV_BIN, Server, free_port

WORKERS = 2
THREADS = 4

# the floor: the same gunicorn settings as ours (api/server.py: workers, threads, worker class,
# one socket per worker), answering every request with one fixed body and nothing else
FLOOR_APP = r'''
import sys
sys.path.insert(0, {repo!r})
from gunicorn.app.base import BaseApplication
from api.server import gunicorn_options

BODY = open({body!r}, "rb").read()
HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


def app(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]


class Floor(BaseApplication):
    def load_config(self):
        for key, value in gunicorn_options("127.0.0.1", {port}, {workers}, {threads}).items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self):
        return app


Floor().run()
'''


def start_ours(database: Path, tmp: Path) -> Server:
    port = free_port()
    env = {**os.environ, "WEB_CONCURRENCY": str(WORKERS)}
    return Server("ours", [str(VENV_BIN / "event-records"), "serve", "--no-load", "--database-url",
                           f"sqlite:///{database}", "--port", str(port), "--workers", str(WORKERS),
                           "--threads", str(THREADS)], port, "/readyz", tmp / "ours.log", env)


def datasette_binary(given: str) -> str:
    """The datasette executable: given, on the PATH (the bench extra installs it), or installed
    into benchmarks/out/datasette-venv on first use."""
    if given:
        return given
    for found in (VENV_BIN / "datasette", shutil.which("datasette")):
        if found and Path(found).exists():
            return str(found)
    venv = OUT / "datasette-venv"
    binary = venv / "bin" / "datasette"
    if not binary.exists():
        print("installing datasette into benchmarks/out/datasette-venv …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "datasette>=0.65,<0.66"], check=True)
    return str(binary)


#: a Datasette plugin that gives its connections the memory map ours read through
MMAP_PLUGIN = '''from datasette import hookimpl


@hookimpl
def prepare_connection(conn):
    conn.execute("PRAGMA mmap_size = {mapped_bytes}")
'''


def mapped_bytes() -> int:
    """What our server maps of the file: its SQLITE_MMAP_BYTES setting, as api/app.py reads it."""
    from api.app import default_config

    return default_config()["SQLITE_MMAP_BYTES"]


def start_datasette(binary: str, database: Path, tmp: Path) -> Server:
    """Datasette on the same file, reading it through the same memory map as ours (a plugin of one
    hook, written here): both servers read the file the same way."""
    port = free_port()
    plugins = tmp / "datasette-plugins"
    plugins.mkdir(exist_ok=True)
    (plugins / "mmap.py").write_text(MMAP_PLUGIN.format(mapped_bytes=mapped_bytes()))
    return Server("datasette", [binary, "serve", "-i", str(database), "-h", HOST, "-p", str(port),
                                "--plugins-dir", str(plugins),
                                "--setting", "sql_time_limit_ms", "20000",
                                "--setting", "max_returned_rows", "1000",
                                "--setting", "suggest_facets", "off",
                                "--setting", "max_csv_mb", "0"],  # no 100 MB cap on the export
                  port, "/-/versions.json", tmp / "datasette.log")


def start_floor(body: bytes, tmp: Path) -> Server:
    body_file = tmp / "floor-body.json"
    body_file.write_bytes(body)
    port = free_port()
    script = tmp / "floor.py"
    script.write_text(FLOOR_APP.format(repo=str(REPO), body=str(body_file), port=port, workers=WORKERS,
                                       threads=THREADS))
    return Server("floor", [sys.executable, str(script)], port, "/", tmp / "floor.log")

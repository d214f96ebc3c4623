"""Connections are spread over the gunicorn workers (issue 20).

Each worker listens on its own SO_REUSEPORT socket, so the kernel spreads new
connections over them; with one shared socket the worker that woke first could
take a whole burst of keep-alive connections while the other idled. Read from
/proc (no ss needed): which process holds which socket of the server's port.
"""
from __future__ import annotations

import http.client
import os
import time
from pathlib import Path

#: TCP states in /proc/net/tcp
ESTABLISHED, LISTEN = "01", "0A"
CONNECTIONS = 32


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


def test_each_worker_listens_and_connections_reach_both(sqlite_url, gunicorn_factory):
    server = gunicorn_factory(sqlite_url, workers=2).wait("/healthz")
    master = gunicorn_master(server)
    deadline = time.monotonic() + 20
    while len(workers_of(master)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    listening = held_by_worker(server.port, master, LISTEN)
    # one socket each, not one socket inherited by both
    assert [len(inodes) for inodes in listening.values()] == [1, 1], listening
    assert len(set.union(*listening.values())) == 2, f"the workers share one listening socket: {listening}"

    connections = [http.client.HTTPConnection("127.0.0.1", server.port, timeout=15) for _ in range(CONNECTIONS)]
    try:
        for connection in connections:  # keep-alive: each stays with the worker that accepted it
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()
            assert response.status == 200
        held = {pid: len(inodes) for pid, inodes in held_by_worker(server.port, master, ESTABLISHED).items()}
    finally:
        for connection in connections:
            connection.close()
    assert sum(held.values()) == CONNECTIONS, held
    # by the kernel's hash of the addresses: all 32 on one of 2 workers has odds of 2**-31
    assert min(held.values()) > 0, f"every connection on one worker: {held}"


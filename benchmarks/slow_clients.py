"""Slow clients and probes for benchmarks/load.py (not a timed test; loopback only).

* slow-header clients: each sends a request head one byte every ``interval``
  seconds and never finishes it; dropped by the server, it connects again, until
  the deadline;
* stalled exports: each asks for a large NDJSON export, reads the status line and
  then nothing more, holding the connection open until the deadline (one refused
  with 429/503 asks again a second later);
* probes: a fresh connection every ``PROBE_EVERY`` seconds for ``/healthz`` and
  ``/v1/events?limit=1``, as a load balancer's health check or a new visitor would;
  each probe's latency is kept.
"""
from __future__ import annotations

import http.client
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

PROBE_PATHS = ("/healthz", "/v1/events?limit=1")
PROBE_EVERY = 0.25
PROBE_TIMEOUT = 10.0
#: a probe slower than this is a failure of the run
PROBE_LIMIT = 1.0
EXPORT_PATH = "/v1/events?format=ndjson&include_undated=true"
#: a small receive buffer: the server's writes stall after a few kilobytes
STALLED_RCVBUF = 4096
#: the slow clients' own loopback addresses: the server's per-client export limit tells them
#: from the normal clients (127.0.0.1), as it would tell an attacker from other visitors
SLOW_HEADER_ADDRESS = "127.0.0.3"
STALLED_EXPORT_ADDRESS = "127.0.0.2"


@dataclass
class SlowStats:
    probe_latencies: dict = field(default_factory=lambda: {path: [] for path in PROBE_PATHS})
    probe_failures: list = field(default_factory=list)
    export_statuses: Counter = field(default_factory=Counter)
    head_connections: int = 0  # connections the slow-header clients opened (a drop makes another)
    export_connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _address(base: str) -> tuple[str, int]:
    parts = urlsplit(base)
    assert parts.hostname in ("127.0.0.1", "localhost"), "slow clients are for IPv4 loopback servers only"
    return parts.hostname, parts.port or 80


def slow_header_client(base: str, deadline: float, interval: float, stats: SlowStats) -> None:
    head = b"GET /v1/events?limit=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"s" * 4000
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(_address(base), timeout=5, source_address=(SLOW_HEADER_ADDRESS, 0)) as sock:
                with stats.lock:
                    stats.head_connections += 1
                for byte in head:
                    if time.monotonic() >= deadline:
                        return
                    sock.sendall(bytes([byte]))
                    time.sleep(interval)
        except OSError:
            time.sleep(interval)  # dropped (the header timeout): come back, as an attacker would


def stalled_export_client(base: str, deadline: float, stats: SlowStats) -> None:
    request = f"GET {EXPORT_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    while time.monotonic() < deadline:
        try:
            with socket.socket() as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, STALLED_RCVBUF)
                sock.settimeout(10)
                sock.bind((STALLED_EXPORT_ADDRESS, 0))
                sock.connect(_address(base))
                sock.sendall(request)
                status_line = sock.recv(16)  # "HTTP/1.1 200 OK": then nothing more is read
                status = status_line.split()[1].decode() if len(status_line.split()) > 1 else "?"
                with stats.lock:
                    stats.export_connections += 1
                    stats.export_statuses[status] += 1
                if status != "200":
                    time.sleep(1.0)  # refused (429/503): ask again a little later
                    continue
                # held open and unread until the deadline: the server's send timeout frees its side,
                # and the clients that were refused keep asking for the slot
                time.sleep(max(0.0, deadline - time.monotonic()))
        except OSError:
            time.sleep(0.5)


def prober(base: str, deadline: float, stats: SlowStats) -> None:
    host, port = _address(base)
    turn = 0
    while time.monotonic() < deadline:
        path = PROBE_PATHS[turn % len(PROBE_PATHS)]
        turn += 1
        started = time.perf_counter()
        connection = http.client.HTTPConnection(host, port, timeout=PROBE_TIMEOUT)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as error:
            status = f"{type(error).__name__}"
        finally:
            connection.close()
        elapsed = time.perf_counter() - started
        with stats.lock:
            stats.probe_latencies[path].append(elapsed)
            if status != 200 or elapsed > PROBE_LIMIT:
                stats.probe_failures.append((path, status, round(elapsed, 3), time.strftime("%H:%M:%S")))
        time.sleep(PROBE_EVERY)


def start(base: str, deadline: float, slow_headers: int, stalled_exports: int, interval: float,
          stats: SlowStats) -> list[threading.Thread]:
    """The slow clients and the prober, started (daemon threads that stop at ``deadline``)."""
    threads = [threading.Thread(target=slow_header_client, args=(base, deadline, interval, stats), daemon=True)
               for _ in range(slow_headers)]
    threads += [threading.Thread(target=stalled_export_client, args=(base, deadline, stats), daemon=True)
                for _ in range(stalled_exports)]
    for thread in threads:
        thread.start()
    time.sleep(min(2.0, max(0.0, deadline - time.monotonic())))  # every slow client is in place first
    probe = threading.Thread(target=prober, args=(base, deadline, stats), daemon=True)
    probe.start()
    return [*threads, probe]


def report(stats: SlowStats, percentile) -> bool:
    """Print the probes' latencies and what the slow clients got; True when every probe was
    answered 200 within PROBE_LIMIT."""
    ms = lambda value: f"{value * 1000:.1f} ms"  # noqa: E731
    print(f"slow clients: {stats.head_connections} slow-header connections opened, "
          f"{stats.export_connections} stalled exports (statuses: "
          + ", ".join(f"{s}: {n}" for s, n in sorted(stats.export_statuses.items())) + ")")
    for path, values in stats.probe_latencies.items():
        worst = max(values) if values else float("nan")
        print(f"  probe {path:<20} {len(values):>4}  p50 {ms(percentile(values, 0.5)):>9}  "
              f"p99 {ms(percentile(values, 0.99)):>9}  max {ms(worst):>9}")
    for failure in stats.probe_failures[:10]:
        print(f"  probe failed (path, status, seconds, at): {failure}")
    answered = all(stats.probe_latencies.values())
    return answered and not stats.probe_failures

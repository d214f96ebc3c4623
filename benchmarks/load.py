"""Drive a real event-records server with concurrent keep-alive clients (not a timed test).

    python benchmarks/load.py [--url http://127.0.0.1:8000] [--duration 30] [--connections 32]
                              [--database-url URL] [--workers 2] [--threads 4] [--seed 1]

Without --url it starts ``event-records serve --no-load`` itself on a free loopback
port (DATABASE_URL from --database-url or the environment; the database must be
loaded already) and stops it at the end. Each of --connections threads keeps one
HTTP/1.1 connection open (http.client) and sends requests back to back for
--duration seconds, drawn (weighted) from a mix of realistic URLs built from ids
the server itself lists: lists with filters, cursor pages, single records with and
without embedding, exports, search in Arabic and English, stats, conditional GETs
(If-None-Match: 304), and bad requests that must get their 4xx.

Slow clients (--slow-headers N, --stalled-exports M; benchmarks/slow_clients.py) run beside
the normal ones, or alone with --connections 0: N connections that send their request head a
byte every --slow-interval seconds, M clients that start a large NDJSON export and never read
it, while probes of /healthz and /v1/events (a fresh connection every 0.25 s) measure whether
the server still answers; their latencies are printed, and a probe over 1 s fails the run.

Prints requests, requests/s, errors (connection errors + unexpected statuses), 5xx,
latency p50/p90/p99/max overall and per kind of URL, and the statuses seen. Exits 1
on any 5xx or error (or a probe over 1 s), 2 if the server could not be started or reached.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import slow_clients  # noqa: E402  (benchmarks/ is not a package)

REPO = Path(__file__).resolve().parent.parent
REQUEST_TIMEOUT = 30.0


@dataclass(frozen=True)
class Target:
    kind: str  # a label for the report
    path: str
    expect: tuple[int, ...] = (200,)
    weight: int = 1
    conditional: bool = False  # send the ETag of this URL's last answer: expect 304
    accept: str | None = None  # an Accept header


@dataclass
class Stats:
    latencies: dict = field(default_factory=lambda: defaultdict(list))
    statuses: Counter = field(default_factory=Counter)
    requests: int = 0
    errors: int = 0
    server_errors: int = 0
    connection_errors: int = 0
    unexpected: Counter = field(default_factory=Counter)
    error_samples: list = field(default_factory=list)


# --------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(base: str, path: str, timeout: float = 10.0) -> tuple[int, dict, bytes]:
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.headers), response.read()
    finally:
        connection.close()


def wait_ready(base: str, timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}")
        try:
            status, _, body = get(base, "/readyz", timeout=2)
            if status == 200:
                return
            last = f"{status} {body[:200]!r}"
        except OSError as error:
            last = error
        time.sleep(0.2)
    raise RuntimeError(f"{base}/readyz did not answer 200 within {timeout:.0f} s (last: {last})")


def start_server(args) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = shutil.which("event-records")
    argv = [command] if command else [sys.executable, "-m", "api.cli"]
    argv += ["serve", "--no-load", "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers),
             "--threads", str(args.threads)]
    env = dict(os.environ)
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"load-server-{port}.log", "w")
    process = subprocess.Popen(argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return process, f"http://127.0.0.1:{port}"


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(40)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


# --------------------------------------------------------------------------- the URL mix


def ids_of(base: str, path: str) -> list[str]:
    status, _, body = get(base, path)
    if status != 200:
        raise RuntimeError(f"{path}: {status} {body[:200]!r}")
    return [record["id"] for record in json.loads(body)["data"]]


def next_cursor_path(base: str, path: str) -> str | None:
    status, _, body = get(base, path)
    links = json.loads(body).get("links", {}) if status == 200 else {}
    return links.get("next")


def build_mix(base: str, rng: random.Random) -> list[Target]:
    events = ids_of(base, "/v1/events?limit=500&include_undated=true&fields=id")
    people = ids_of(base, "/v1/participants?limit=500&sort=id&fields=id")
    places = ids_of(base, "/v1/places?limit=200&fields=id")
    statements = ids_of(base, "/v1/statements?limit=200&fields=id")
    sources = ids_of(base, "/v1/sources?limit=50")
    if not (events and people and sources):
        raise RuntimeError("the server lists no events, participants or sources: is the database loaded?")
    pick = lambda items, n: rng.sample(items, min(n, len(items)))  # noqa: E731
    q = lambda text: quote(text, safe="")  # noqa: E731
    mix = [
        Target("list", "/v1/events", weight=6),
        Target("list", "/v1/events?sort=-date&limit=20", weight=3),
        Target("list", "/v1/events?status=occurred&country=SYR&limit=25", weight=3),
        Target("list", "/v1/events?from=2017-01-01&to=2017-12-31&include_undated=false", weight=2),
        Target("list", "/v1/events?type=04&limit=100", weight=2),
        Target("list", "/v1/events?plover=CONSULT&fields=id,title_en,date", weight=2),
        Target("list", "/v1/statements?mode=direct&limit=30", weight=2),
        Target("list", "/v1/participants?kind=person&limit=100", weight=2),
        Target("list", "/v1/places?sort=-id", weight=1),
        Target("list", "/v1/sources", weight=1),
        Target("list", "/v1/event-types", weight=1),
        Target("search", f"/v1/search?q={q('أستانا')}", weight=3),
        Target("search", f"/v1/search?q={q('خميس')}&kind=participant", weight=2),
        Target("search", f"/v1/search?q={q('الحل السياسي')}", weight=2),
        Target("search", "/v1/search?q=Astana&kind=event&kind=statement", weight=2),
        Target("search", f"/v1/search?q={q('Rouhani')}", weight=2),
        Target("search", f"/v1/events?q={q('دمشق')}", weight=2),
        Target("search", f"/v1/participants?q={q('روحاني')}", weight=1),
        Target("search", "/v1/statements?q=" + q('"political solution"'), weight=1),
        Target("stats", "/v1/stats/timeline", weight=2),
        Target("stats", "/v1/stats/timeline?interval=year&group_by=cameo_root", weight=1),
        Target("stats", "/v1/stats/facets", weight=2),
        Target("stats", "/v1/stats/facets?facet=participant&facet=country&status=occurred", weight=1),
        Target("stats", "/v1/network?limit=50", weight=1),
        # an export may be refused (429) when this client already runs one on that worker
        Target("export", "/v1/participants?format=csv&kind=person", (200, 429), weight=1),
        Target("export", "/v1/places?format=ndjson", (200, 429), weight=1),
        Target("bad", "/v1/events?limit=0", (400,), weight=1),
        Target("bad", "/v1/events?from=2017-13-45", (400,), weight=1),
        Target("bad", "/v1/events?status=maybe&limit=999", (400,), weight=1),
        Target("bad", "/v1/search?q=", (400,), weight=1),
        Target("bad", "/v1/events?cursor=not-a-cursor", (400,), weight=1),
        Target("bad", "/v1/events/no-such-event", (404,), weight=1),
        Target("bad", "/v1/events/..%2f..%2fetc%2fpasswd", (404,), weight=1),
        Target("bad", "/v1/nowhere", (404,), weight=1),
        Target("bad", "/v1/events", (406,), weight=1, accept="image/png"),
    ]
    for event in pick(events, 40):
        mix.append(Target("record", f"/v1/events/{event}", weight=2))
        mix.append(Target("record", f"/v1/events/{event}?include=statements,participants,place", weight=1))
    for person in pick(people, 30):
        mix.append(Target("record", f"/v1/participants/{person}", weight=1))
        mix.append(Target("list", f"/v1/participants/{person}/events?limit=20", weight=1))
        mix.append(Target("list", f"/v1/events?participant={person}", weight=1))
        mix.append(Target("list", f"/v1/statements?speaker={person}", weight=1))
    for place in pick(places, 10):
        mix.append(Target("record", f"/v1/places/{place}", weight=1))
        mix.append(Target("list", f"/v1/events?place={place}", weight=1))
    for statement in pick(statements, 20):
        mix.append(Target("record", f"/v1/statements/{statement}?include=event,speaker", weight=1))
    for source in pick(sources, 3):
        mix.append(Target("record", f"/v1/sources/{source}", weight=1))
    if events:
        mix.append(Target("record", f"/v1/sources/{sources[0]}?highlight={events[0]}", (200, 404), weight=1))
    for start in ("/v1/events?limit=20", "/v1/statements?limit=10&sort=-id", "/v1/participants?limit=50"):
        cursor_page = next_cursor_path(base, start)
        if cursor_page:
            mix.append(Target("cursor", cursor_page, weight=2))
    for target in list(mix):
        if target.kind in ("list", "record") and rng.random() < 0.15:
            mix.append(Target("conditional", target.path, (304,), weight=1, conditional=True))
    return mix


# --------------------------------------------------------------------------- the clients


def client(base: str, mix: list[Target], weights: list[int], deadline: float, seed: int, stats: Stats,
           lock: threading.Lock, etags: dict) -> None:
    rng = random.Random(seed)
    parts = urlsplit(base)
    connection = None
    local_latencies = defaultdict(list)
    local_statuses = Counter()
    requests = errors = server_errors = connection_errors = 0
    unexpected = Counter()
    samples = []
    while time.monotonic() < deadline:
        target = rng.choices(mix, weights)[0]
        headers = {"Accept-Encoding": "identity"}
        if target.accept:
            headers["Accept"] = target.accept
        if target.conditional:
            etag = etags.get(target.path)
            if etag is None:
                continue
            headers["If-None-Match"] = etag
        if connection is None:
            connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=REQUEST_TIMEOUT)
        started = time.perf_counter()
        try:
            connection.request("GET", target.path, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
                connection = None
        except (OSError, http.client.HTTPException) as error:
            connection_errors += 1
            errors += 1
            if len(samples) < 5:
                samples.append(f"{target.path}: {type(error).__name__}: {error}")
            if connection is not None:
                connection.close()
            connection = None
            time.sleep(0.05)
            continue
        elapsed = time.perf_counter() - started
        requests += 1
        local_latencies[target.kind].append(elapsed)
        local_statuses[status] += 1
        if status == 200 and not target.conditional:
            etag = response.getheader("ETag")
            if etag:
                etags[target.path] = etag
        if status >= 500:
            server_errors += 1
        if status not in target.expect:
            errors += 1
            unexpected[(target.path, status)] += 1
    if connection is not None:
        connection.close()
    with lock:
        stats.requests += requests
        stats.errors += errors
        stats.server_errors += server_errors
        stats.connection_errors += connection_errors
        stats.statuses.update(local_statuses)
        stats.unexpected.update(unexpected)
        stats.error_samples.extend(samples)
        for kind, values in local_latencies.items():
            stats.latencies[kind].extend(values)


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def report(stats: Stats, seconds: float, connections: int, base: str) -> None:
    every = [value for values in stats.latencies.values() for value in values]
    ms = lambda value: f"{value * 1000:.1f} ms"  # noqa: E731
    print(f"server:       {base}")
    print(f"duration:     {seconds:.1f} s, {connections} connections (keep-alive)")
    print(f"requests:     {stats.requests} ({stats.requests / seconds:.0f}/s)")
    print(f"errors:       {stats.errors} ({stats.connection_errors} connection errors, "
          f"{sum(stats.unexpected.values())} unexpected statuses)")
    print(f"5xx:          {stats.server_errors}")
    print(f"latency:      p50 {ms(percentile(every, 0.50))}, p90 {ms(percentile(every, 0.90))}, "
          f"p99 {ms(percentile(every, 0.99))}, max {ms(max(every) if every else float('nan'))}")
    print("by kind:")
    for kind in sorted(stats.latencies):
        values = stats.latencies[kind]
        print(f"  {kind:<12} {len(values):>7}  p50 {ms(percentile(values, 0.5)):>10}  p99 {ms(percentile(values, 0.99)):>10}")
    print("statuses:     " + ", ".join(f"{status}: {count}" for status, count in sorted(stats.statuses.items())))
    for (path, status), count in stats.unexpected.most_common(10):
        print(f"  unexpected {status} x{count}: {path}")
    for sample in stats.error_samples[:5]:
        print(f"  connection error: {sample}")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running server (default: start `event-records serve` on a free port)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load (default 30)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent keep-alive clients (default 32)")
    parser.add_argument("--database-url", help="DATABASE_URL of the server this script starts (default: $DATABASE_URL)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of the server this script starts")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker of the server this script starts")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--slow-headers", type=int, default=0, help="clients sending their request head slowly")
    parser.add_argument("--stalled-exports", type=int, default=0, help="clients starting an export and never reading it")
    parser.add_argument("--slow-interval", type=float, default=1.0, help="seconds between a slow client's bytes")
    args = parser.parse_args(argv)
    if not (0 < args.duration <= 3600 and 0 <= args.connections <= 1024):
        parser.error("--duration must be in (0, 3600] and --connections in [0, 1024]")
    if not (0 <= args.slow_headers <= 500 and 0 <= args.stalled_exports <= 200):
        parser.error("--slow-headers must be in [0, 500] and --stalled-exports in [0, 200]")
    if not (args.connections or args.slow_headers or args.stalled_exports):
        parser.error("nothing to run: give --connections or slow clients")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    process = None
    base = (args.url or "").rstrip("/")
    try:
        if not base:
            process, base = start_server(args)
        try:
            wait_ready(base, 60, process)
            mix = build_mix(base, random.Random(args.seed))
        except (RuntimeError, OSError, ValueError) as error:
            print(f"cannot drive {base or 'the server'}: {error}", file=sys.stderr)
            return 2
        return drive(args, base, mix)
    finally:
        if process is not None:
            stop_server(process)


def _run_until(deadline: float, threads: list, slow_threads: list, stats: Stats) -> None:
    """Start the clients, wait for them (and the slow ones) past the deadline; a client still
    waiting for an answer then counts as an error."""
    for thread in threads:
        thread.start()
    for thread in threads + slow_threads:
        thread.join(max(0.0, deadline - time.monotonic()) + REQUEST_TIMEOUT + 5)
    stuck = sum(thread.is_alive() for thread in threads)
    if stuck:
        stats.errors += stuck
        print(f"{stuck} client(s) still waiting for an answer after the deadline", file=sys.stderr)


def drive(args: argparse.Namespace, base: str, mix: list) -> int:
    """The clients against ``base`` for the run's duration, then the report; the exit status."""
    weights = [target.weight for target in mix]
    stats, lock, etags = Stats(), threading.Lock(), {}
    slow = slow_clients.SlowStats()
    print(f"{len(mix)} URLs in the mix; {args.connections} connections, {args.slow_headers} slow-header and "
          f"{args.stalled_exports} stalled-export clients for {args.duration:.0f} s …", flush=True)
    started = time.monotonic()
    deadline = started + args.duration
    slow_threads = []
    if args.slow_headers or args.stalled_exports:
        slow_threads = slow_clients.start(base, deadline, args.slow_headers, args.stalled_exports,
                                          args.slow_interval, slow)
    threads = [threading.Thread(target=client, args=(base, mix, weights, deadline, args.seed * 1000 + n, stats, lock,
                                                     etags), daemon=True) for n in range(args.connections)]
    _run_until(deadline, threads, slow_threads, stats)
    seconds = time.monotonic() - started
    report(stats, seconds, args.connections, base)
    failed = stats.errors or stats.server_errors or (args.connections and not stats.requests)
    if slow_threads:
        failed = not slow_clients.report(slow, percentile) or failed
    print("FAIL" if failed else "OK")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

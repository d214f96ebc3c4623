"""Benchmark: what a request costs before any of its own work (issue 20's CPU targets).

    python benchmarks/stack_floor.py [DATABASE.sqlite3] [--requests N]

In one process, through werkzeug's test client (so the client's own cost is in every line alike),
the CPU per request of:

1. a bare WSGI function answering the bytes of the plain first page (what benchmarks/run.py's
   floor serves under gunicorn);
2. the same bytes from a route added to our app, behind every middleware and hook a page goes
   through (the response cache's lookup and store, the request's database snapshot and dataset
   version, ETag, Vary, CORS, compression negotiation): the framework and the HTTP conventions;
3. the first page of 50 events with participants, up to a random day (``to=``), and one event by
   a random id with everything embedded: benchmark run.py's ``first`` and ``event`` cells.

Line 2 minus line 1 is what our stack adds to any answer; line 3 minus line 2 is the request's own
work (its SQL, the splice of stored bytes, its links). A page whose whole CPU must stay under a
fifth of Datasette's cannot cost less than line 2 plus gunicorn's own share (the floor's CPU in the
benchmark's table). The database is benchmarks/out/events-100000.sqlite3 unless given.
"""
from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from flask import Response  # noqa: E402
from werkzeug.test import Client  # noqa: E402

from api.app import create_app  # noqa: E402

FIRST_PAGE = "/v1/events?limit=50&sort=-date&include=participants"
ONE_EVENT = "/v1/events/{}?include=participants,statements,place"
STACK_ROUTE = "/stack-floor"


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database", nargs="?", type=Path, default=HERE / "out" / "events-100000.sqlite3",
                        help="a loaded SQLite database (default: benchmarks/out/events-100000.sqlite3)")
    parser.add_argument("--requests", type=int, default=3000, help="timed requests per line (default 3,000)")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


def app_with_stack_route(database: Path):
    """Our app, with one more route answering fixed bytes (filled in once the first page is read)."""
    app = create_app({"DATABASE_URL": f"sqlite:///{database.resolve()}", "CURSOR_SECRET": "stack-floor"})
    body: list[bytes] = []

    @app.get(STACK_ROUTE)
    def stack_floor():
        return Response(body[0], mimetype="application/json")

    return app, body


def cpu_per_request(client: Client, paths: list[str], warmup: int) -> float:
    """Milliseconds of this process's CPU per request over ``paths`` (after ``warmup`` of them)."""
    for path in paths[:warmup]:
        client.get(path)
    started = time.process_time()
    for path in paths[warmup:]:
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path}: status {response.status_code}")
        response.close()
    return (time.process_time() - started) / (len(paths) - warmup) * 1000


def main() -> None:
    args = options()
    if not args.database.exists():
        raise SystemExit(f"no database at {args.database} (python benchmarks/run.py --size 100000 --load-only makes it)")
    rng = random.Random(args.seed)
    with sqlite3.connect(f"file:{args.database}?mode=ro", uri=True) as db:
        days = [row[0] for row in db.execute("SELECT DISTINCT date_start FROM event WHERE date_start IS NOT NULL")]
        ids = [row[0] for row in db.execute("SELECT id FROM event")]
    app, body = app_with_stack_route(args.database)
    client = app.test_client()
    body.append(client.get(FIRST_PAGE).data)

    def bare(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body[0])))])
        return [body[0]]

    warmup = min(200, args.requests)
    # every URL distinct, so that the response cache answers none (days: as many as the data has)
    n = min(args.requests, len(days) - warmup, len(ids) - warmup)
    days, ids = rng.sample(days, n + warmup), rng.sample(ids, n + warmup)
    lines = [
        ("bare WSGI function, the first page's bytes", Client(bare), [f"/?n={i}" for i in range(n + warmup)]),
        ("our app: a route answering those bytes", client, [f"{STACK_ROUTE}?n={i}" for i in range(n + warmup)]),
        ("our app: first page, 50, participants, to=", client,
         [f"{FIRST_PAGE}&to={day}" for day in days]),
        ("our app: one event, everything embedded", client,
         [ONE_EVENT.format(event_id) for event_id in ids]),
    ]
    print(f"{args.database.name}: {len(body[0]):,} bytes in the first page; {n:,} requests per line, "
          f"CPU of this process (werkzeug's test client included in each)")
    figures = {}
    for label, line_client, paths in lines:
        figures[label] = cpu_per_request(line_client, paths, warmup)
        print(f"  {label:45} {figures[label]:6.3f} ms")
    floor, stack = figures[lines[0][0]], figures[lines[1][0]]
    print(f"  the stack adds {stack - floor:.3f} ms to any answer; the first page's own work "
          f"{figures[lines[2][0]] - stack:.3f} ms, one event's {figures[lines[3][0]] - stack:.3f} ms")


if __name__ == "__main__":
    main()

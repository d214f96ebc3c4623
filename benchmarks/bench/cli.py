"""``python benchmarks/run.py``: options, and the run over each size."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from . import checks, report, rounds, servers, wrk
from .corpus import dataset_facts, ensure_database, warm_page_cache
from .processes import OUT, VENV_BIN, get, wait_idle
from .requests import PLAIN, REPEATED_PATH, Builder, Sample, q
from .sql import EMBED_PARTICIPANTS

SIZES = (100_000, 1_000_000)
QUICK_SIZE = 20_000
CELLS = ("first", "event", "facet", "search", "deep", "dyads", "timeline", "repeated", "export")
NOTES = {
    "first": "varied: newest first up to a random day (to=)",
    "event": "varied: random ids; include=participants,statements,place",
    "deep": "varied: random depths 30-70 % of the events (cursor signed as the API signs it)",
    "search": "varied: a word of 40 (20 Arabic, 20 English), to= a random day; Datasette: the FTS5 expression ours matches the word by",
    "dyads": "Datasette: GROUP BY source_actor, target_actor over event_dyad (its copy of the dates), names by subquery",
    "repeated": "ours against the floor, alternating, same body",
}
TITLES = {
    "first": "first page, 50, -date, participants, to=",
    "event": "one event, participants+statements+place",
    "facet": "facet cameo_root, from/to",
    "search": "search a word, -date, to=",
    "deep": "page 30-70 % deep, cursor, participants",
    "dyads": "dyads top 100, from/to",
    "timeline": "timeline by month, from/to",
    "repeated": "first page repeated (cache) vs floor",
}
SECRET = "benchmark-cursor-secret"


def options(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/run.py",
        description="Our API (gunicorn) against Datasette on the very same SQLite file, at one or more sizes.")
    parser.add_argument("--size", default=None,
                        help="events, comma-separated (default 100000,1000000; --quick: 20000)")
    parser.add_argument("--events", dest="size", help=argparse.SUPPRESS)  # the old name
    parser.add_argument("--quick", action="store_true",
                        help="20,000 events, 2 s per run, 1 s warm-up: under 5 minutes once the database exists")
    parser.add_argument("--duration", type=float, default=None, help="seconds per run (default 6; --quick 2)")
    parser.add_argument("--warmup", type=float, default=None, help="seconds of warm-up per server (default 2; --quick 1)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per cell and server, order alternating (default 3)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument("--only", default="", help=f"comma-separated cells of {','.join(CELLS)}")
    parser.add_argument("--no-datasette", action="store_true", help="ours (and the floor) only; no comparison")
    parser.add_argument("--datasette", default="", help="path of the datasette executable")
    parser.add_argument("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-run", type=int, default=None,
                        help="distinct URLs written per run (default 3,500 per second of run, at most 40,000)")
    parser.add_argument("--samples", type=int, default=3, help="URLs of each round's slice compared per cell (default 3)")
    parser.add_argument("--keep-going", action="store_true", help="measure even when the answers differ (still exit 1)")
    parser.add_argument("--probe-timeout", type=float, default=60.0,
                        help="a server whose first request of a cell takes longer is skipped there (default 60 s)")
    parser.add_argument("--reload", action="store_true", help="load the database again (and measure the load)")
    parser.add_argument("--load-only", action="store_true", help="stop after making/loading the databases")
    parser.add_argument("--profile", default="", metavar="CELL",
                        help="after the rounds, profile our server with py-spy during one more run of CELL")
    parser.add_argument("--py-spy", dest="py_spy", default=shutil.which("py-spy") or str(VENV_BIN / "py-spy"))
    parser.add_argument("--json", type=Path, default=None,
                        help="figures file (default benchmarks/out/bench-<date>.json, written after every cell)")
    parser.add_argument("--report", type=Path, default=None, metavar="JSON", help="print the tables of a figures file")
    args = parser.parse_args(argv)
    args.sizes = [int(s.replace("_", "")) for s in args.size.split(",")] if args.size else (
        [QUICK_SIZE] if args.quick else list(SIZES))
    args.seconds = args.duration or (2.0 if args.quick else 6.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 2.0)
    args.per_run = args.per_run or max(2_000, min(40_000, int(3_500 * args.seconds)))
    args.cells = [c.strip() for c in args.only.split(",") if c.strip()] or list(CELLS)
    unknown = set(args.cells) - set(CELLS) | ({args.profile} - set(CELLS) - {""})
    if unknown:
        parser.error(f"unknown cell(s) {', '.join(sorted(unknown))}: choose from {', '.join(CELLS)}")
    return args


def settings_line(args) -> str:
    return (f"wrk -t{args.threads} -c{args.connections}, {args.rounds} rounds of {args.seconds:g} s per cell and "
            f"server after a {args.warmup:g} s warm-up, order alternating; ours = gunicorn {servers.WORKERS} workers x "
            f"{servers.THREADS} threads; Datasette immutable, 1 process; both read the file through a "
            f"{servers.mapped_bytes() >> 20} MiB memory map")


def main(argv=None) -> int:
    args = options(argv)
    if args.report:
        return print_document(json.loads(args.report.read_text()))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers (finally) on kill
    started = dt.datetime.now(dt.UTC)
    json_path = args.json or OUT / f"bench-{started:%Y%m%dT%H%M%S}.json"
    datasette = None if args.no_datasette else servers.datasette_binary(args.datasette)
    document = {"started": started.isoformat(timespec="seconds"), "command": " ".join(["python benchmarks/run.py",
                *(argv if argv is not None else sys.argv[1:])]),
                "settings": settings_line(args), **report.environment(args.wrk, datasette), "sizes": {}}
    failed = False
    for events in args.sizes:
        database, load = ensure_database(events, args.seed, args.reload)
        print(f"database {database} ({database.stat().st_size / 2**20:,.0f} MiB); load: {load}", flush=True)
        if args.load_only:
            continue
        size = document["sizes"][str(events)] = {"load": load, "database_mib": round(database.stat().st_size / 2**20),
                                                 "cells": {}}
        began = time.monotonic()
        run_size(events, database, size, args, datasette, lambda: report.save(document, json_path))
        size["seconds"] = round(time.monotonic() - began)
        failed |= bool(size["checks"]["problems"])
        document["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        report.save(document, json_path)
    if not args.load_only:
        print_document(document)
        print(f"\nfigures: {json_path}")
    if failed:
        print("\nFAILED: the servers' answers differ (CHECK FAILED above); the figures do not compare like with like.",
              file=sys.stderr)
    return 1 if failed else 0


def run_size(events: int, database: Path, size: dict, args, datasette: str | None, save) -> None:
    """Start the servers on ``database``, compare their answers, measure every cell, export."""
    size["page_cache_warmed"] = warm_page_cache(database)
    builder = Builder(dataset_facts(database), database.stem, SECRET.encode())
    cells = [c for c in builder.cells() if c.key in args.cells]
    tmp = Path(tempfile.mkdtemp(prefix="event-records-bench-"))
    started: list = []
    os.environ["EVENT_RECORDS_SECRET"] = SECRET  # the cursors made here are signed as the server signs them
    try:
        ours = servers.start_ours(database, tmp)
        started.append(ours)
        running = {"ours": ours}
        if datasette:
            running["datasette"] = servers.start_datasette(datasette, database, tmp)
            started.append(running["datasette"])
        _, _, first_page = get(ours.port, REPEATED_PATH)
        issued = json.loads(first_page)["meta"]["next_cursor"]
        if issued != builder.cursor(builder.facts.keys_desc[49]):
            raise SystemExit(f"the API issued cursor {issued}, not the one computed here: fix Builder.cursor")
        if "repeated" in args.cells:
            running["floor"] = servers.start_floor(first_page, tmp)
            started.append(running["floor"])
        began = time.monotonic()
        size["checks"] = compare_answers(builder, cells, running, args)
        size["checks"]["seconds"] = round(time.monotonic() - began, 1)
        save()
        if size["checks"]["problems"] and not args.keep_going:
            return
        wait_idle(ours.pid)  # what a worker does after its boot (a warm-up thread) is charged to no cell
        setup = rounds.Setup(running, wrk.Load(args.wrk, args.threads, args.connections, args.seconds,
                                               wrk.write_script(tmp)),
                             args.seed, args.per_run, args.rounds, args.warmup, args.probe_timeout, tmp)
        for cell in cells:
            print(f"{events:,} events, {cell.key}: {cell.title}", flush=True)
            size["cells"][cell.key] = rounds.measure_cell(cell, setup, lambda line: print(line, flush=True))
            save()
        if "export" in args.cells:
            size["export"] = export_both(events, database, running, size["checks"])
            save()
        if args.profile:
            size["profile"] = profile_cell(args, cells, setup)
            save()
    finally:
        for server in started:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def compare_answers(builder: Builder, cells, running: dict, args) -> dict:
    """Both servers' answers on samples of every cell, and the dyad counts against /v1/events."""
    problems, over_time, compared = [], [], 0
    for cell in cells:
        samples = checks.samples_of(cell, args.seed, range(1, args.rounds + 1), args.samples)
        if cell.key == "first":  # the plain first page too: the repeated cell and the floor serve it
            plain = builder.page_variants("", EMBED_PARTICIPANTS, {})
            samples.append(Sample(REPEATED_PATH, plain, {"to": None}))
        if cell.key == "search":
            samples += builder.every_search_word()
        found, late = checks.check_cell(cell, samples, running["ours"], running.get("datasette"))
        problems, over_time, compared = problems + found, over_time + late, compared + len(samples)
    # all events, two ranges of the dyads cell (up to 5 years) and two single months
    dyads = next(c for c in builder.cells() if c.key == "dyads")
    months = [builder.random_range(random.Random(f"{args.seed}/dyad-months/{i}"), 28, 31) for i in range(2)]
    ranges = [{}] + [sample.params for sample in checks.samples_of(dyads, args.seed, [1], 2)] + months
    dyad_problems, late, pairs = checks.check_dyad_totals(running["ours"], ranges)
    problems, over_time = problems + dyad_problems, over_time + late
    for problem in problems:
        print(f"  CHECK FAILED: {problem}", flush=True)
    for late in over_time:
        print(f"  not compared (over a time limit): {late}", flush=True)
    print(f"checks: {compared} samples compared{'' if 'datasette' in running else ' (ours only: no Datasette)'}, "
          f"{len(over_time)} answers over a time limit, {pairs} dyad counts against /v1/events totals: "
          f"{len(problems)} problem(s)", flush=True)
    return {"samples": compared, "dyad_pairs": pairs, "problems": problems, "over_time": over_time,
            "with_datasette": "datasette" in running}


def export_both(events: int, database: Path, running: dict, checked: dict) -> dict:
    """Every event once from each server, the record count checked."""
    out = {"ours": rounds.export(running["ours"], "/v1/events?format=ndjson")}
    checked["problems"] += checks.check_export(events, out["ours"], "ours")
    print(f"  export ours: {out['ours']}", flush=True)
    if "datasette" in running:
        theirs = rounds.export(running["datasette"], f"/{database.stem}/event.csv?" +
                               q({"_stream": "on", "_size": "max", "_col": "doc"}), b"\r\n")
        theirs["lines"] -= 1  # the CSV header
        theirs["rate"] = round(theirs["lines"] / theirs["seconds"])
        out[PLAIN] = theirs
        print(f"  export Datasette: {theirs}", flush=True)
        checked["problems"] += checks.check_export(events, theirs, "Datasette")
    return out


def profile_cell(args, cells, setup: rounds.Setup) -> dict:
    """One more run of our server on the cell (a slice no round used), sampled by py-spy."""
    from .requests import write_slice

    cell = next(c for c in cells if c.key == args.profile)
    files = write_slice(cell, args.seed, args.rounds + 1, args.per_run, setup.tmp)
    output = OUT / f"profile-{cell.key}-{dt.datetime.now():%Y%m%dT%H%M}.json"
    summary = wrk.profile(setup.servers["ours"], files["ours"], setup.load, args.py_spy, output)
    print(f"py-spy profile of {cell.key} (ours): {output}\n{summary}", flush=True)
    return {"cell": cell.key, "file": str(output), "summary": summary}


def print_document(document: dict) -> int:
    print(f"\n# event-records benchmark, started {document['started']}")
    print(f"command: {document['command']}")
    before = document.get("load_average_before")
    print(f"machine: {document['machine']}; load average before the run {before[0] if before else '?'}, "
          f"now {os.getloadavg()[0]:.2f}")
    print(f"versions: {document['versions']}")
    for events, size in document["sizes"].items():
        report.print_size(int(events), size, TITLES, NOTES, document["settings"])
    if len(document["sizes"]) > 1:
        report.print_ratios(document)
    return 0

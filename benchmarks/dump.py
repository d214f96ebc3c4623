"""Benchmark: the whole dataset in one download (/v1/dump) and from the command line (event-records dump).

    python benchmarks/dump.py DATABASE.sqlite3 [--skip-http] [--skip-cli]

On a loaded SQLite database (benchmarks/run.py makes benchmarks/out/events-N.sqlite3)
this measures one full ``GET /v1/dump`` from ``event-records serve`` (one worker:
records/s and the peak RSS of the server's process tree, before and during) and
one ``event-records dump DIR`` (records/s, peak RSS of the process). Constant
memory means the peak stays near the idle RSS whatever the size of the dataset.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from bench.processes import VENV_BIN, PeakRSS, free_port, rss_kib, wait_ready


def records_in(manifest: dict) -> int:
    return sum(manifest["counts"].values())


def over_http(database: Path, tmp: Path) -> dict:
    """One GET /v1/dump from a gunicorn worker, streamed to a file."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    server = subprocess.Popen([str(VENV_BIN / "event-records"), "serve", "--no-load", "--port", str(port),
                               "--workers", "1"], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_ready(port, "/healthz")
        idle = rss_kib(server.pid) / 1024
        target = tmp / "dump.zip"
        started = time.perf_counter()
        with PeakRSS(server.pid) as peak:
            subprocess.run(["curl", "-sS", "-o", str(target), f"http://127.0.0.1:{port}/v1/dump"], check=True)
        seconds = time.perf_counter() - started
        manifest = json.loads(zipfile.ZipFile(target).read("manifest.json"))
        return {"how": "GET /v1/dump", "records": records_in(manifest), "seconds": round(seconds, 1),
                "records_per_s": round(records_in(manifest) / seconds), "mib": round(target.stat().st_size / 2**20),
                "idle_rss_mib": round(idle), "peak_rss_mib": round(peak.peak / 1024),
                # (RSS also counts the file pages the server's SQLite memory map read: its own memory apart)
                "peak_anon_mib": round(peak.peak_anon / 1024)}
    finally:
        server.terminate()
        server.wait(30)


def from_cli(database: Path, tmp: Path) -> dict:
    out = tmp / "dir"
    argv = [str(VENV_BIN / "event-records"), "dump", str(out), "--database-url", f"sqlite:///{database}"]
    started = time.perf_counter()
    process = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL)
    with PeakRSS(process.pid) as peak:
        process.wait()
    seconds = time.perf_counter() - started
    manifest = json.loads((out / "manifest.json").read_text())
    return {"how": "event-records dump DIR", "records": records_in(manifest), "seconds": round(seconds, 1),
            "records_per_s": round(records_in(manifest) / seconds), "peak_rss_mib": round(peak.peak / 1024)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database", type=Path)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-cli", action="store_true")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="dump-bench-"))
    try:
        results = ([] if args.skip_http else [over_http(args.database, tmp)]) + \
                  ([] if args.skip_cli else [from_cli(args.database, tmp)])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for result in results:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

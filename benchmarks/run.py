"""Benchmark: our API (gunicorn) against Datasette on the very same SQLite file.

    python benchmarks/run.py [--size 100000,1000000 | --quick] [--duration S] [--only first,deep]
                             [--no-datasette] [--profile CELL]

Makes the corpus and the database of each size if missing (generate.py, then the real loader),
serves the file with our gunicorn and with Datasette (and a bare gunicorn floor), compares their
answers on samples (the run fails on a difference), then measures every cell with wrk: a
warm-up and 3 rounds with the server order alternating, each on URLs no earlier run sent; CPU
of each server's process tree from /proc; wrk's connections per worker from ``ss``. Prints a
table per size, the targets of issue 20 met or missed, and writes every figure to
benchmarks/out/bench-<date>.json. The parts are in benchmarks/bench/ (see its __init__).

Every server is started here and stopped by its process id at the end.
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the bench package
sys.path.insert(0, str(HERE.parent))  # the project (api, models)

from bench.cli import main

if __name__ == "__main__":
    sys.exit(main())

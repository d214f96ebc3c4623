"""Benchmark: the curation cycle at scale: a full load, incremental loads, and a plain reference.

    python benchmarks/curation.py [--events N] [--quick] [--start-from DB]

On the generated corpus of N events (benchmarks/out/corpus-N, made by generate.py
if missing) this measures, each with ``event-records load`` as a curator runs it
(wall time, CPU and peak RSS of the process tree):

1. a plain reference: the same records inserted by this script into a plain
   normalised SQLite schema (no validation, no documents, no search index), in one
   transaction: the cost of writing the data at all, on this machine, in this run;
2. a full load of the corpus with one source held back (``--full``);
3. an unchanged tree (nothing to do);
4. adding the held-back source, changing one source (every title of its events
   edited), removing one source: each an incremental release;
5. where the database's bytes go (SQLite's dbstat: bytes per table and index).

With ``--start-from DB`` steps 1 and 2 are left out: a copy of DB (on disk before
any step) takes an unchanged tree, a change of one source (the first write after
the copy, whose pages the copy pushed out of the page cache), the same change of
another source, a removal and the addition of the removed source back.

Every database is a file under benchmarks/out/curation-N/ (gitignored), made again
by each run. Prints one table; ``--json FILE`` also writes the figures.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"
sys.path.insert(0, str(HERE))

# the same process-tree sampler as the serving benchmark
from bench.processes import VENV_BIN, PeakRSS

PLAIN_SCHEMA = """
CREATE TABLE source (id TEXT PRIMARY KEY, meta TEXT, text TEXT);
CREATE TABLE participant (id TEXT, source TEXT, record TEXT);
CREATE TABLE place (id TEXT, source TEXT, record TEXT);
CREATE TABLE event (id TEXT PRIMARY KEY, source TEXT, title_en TEXT, summary_en TEXT, cameo TEXT, status TEXT,
                    date_start TEXT, date_end TEXT, precision TEXT, place TEXT, evidence TEXT);
CREATE TABLE event_participant (event TEXT, participant TEXT, role TEXT);
CREATE TABLE statement (id TEXT PRIMARY KEY, source TEXT, speaker TEXT, event TEXT, cameo TEXT, mode TEXT,
                        text_en TEXT, span TEXT);
"""


def records(path: Path):
    if not path.exists():
        return
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def plain_load(corpus: Path, target: Path) -> dict:
    """The records of every source inserted as they are: the reference a load is compared with."""
    target.unlink(missing_ok=True)
    started = time.perf_counter()
    db = sqlite3.connect(target)
    db.executescript(PLAIN_SCHEMA)
    for seed in sorted((corpus / "seeds").glob("*.txt")):
        source, fixtures = seed.stem, corpus / "fixtures" / seed.stem
        db.execute("INSERT INTO source VALUES (?, ?, ?)",
                   (source, seed.with_suffix(".json").read_text(encoding="utf-8"), seed.read_text(encoding="utf-8")))
        for kind in ("participant", "place"):
            db.executemany(f"INSERT INTO {kind} VALUES (?, ?, ?)", (
                (r["id"], source, json.dumps(r, ensure_ascii=False)) for r in records(fixtures / f"{kind}s.ndjson")))
        events = list(records(fixtures / "events.ndjson"))
        db.executemany("INSERT INTO event VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (
            (e["id"], source, e["title_en"], e["summary_en"], e["cameo"], e["status"], e["date"].get("start"),
             e["date"].get("end"), e["date"]["precision"], e.get("place"), json.dumps(e["evidence"], ensure_ascii=False))
            for e in events))
        db.executemany("INSERT INTO event_participant VALUES (?, ?, ?)", (
            (e["id"], link["participant"], link["role"]) for e in events for link in e["participants"]))
        db.executemany("INSERT INTO statement VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (
            (s["id"], source, s["speaker"], s.get("event"), s["cameo"], s["mode"], s["text_en"],
             json.dumps(s["span"], ensure_ascii=False)) for s in records(fixtures / "statements.ndjson")))
    db.commit()
    db.close()
    return {"seconds": round(time.perf_counter() - started, 1), "mib": round(target.stat().st_size / 2**20)}


def timed_load(tree: Path, database: Path, *extra: str) -> dict:
    argv = [str(VENV_BIN / "event-records"), "load", "--root", str(tree), "--database-url", f"sqlite:///{database}",
            *extra]
    started = time.perf_counter()
    process = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    with PeakRSS(process.pid) as peak:
        output, _ = process.communicate()
    if process.returncode:
        raise SystemExit(f"{' '.join(argv)} failed (exit {process.returncode})")
    return {"seconds": round(time.perf_counter() - started, 2), "cpu_seconds": round(peak.cpu_seconds, 1),
            "peak_tree_rss_mib": round(peak.peak / 1024), "database_mib": round(database.stat().st_size / 2**20),
            "said": output.strip().split(": ", 1)[-1][:160]}


def move_source(source: str, src: Path, dst: Path) -> None:
    for suffix in (".txt", ".json"):
        shutil.move(src / "seeds" / f"{source}{suffix}", dst / "seeds" / f"{source}{suffix}")
    shutil.move(src / "fixtures" / source, dst / "fixtures" / source)


def edit_titles(tree: Path, source: str) -> None:
    path = tree / "fixtures" / source / "events.ndjson"
    events = list(records(path))
    for event in events:
        event["title_en"] += " (revised)"
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), encoding="utf-8")


def bytes_by_table(database: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall()
    return [(name, size) for name, size in rows]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="20,000 events")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    parser.add_argument("--start-from", type=Path, default=None, metavar="DB",
                        help="a copy of this database, loaded from the whole corpus by this code (e.g. the serving "
                             "benchmark's benchmarks/out/events-N.sqlite3), instead of the plain reference and the full "
                             "load: the incremental steps only (unchanged, change, remove, add the removed one back), "
                             "minutes instead of half an hour at 1M")
    args = parser.parse_args(argv)
    events = 20_000 if args.quick else args.events
    corpus = OUT / f"corpus-{events}"
    if not (corpus / "fixtures" / "codebook.json").exists():
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(events), "--out", str(corpus),
                        "--seed", str(args.seed)], check=True)
    work = OUT / f"curation-{events}"
    shutil.rmtree(work, ignore_errors=True)
    (work / "held" / "seeds").mkdir(parents=True)
    (work / "held" / "fixtures").mkdir(parents=True)
    print(f"copying {corpus} …", flush=True)
    tree = work / "tree"
    shutil.copytree(corpus, tree)
    sources = sorted(p.stem for p in (tree / "seeds").glob("*.txt"))
    held, changed, removed = sources[len(sources) // 2], sources[1], sources[-1]
    figures = {"events": events, "date": dt.datetime.now().isoformat(timespec="seconds"),
               "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}"}
    database = work / "events.sqlite3"
    if args.start_from:
        print(f"copying {args.start_from} …", flush=True)
        shutil.copyfile(args.start_from, database)
        # the copy on disk before any step: its gigabytes of dirty pages would otherwise be
        # written out by the first step's checkpoint (its fsync of the file), timed as that load's
        with database.open("rb+") as handle:
            os.fsync(handle.fileno())
        figures["plain"] = None
        # the first write after the copy reads pages the copy's own traffic pushed out of the
        # page cache: reported as such, then the same change on another source as a served
        # database (its pages in use) meets it
        steps = [("unchanged tree", (), None),
                 ("change one source (first write)", (), lambda: edit_titles(tree, changed)),
                 ("change another source", (), lambda: edit_titles(tree, sources[2])),
                 ("remove one source", (), lambda: move_source(removed, tree, work / "held")),
                 ("add one source", (), lambda: move_source(removed, work / "held", tree))]
    else:
        print("plain reference …", flush=True)
        figures["plain"] = plain_load(corpus, work / "plain.sqlite3")
        move_source(held, tree, work / "held")
        steps = [("full load (all but one source)", ("--full",), None),
                 ("unchanged tree", (), None),
                 ("add one source", (), lambda: move_source(held, work / "held", tree)),
                 ("change one source", (), lambda: edit_titles(tree, changed)),
                 ("remove one source", (), lambda: move_source(removed, tree, work / "held"))]
    figures["steps"] = []
    for label, extra, edit in steps:
        if edit:
            edit()
        print(f"{label} …", flush=True)
        figures["steps"].append({"step": label, **timed_load(tree, database, *extra)})
    figures["bytes"] = bytes_by_table(database)
    plain = figures["plain"]
    print(f"\n{events:,} events, {figures['date']}, {figures['machine']}; "
          + (f"plain reference: {plain['seconds']} s, {plain['mib']} MiB" if plain else
             f"started from a copy of {args.start_from}"))
    print(f"{'step':34} {'wall s':>8} {'CPU s':>7} {'peak MiB':>9} {'DB MiB':>7}  what the load said")
    for step in figures["steps"]:
        print(f"{step['step']:34} {step['seconds']:8} {step['cpu_seconds']:7} {step['peak_tree_rss_mib']:9} "
              f"{step['database_mib']:7}  {step['said']}")
    if plain:
        full = figures["steps"][0]
        print(f"full load / plain: {full['seconds'] / max(plain['seconds'], 0.1):.1f}× the time, "
              f"{full['database_mib'] / max(plain['mib'], 1):.1f}× the bytes")
    print("\nbytes by table and index (dbstat):")
    total = sum(size for _, size in figures["bytes"]) or 1
    for name, size in figures["bytes"][:15]:
        print(f"  {name:40} {size / 2**20:9.1f} MiB {100 * size / total:5.1f} %")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

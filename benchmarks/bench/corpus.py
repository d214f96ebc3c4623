"""The generated corpus, the database the real loader makes of it, and facts read from it."""
from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .processes import HERE, OUT, REPO, VENV_BIN, PeakRSS


def database_path(events: int) -> Path:
    return OUT / f"events-{events}.sqlite3"


def ensure_database(events: int, seed: int, reload: bool = False) -> tuple[Path, dict]:
    """The loaded SQLite file for ``events`` (generated and loaded if missing, or again with
    ``reload``) and the load's measurements."""
    corpus = OUT / f"corpus-{events}"
    database = database_path(events)
    facts_file = OUT / f"events-{events}.load.json"
    stale = stale_layout(database)
    if stale:
        print(f"{database.name}: {stale}; loading it again", flush=True)
    if reload or stale or corpus_problem(corpus, events, seed):
        facts_file.unlink(missing_ok=True)
    if database.exists() and facts_file.exists():
        return database, json.loads(facts_file.read_text())
    OUT.mkdir(parents=True, exist_ok=True)
    stale_corpus = corpus_problem(corpus, events, seed)
    if stale_corpus:
        print(f"{corpus.name}: {stale_corpus}; generating it again", flush=True)
        shutil.rmtree(corpus, ignore_errors=True)
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(events), "--out", str(corpus), "--seed", str(seed)],
                       check=True)
    for path in database.parent.glob(database.name + "*"):
        path.unlink()
    check = measure_check(corpus)
    print(f"loading {corpus} with the real loader …", flush=True)
    argv = [str(VENV_BIN / "event-records"), "load", "--root", str(corpus), "--database-url", f"sqlite:///{database}"]
    started = time.perf_counter()
    process = subprocess.Popen(argv, cwd=REPO, stderr=subprocess.PIPE, text=True)
    steps = {}
    with PeakRSS(process.pid) as peak:
        for line in process.stderr:  # the loader's progress, passed on; its time by step kept
            print(line, end="", file=sys.stderr, flush=True)
            if "time by step: " in line:
                steps = load_steps(line)
        process.wait()
    if process.returncode:
        raise SystemExit(f"the load failed (exit {process.returncode})")
    facts = {
        "events": events, "seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(peak.cpu_seconds, 1),
        "peak_tree_rss_mib": round(peak.peak / 1024), "database_mib": round(database.stat().st_size / 2**20),
        "date": dt.datetime.now().isoformat(timespec="seconds"), "steps": steps, **check,
    }
    facts_file.write_text(json.dumps(facts, indent=1))
    return database, facts


def corpus_problem(corpus: Path, events: int, seed: int) -> str | None:
    """Why the cached corpus cannot be used (missing, cut short, or written by a generator of another
    format or for another seed), or None."""
    from .source_writer import CORPUS_FORMAT

    try:
        made = json.loads((corpus / "generator.json").read_text())
    except (OSError, ValueError):
        return "missing or not finished" if not corpus.exists() else "written by an older generator or cut short"
    wanted = {"format": CORPUS_FORMAT, "events": events, "seed": seed}
    differs = [f"{key} {made.get(key)} (wanted {value})" for key, value in wanted.items() if made.get(key) != value]
    return ", ".join(differs) or None


def load_steps(line: str) -> dict[str, float]:
    """The loader's ``time by step: records 973.3 s, …`` line as {step: seconds}."""
    parts = line.split("time by step: ", 1)[1].strip().split(", ")
    return {name: float(seconds) for name, seconds, _ in (part.rsplit(" ", 2) for part in parts)}


def stale_layout(database: Path) -> str | None:
    """Why ``database`` cannot be measured as it is (loaded by a version of the loader with another
    table or document layout: the code would serve it, but not as a load by this code makes it)."""
    if not database.exists():
        return None
    from models.records import SCHEMA_VERSION

    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
            row = connection.execute("SELECT value FROM dataset_meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.Error as error:
        return f"unreadable ({error})"
    stored = row[0] if row else None
    return None if stored == SCHEMA_VERSION else f"layout {stored}, this code writes {SCHEMA_VERSION}"


def measure_check(corpus: Path) -> dict:
    """``event-records check`` over the corpus: its wall time and the problems it reports (the
    load that follows fails on any, so a finished load reported the same)."""
    print(f"checking {corpus} …", flush=True)
    started = time.perf_counter()
    done = subprocess.run([str(VENV_BIN / "event-records"), "check", "--root", str(corpus)], cwd=REPO,
                          capture_output=True, text=True, check=False)
    problems = [line for line in done.stderr.splitlines() if ": " in line and not line.startswith(" ")]
    return {"check_seconds": round(time.perf_counter() - started, 1), "check_exit": done.returncode,
            "check_problems": len(problems)}


def warm_page_cache(path: Path) -> bool:
    """Read the file once so that neither server pays for the first disk reads (when it fits in
    half of the free memory); whether it was read."""
    available = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            available = int(line.split()[1]) * 1024
    if path.stat().st_size > available // 2:
        return False
    with path.open("rb") as handle:
        while handle.read(16 << 20):
            pass
    return True


@dataclass
class DatasetFacts:
    keys_desc: list  # (sort_date, id) of every event, newest first (the -date order)
    event_ids: list
    first_day: dt.date
    last_day: dt.date
    snapshot: str  # what the served answers are made of (api.database.serving_key): cursors carry it
    matches: dict  # search word -> the FTS5 expression our server matches it by (sql.fts_expressions)


def dataset_facts(database: Path) -> DatasetFacts:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        keys = db.execute("SELECT sort_date, id FROM event ORDER BY sort_date DESC, id DESC").fetchall()
        low, high = db.execute("SELECT min(sort_date), max(sort_date) FROM event WHERE sort_date != ''").fetchone()
        stored = dict(db.execute("SELECT key, value FROM dataset_meta WHERE key IN ('dataset_version', 'release')"))
    from api.database import serving_key

    from .requests import WORDS
    from .sql import fts_expressions

    return DatasetFacts(keys, [k[1] for k in keys], dt.date.fromisoformat(low), dt.date.fromisoformat(high),
                        serving_key(stored["dataset_version"], int(stored.get("release", 0))),
                        fts_expressions(database, WORDS))

"""Benchmark: our API (gunicorn) against Datasette on the very same SQLite file.

    python benchmarks/run.py [--events N | --quick] [--duration S] [--only 1,2,7a] [--no-datasette]

1. Makes the corpus and the database if they are missing (benchmarks/out/corpus-N,
   benchmarks/out/events-N.sqlite3): ``generate.py N``, then the real loader
   ``event-records load``, timed, with the peak memory of its process tree.
2. Serves the file with ``event-records serve --no-load`` (our gunicorn settings,
   2 workers) and with ``datasette serve -i`` (immutable; Datasette is installed
   into benchmarks/out/datasette-venv on first use unless ``--datasette`` names one).
3. Drives both with wrk on equivalent requests (loopback only, bounded in time),
   once with the same URL repeated and once with varied URLs (random ids, dates,
   cursors and search words from fixed lists, generated here with a fixed seed and
   replayed by a wrk Lua script), reading the servers' CPU time from /proc.
4. Measures the floor: a bare WSGI app under the same gunicorn settings returning
   the bytes of request 1.
5. Exports every event as NDJSON (records/s, peak RSS of the server's processes).
6. Prints one table and the targets of issue #8, met or missed.

Every server is started here and stopped by its process id at the end.
"""
from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"
VENV_BIN = Path(sys.executable).parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
HOST = "127.0.0.1"

sys.path.insert(0, str(REPO))


# --------------------------------------------------------------------------- processes


def tree(pid: int) -> list[int]:
    """pid and all its descendants."""
    out = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return out
    for child in children:
        out.extend(tree(int(child)))
    return out


def cpu_ticks(pid: int) -> int:
    """utime + stime of pid and its descendants (clock ticks)."""
    total = 0
    for p in tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        except (OSError, IndexError, ValueError):
            pass
    return total


def cpu_ticks_of(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


def rss_kib(pid: int) -> int:
    total = 0
    for p in tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


class PeakRSS:
    """Samples the summed RSS of a process tree every 100 ms in a thread (and the CPU
    time of each of its processes, as last seen: ``cpu_seconds``)."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._ticks: dict[int, int] = {}
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            for p in tree(self.pid):
                ticks = cpu_ticks_of(p)
                if ticks is not None:
                    self._ticks[p] = ticks
            self._stop.wait(0.1)

    @property
    def cpu_seconds(self) -> float:
        return sum(self._ticks.values()) / CLK_TCK

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_ready(port: int, path: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status, _, _ = get(port, path, timeout=10)
            if status < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not answer {path} within {timeout:.0f} s")


def get(port: int, path: str, timeout: float = 120.0) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


class Server:
    """A server process started here, stopped by its pid (and its process group)."""

    def __init__(self, name: str, argv: list[str], port: int, ready_path: str, log: Path, env=None):
        self.name, self.port = name, port
        self.argv, self.env, self.ready_path = argv, env, ready_path
        self.log = log.open("wb")
        self.process = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                        start_new_session=True, cwd=REPO)
        try:
            wait_ready(port, ready_path)
        except Exception:
            self.stop()
            raise

    @property
    def pid(self) -> int:
        return self.process.pid

    def restart(self) -> None:
        """Stop (the process group) and start again on the same port: drops requests stuck in the server."""
        self.stop()
        self.log = open(self.log.name, "ab")
        self.process = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT, env=self.env,
                                        start_new_session=True, cwd=REPO)
        wait_ready(self.port, self.ready_path)

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)  # the group this Popen created
            except ProcessLookupError:
                pass
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.log.close()


# --------------------------------------------------------------------------- corpus and database


def ensure_database(events: int, seed: int) -> tuple[Path, dict]:
    """The loaded SQLite file for ``events`` (made if missing) and the load's measurements."""
    corpus = OUT / f"corpus-{events}"
    database = OUT / f"events-{events}.sqlite3"
    facts_file = OUT / f"events-{events}.load.json"
    if database.exists() and facts_file.exists():
        return database, json.loads(facts_file.read_text())
    OUT.mkdir(parents=True, exist_ok=True)
    if not (corpus / "fixtures" / "codebook.json").exists():
        shutil.rmtree(corpus, ignore_errors=True)
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(events), "--out", str(corpus), "--seed", str(seed)],
                       check=True)
    for path in database.parent.glob(database.name + "*"):
        path.unlink()
    check = measure_check(corpus)
    print(f"loading {corpus} with the real loader …", flush=True)
    argv = [str(VENV_BIN / "event-records"), "load", "--root", str(corpus), "--database-url", f"sqlite:///{database}"]
    started = time.perf_counter()
    process = subprocess.Popen(argv, cwd=REPO)
    with PeakRSS(process.pid) as peak:
        process.wait()
    if process.returncode:
        raise SystemExit(f"the load failed (exit {process.returncode})")
    facts = {
        "events": events, "seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(peak.cpu_seconds, 1),
        "peak_tree_rss_mib": round(peak.peak / 1024), "database_mib": round(database.stat().st_size / 2**20),
        "date": dt.datetime.now().isoformat(timespec="seconds"), **check,
    }
    facts_file.write_text(json.dumps(facts, indent=1))
    return database, facts


def measure_check(corpus: Path) -> dict:
    """``event-records check`` over the corpus: its wall time and the problems it reports (the load
    must report the same: it fails on any)."""
    print(f"checking {corpus} …", flush=True)
    started = time.perf_counter()
    done = subprocess.run([str(VENV_BIN / "event-records"), "check", "--root", str(corpus)], cwd=REPO,
                          capture_output=True, text=True)
    problems = [line for line in done.stderr.splitlines() if ": " in line and not line.startswith(" ")]
    return {"check_seconds": round(time.perf_counter() - started, 1), "check_exit": done.returncode,
            "check_problems": len(problems)}


def warm_page_cache(path: Path) -> None:
    """Read the file once so neither server pays for the first disk reads."""
    available = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            available = int(line.split()[1]) * 1024
    if path.stat().st_size > available // 2:
        print("  (database larger than half the free memory: page cache not warmed)")
        return
    with path.open("rb") as handle:
        while handle.read(16 << 20):
            pass


@dataclass
class DatasetFacts:
    keys_desc: list  # (sort_date, id) of every event, newest first (the -date order)
    event_ids: list
    countries: list
    first_day: dt.date
    last_day: dt.date


def dataset_facts(database: Path) -> DatasetFacts:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        keys = db.execute("SELECT sort_date, id FROM event ORDER BY sort_date DESC, id DESC").fetchall()
        countries = [c for (c,) in db.execute(
            "SELECT country FROM event_country GROUP BY country ORDER BY count(*) DESC LIMIT 12")]
        low, high = db.execute("SELECT min(sort_date), max(sort_date) FROM event WHERE sort_date != ''").fetchone()
    return DatasetFacts(keys, [k[1] for k in keys], countries, dt.date.fromisoformat(low), dt.date.fromisoformat(high))


# --------------------------------------------------------------------------- the requests

ARABIC_WORDS = ["المفاوضات", "الإعمار", "اللاجئين", "الحدود", "النفط", "الأسرى", "المصالحة", "الإرهاب",
                "الإنسانية", "التعاون", "الاتفاق", "المحادثات", "الطاقة", "النزوح", "المساعدات", "حلب",
                "دمشق", "طهران", "وزارة", "الحكومة"]
ENGLISH_WORDS = ["negotiations", "reconstruction", "refugees", "border", "oil", "prisoners", "reconciliation",
                 "counterterrorism", "humanitarian", "cooperation", "agreement", "talks", "energy", "displacement",
                 "aid", "Aleppo", "Damascus", "Tehran", "ministry", "government"]

# Datasette runs the same queries our app runs, written as one SQL statement each:
# the page, the embedded participants (or statements), and the total the page reports.
EMBED_PARTICIPANTS = ("(SELECT json_group_array(json(p.embedded)) FROM event_participant ep JOIN participant p "
                      "ON p.id = ep.participant_id WHERE ep.event_id = e.id) AS participants")
DATED_OVERLAP = ("(e.date_start IS NOT NULL OR e.date_end IS NOT NULL) "
                 "AND (e.date_start IS NULL OR e.date_start <= :to) AND (e.date_end IS NULL OR e.date_end >= :from)")
DATED_BEFORE = "(e.date_start IS NOT NULL OR e.date_end IS NOT NULL) AND (e.date_start IS NULL OR e.date_start <= :to)"
IN_COUNTRY = "e.id IN (SELECT event_id FROM event_country WHERE country = :country)"
MATCHING = ("e.id IN (SELECT d.record_id FROM search_doc d WHERE d.kind = 'event' AND d.rowid IN "
            "(SELECT rowid FROM search_fts WHERE search_fts MATCH :q))")


def page_sql(where: str = "", embed: str = EMBED_PARTICIPANTS, order: str = "DESC", keyset: bool = False) -> str:
    conditions = [c for c in (where, "(e.sort_date, e.id) < (:after_date, :after_id)" if keyset else "") if c]
    clause = (" WHERE " + " AND ".join(conditions)) if conditions else ""
    total = f"(SELECT count(*) FROM event e{(' WHERE ' + where) if where else ''}) AS total"
    return (f"SELECT e.id, e.doc, {embed}, {total} FROM event e{clause} "
            f"ORDER BY e.sort_date {order}, e.id {order} LIMIT 50")


ONE_EVENT_SQL = ("SELECT e.doc, " + EMBED_PARTICIPANTS + ", (SELECT json_group_array(json(s.doc)) FROM statement s "
                 "WHERE s.event_id = e.id) AS statements FROM event e WHERE e.id = :id")
FACET_SQL = ("SELECT e.cameo_root, count(*) AS n FROM event e WHERE " + DATED_OVERLAP +
             " GROUP BY e.cameo_root ORDER BY n DESC, e.cameo_root")
TIMELINE_SQL = (
    "WITH RECURSIVE months(m) AS (SELECT substr(:from, 1, 7) UNION ALL "
    "SELECT strftime('%Y-%m', m || '-01', '+1 month') FROM months WHERE m < substr(:to, 1, 7)), "
    "counts AS (SELECT substr(sort_date, 1, 7) AS m, count(*) AS n FROM event "
    "WHERE sort_date != '' AND sort_date >= :from AND sort_date <= :to GROUP BY 1) "
    "SELECT months.m AS month, coalesce(counts.n, 0) AS events, "
    "(SELECT count(*) FROM event WHERE sort_date = '') AS undated FROM months LEFT JOIN counts USING (m) ORDER BY months.m")

# directed pairs of the events overlapping [from, to], most events first, with the names our answer carries
DYAD_SQL = (
    "SELECT x.source_actor, x.target_actor, x.n, x.goldstein_sum, x.goldstein_sum / x.n AS goldstein_mean, "
    "(SELECT name_en FROM participant WHERE id = x.source_actor) AS source_label, "
    "(SELECT name_en FROM participant WHERE id = x.target_actor) AS target_label FROM ("
    "SELECT d.source_actor, d.target_actor, count(*) AS n, sum(coalesce(e.goldstein, 0)) AS goldstein_sum "
    "FROM event_dyad d JOIN event e ON e.id = d.event_id "
    "WHERE d.source_actor IS NOT NULL AND d.target_actor IS NOT NULL AND " + DATED_OVERLAP +
    " GROUP BY d.source_actor, d.target_actor) x ORDER BY x.n DESC, x.source_actor, x.target_actor LIMIT 100")


def fts_expression(word: str) -> str:
    """The query's words as FTS5 prefix queries, normalised as models.search does: what a
    Datasette user would write (our API ORs the index terms each word begins instead, which
    matches the same records; see models/search.py)."""
    from models import search
    from models.backends.sqlite import fts5_string

    query = search.parse_query(word)
    return " AND ".join(fts5_string(t) + "*" for t in query.positive)


def q(params: dict) -> str:
    return urllib.parse.urlencode(params, quote_via=urllib.parse.quote)


@dataclass
class Request:
    key: str
    title: str
    ours: list = field(default_factory=list)    # [repeated path, varied paths...]
    theirs: list = field(default_factory=list)
    note: str = ""


class Requests:
    """Both servers' paths for every request, the varied ones from one seeded random stream."""

    def __init__(self, facts: DatasetFacts, db_name: str, cursor_secret: bytes, varied: int, seed: int):
        self.facts, self.db_name, self.secret, self.n, self.rng = facts, db_name, cursor_secret, varied, random.Random(seed)

    def theirs(self, sql: str, json_columns=("doc",), **params) -> str:
        args = {"sql": sql, **params, "_shape": "array"}
        path = f"/{self.db_name}.json?" + q(args)
        return path + "".join(f"&_json={c}" for c in json_columns)

    def cursor(self, key, filters=None) -> str:
        from api import pagination

        return pagination.encode(self.secret, "/v1/events", "-date", filters or {}, list(key))

    def random_day(self) -> dt.date:
        span = (self.facts.last_day - self.facts.first_day).days
        return self.facts.first_day + dt.timedelta(days=self.rng.randint(0, span))

    def random_range(self, low_days=30, high_days=365) -> tuple[str, str]:
        start = self.random_day()
        return start.isoformat(), (start + dt.timedelta(days=self.rng.randint(low_days, high_days))).isoformat()

    def build(self) -> list[Request]:
        f, n, rng = self.facts, self.n, self.rng
        out = []
        base = {"sort": "-date", "limit": 50, "include": "participants"}

        # 1: first page, newest first, participants embedded (varied: newest first up to a random day)
        r = Request("1", "first page, -date, 50, participants")
        r.ours.append("/v1/events?" + q(base))
        r.theirs.append(self.theirs(page_sql(), ("doc", "participants")))
        for _ in range(n):
            to = self.random_day().isoformat()
            r.ours.append("/v1/events?" + q({**base, "to": to}))
            r.theirs.append(self.theirs(page_sql(DATED_BEFORE), ("doc", "participants"), to=to))
        r.note = "varied: newest first up to a random day (to=)"
        out.append(r)

        # 2: filtered by country and a date range
        r = Request("2", "country + date range")
        country, (start, end) = f.countries[0], ("2015-01-01", "2015-12-31")
        where = IN_COUNTRY + " AND " + DATED_OVERLAP
        r.ours.append("/v1/events?" + q({**base, "country": country, "from": start, "to": end}))
        r.theirs.append(self.theirs(page_sql(where), ("doc", "participants"), country=country, **{"from": start, "to": end}))
        for _ in range(n):
            country = rng.choice(f.countries)
            start, end = self.random_range()
            r.ours.append("/v1/events?" + q({**base, "country": country, "from": start, "to": end}))
            r.theirs.append(self.theirs(page_sql(where), ("doc", "participants"), country=country, **{"from": start, "to": end}))
        out.append(r)

        # 3, 4: deep pages through the cursor (Datasette: the same keyset in SQL)
        total = len(f.keys_desc)
        for key, title, depth in (("3", "page 200 via cursor", 199 * 50),
                                  ("4", f"{'500,000' if total > 1_000_000 // 2 + 50 else f'{total // 2:,}'} deep via cursor",
                                   min(500_000, total // 2))):
            r = Request(key, title)
            spread = max(50, depth // 10)
            for number in range(n + 1):
                position = depth if number == 0 else rng.randint(max(1, depth - spread), min(total - 51, depth + spread))
                after_date, after_id = f.keys_desc[position - 1]
                r.ours.append("/v1/events?" + q({**base, "cursor": self.cursor((after_date, after_id))}))
                r.theirs.append(self.theirs(page_sql(keyset=True), ("doc", "participants"),
                                            after_date=after_date, after_id=after_id))
            r.note = f"varied: random depths {max(1, depth - spread):,}-{depth + spread:,}"
            out.append(r)

        # 5: one event by id, participants and statements embedded
        r = Request("5", "one event + participants + statements")
        for number in range(n + 1):
            event_id = f.event_ids[len(f.event_ids) // 3] if number == 0 else rng.choice(f.event_ids)
            r.ours.append(f"/v1/events/{event_id}?include=participants,statements")
            r.theirs.append(self.theirs(ONE_EVENT_SQL, ("doc", "participants", "statements"), id=event_id))
        out.append(r)

        # 6: counts per CAMEO root under a date filter
        r = Request("6", "facet cameo_root + dates")
        for number in range(n + 1):
            start, end = ("2012-01-01", "2016-12-31") if number == 0 else self.random_range(30, 5 * 365)
            r.ours.append("/v1/stats/facets?" + q({"facet": "cameo_root", "from": start, "to": end}))
            r.theirs.append(self.theirs(FACET_SQL, (), **{"from": start, "to": end}))
        out.append(r)

        # 7: full-text search, one Arabic word / one English word (varied: word from a list, to= a random day)
        for key, words, title in (("7a", ARABIC_WORDS, "search, Arabic word"), ("7b", ENGLISH_WORDS, "search, English word")):
            r = Request(key, title)
            for number in range(n + 1):
                word = words[0] if number == 0 else rng.choice(words)
                ours = {"q": word, "sort": "-date", "limit": 50}
                if number == 0:
                    r.ours.append("/v1/events?" + q(ours))
                    r.theirs.append(self.theirs(page_sql(MATCHING, embed="NULL AS participants"), ("doc",),
                                                q=fts_expression(word)))
                else:
                    to = self.random_day().isoformat()
                    r.ours.append("/v1/events?" + q({**ours, "to": to}))
                    r.theirs.append(self.theirs(page_sql(MATCHING + " AND " + DATED_BEFORE, embed="NULL AS participants"),
                                                ("doc",), q=fts_expression(word), to=to))
            r.note = "varied: word from a fixed list of 20, to= a random day"
            out.append(r)

        # 8: zero-filled monthly timeline over 15 years (varied: random spans of 1-15 years)
        r = Request("8", "timeline, month, 2010-2025")
        for number in range(n + 1):
            if number == 0:
                start, end = "2010-01-01", "2025-12-31"
            else:
                first_year = rng.randint(2010, 2024)
                start = f"{first_year}-{rng.randint(1, 12):02d}-01"
                end = f"{rng.randint(first_year + 1, 2025)}-{rng.randint(1, 12):02d}-28"
            r.ours.append("/v1/stats/timeline?" + q({"interval": "month", "from": start, "to": end}))
            r.theirs.append(self.theirs(TIMELINE_SQL, (), **{"from": start, "to": end}))
        out.append(r)

        # 10: directed dyads (counts, Goldstein sum and mean per pair) under a date filter
        r = Request("10", "dyads + dates, top 100")
        for number in range(n + 1):
            start, end = ("2012-01-01", "2016-12-31") if number == 0 else self.random_range(30, 5 * 365)
            r.ours.append("/v1/stats/dyads?" + q({"from": start, "to": end, "limit": 100}))
            r.theirs.append(self.theirs(DYAD_SQL, (), **{"from": start, "to": end}))
        r.note = "varied: random date ranges of 30 days to 5 years"
        out.append(r)
        return out


# --------------------------------------------------------------------------- wrk

LUA = r"""
local paths = {}
local counter = 0
local thread_index = 0
local threads = {}

function setup(thread)
  thread:set("id", thread_index)
  thread_index = thread_index + 1
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  counter = id * math.floor(#paths / 2)
end

function request()
  counter = counter + 1
  if #paths == 1 then return wrk.format("GET", paths[1]) end
  return wrk.format("GET", paths[(counter % #paths) + 1])
end

function done(summary, latency, requests)
  io.write(string.format('WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %f}\n',
    summary.requests, summary.duration, summary.bytes, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean))
end
"""


@dataclass
class Result:
    requests: int = 0
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    cpu_ms: float = 0.0
    errors: int = 0
    skipped: str = ""


def run_wrk(server: Server, paths: list[str], seconds: float, tmp: Path, args, profile_to: Path | None = None) -> Result:
    listing = tmp / f"paths-{time.monotonic_ns()}.txt"
    listing.write_text("\n".join(paths) + "\n")
    script = tmp / "bench.lua"
    script.write_text(LUA)
    profiler = None
    if profile_to is not None:
        # py-spy samples the server (master and workers) while wrk runs: where a request's time goes
        profiler = subprocess.Popen(
            [args.py_spy, "record", "--pid", str(server.pid), "--subprocesses", "--duration", f"{max(1, int(seconds))}",
             "--rate", "200", "--format", "speedscope", "--output", str(profile_to), "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    before = cpu_ticks(server.pid)
    completed = subprocess.run(
        [args.wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds:g}s", "--timeout", "30s",
         "-s", str(script), f"http://{HOST}:{server.port}", "--", str(listing)],
        capture_output=True, text=True, timeout=seconds + 120)
    # requests still running when wrk stopped are finished by the server: wait for it to go idle,
    # so that their CPU is not charged to the next cell (it is charged to this one)
    after = wait_idle(server.pid)
    listing.unlink()
    if profiler is not None:
        _, error = profiler.communicate(timeout=120)
        if profiler.returncode == 0 and profile_to.exists():
            summary = summarise_profile(profile_to)
            profile_to.with_suffix(".txt").write_text(summary + "\n")
            print(f"  profile: {profile_to}\n{summary}", flush=True)
        else:
            print(f"  py-spy failed: {error.decode()[-300:]}", flush=True)
    line = next((l for l in completed.stdout.splitlines() if l.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {completed.stdout}\n{completed.stderr}")
    data = json.loads(line[len("WRKJSON "):])
    n = data["requests"]
    errors = data["connect"] + data["read"] + data["write"] + data["status"] + data["timeout"]
    return Result(n, n / (data["duration_us"] / 1e6), data["p50_us"] / 1000, data["p99_us"] / 1000,
                  (after - before) * 1000 / CLK_TCK / max(n, 1), errors)


def summarise_profile(path: Path, top: int = 12) -> str:
    """The frames with the most samples in a py-spy speedscope file: itself, and with its callees."""
    data = json.loads(path.read_text())
    frames = data["shared"]["frames"]
    own: dict[int, float] = {}
    within: dict[int, float] = {}
    total = 0.0
    for profile in data["profiles"]:
        for stack, weight in zip(profile["samples"], profile["weights"]):
            if not stack or frames[stack[0]]["name"] in ("<idle>",):
                continue
            total += weight
            own[stack[-1]] = own.get(stack[-1], 0) + weight
            for index in set(stack):
                within[index] = within.get(index, 0) + weight

    def name(index: int) -> str:
        frame = frames[index]
        where = Path(frame.get("file") or "?")
        return f"{frame['name']} ({'/'.join(where.parts[-2:])}:{frame.get('line', '?')})"

    plumbing = ("threading.py", "thread.py", "gthread.py", "arbiter.py", "base.py")  # every thread's stack
    unit = data["profiles"][0].get("unit", "samples") if data["profiles"] else "samples"
    lines = [f"{total:,.2f} {unit} sampled over the server's processes"]
    for title, table in (("self", own), ("inclusive", within)):
        lines.append(f"  top {title}:")
        ranked = [(i, w) for i, w in sorted(table.items(), key=lambda item: -item[1])
                  if title == "self" or (frames[i].get("file") and not frames[i]["file"].endswith(plumbing))]
        for index, weight in ranked[:top]:
            lines.append(f"    {weight / total * 100:5.1f} %  {name(index)}")
    return "\n".join(lines)


def wait_idle(pid: int, limit: float = 300.0) -> int:
    """CPU ticks of the process tree once it has used less than 2 ticks in 0.5 s (at most ``limit`` s)."""
    deadline = time.monotonic() + limit
    last = cpu_ticks(pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = cpu_ticks(pid)
        if now - last < 2:
            return now
        last = now
    return last


def check_ok(server: Server, path: str, timeout: float) -> tuple[bool, str]:
    """One request before the run: a failure or a request slower than ``timeout`` skips the cell
    (and restarts the server, which may otherwise keep working on it for a long time)."""
    try:
        status, _, body = get(server.port, path, timeout=timeout)
    except OSError as error:
        server.restart()
        return False, f"one request took over {timeout:g} s" if isinstance(error, TimeoutError) else f"no answer ({error})"
    return status == 200, f"{status} {body[:200]!r}"


# --------------------------------------------------------------------------- export


def export(server: Server, path: str) -> dict:
    """One full download: records (lines) per second and the peak RSS of the server's processes."""
    connection = http.client.HTTPConnection(HOST, server.port, timeout=600)
    lines = size = 0
    rss_before = rss_kib(server.pid) / 1024
    with PeakRSS(server.pid) as peak:
        started = time.perf_counter()
        before = cpu_ticks(server.pid)
        connection.request("GET", path)
        response = connection.getresponse()
        status = response.status
        while True:
            chunk = response.read(1 << 20)
            if not chunk:
                break
            lines += chunk.count(b"\n")
            size += len(chunk)
        seconds = time.perf_counter() - started
        after = cpu_ticks(server.pid)
    connection.close()
    return {"status": status, "lines": lines, "mib": size / 2**20, "seconds": seconds, "rate": lines / seconds,
            "peak_rss_mib": peak.peak / 1024, "rss_before_mib": rss_before, "cpu_s": (after - before) / CLK_TCK}


# --------------------------------------------------------------------------- floor

FLOOR_APP = r'''
import sys
sys.path.insert(0, {repo!r})
from gunicorn.app.base import BaseApplication
from api.server import gunicorn_options

BODY = open({body!r}, "rb").read()
HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


def app(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]


class Floor(BaseApplication):
    def load_config(self):
        for key, value in gunicorn_options("127.0.0.1", {port}, 2, 4).items():
            self.cfg.set(key, value)

    def load(self):
        return app


Floor().run()
'''


# --------------------------------------------------------------------------- main


def datasette_binary(args) -> str:
    if args.datasette:
        return args.datasette
    found = shutil.which("datasette")
    if found:
        return found
    venv = OUT / "datasette-venv"
    binary = venv / "bin" / "datasette"
    if not binary.exists():
        print("installing datasette into benchmarks/out/datasette-venv …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "datasette"], check=True)
    return str(binary)


def version_of(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout.strip().splitlines()[0]
    except Exception:
        return "?"


def fmt(x: float, digits: int = 0) -> str:
    return f"{x:,.{digits}f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="20,000 events and 3 s per wrk run")
    parser.add_argument("--duration", type=float, default=None, help="seconds per wrk run (default 10, quick 3)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument("--only", default="", help="comma-separated request keys (e.g. 1,4,7a,9,floor)")
    parser.add_argument("--no-datasette", action="store_true")
    parser.add_argument("--datasette", default="", help="path of the datasette executable")
    parser.add_argument("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--varied", type=int, default=None, help="distinct varied URLs per request (default 60,000; quick 10,000)")
    parser.add_argument("--json", type=Path, default=None,
                        help="results file, written after every cell (default benchmarks/out/results-N.json)")
    parser.add_argument("--resume", action="store_true", help="keep the cells already in the results file")
    parser.add_argument("--probe-timeout", type=float, default=60.0,
                        help="a cell whose first request takes longer is skipped (default 60 s)")
    parser.add_argument("--reload", action="store_true", help="load the database again (and measure the load)")
    parser.add_argument("--load-only", action="store_true", help="stop after making/loading the database")
    parser.add_argument("--report-only", action="store_true", help="print the table of the results file, measure nothing")
    parser.add_argument("--profile", default="",
                        help="comma-separated request keys whose varied cell of ours is profiled with py-spy "
                             "(speedscope JSON in benchmarks/out/profile-KEY.json; open it at speedscope.app)")
    parser.add_argument("--py-spy", dest="py_spy", default=shutil.which("py-spy") or str(VENV_BIN / "py-spy"))
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers (finally) on kill
    if args.quick:
        args.events = 20_000 if args.events == 1_000_000 else args.events
    seconds = args.duration or (3.0 if args.quick else 10.0)
    varied = args.varied or (10_000 if args.quick else 60_000)
    only = {k.strip() for k in args.only.split(",") if k.strip()}
    profiled = {k.strip() for k in args.profile.split(",") if k.strip()}

    def wanted(key: str) -> bool:
        return not only or key in only

    if args.report_only:
        results_file = args.json or OUT / f"results-{args.events}.json"
        saved = json.loads(results_file.read_text())
        database = OUT / f"events-{args.events}.sqlite3"
        load_facts = json.loads((OUT / f"events-{args.events}.load.json").read_text())
        requests = Requests(dataset_facts(database), database.stem, b"", 1, args.seed).build()
        report(args, saved.get("seconds", seconds), database, load_facts, requests,
               {tuple(k.split("|")): Result(**v) for k, v in saved["results"].items()}, saved.get("extra", {}))
        return 0
    if args.reload:
        (OUT / f"events-{args.events}.load.json").unlink(missing_ok=True)
    database, load_facts = ensure_database(args.events, args.seed)
    print(f"database {database} ({database.stat().st_size / 2**20:,.0f} MiB); load: {load_facts}", flush=True)
    if args.load_only:
        return 0
    warm_page_cache(database)
    facts = dataset_facts(database)
    # the cursors the benchmark writes are signed with the secret the server it starts uses
    os.environ.setdefault("EVENT_RECORDS_SECRET", "benchmark-cursor-secret")
    builder = Requests(facts, database.stem, os.environ["EVENT_RECORDS_SECRET"].encode(),
                       varied, args.seed)
    requests = builder.build()

    tmp = Path(tempfile.mkdtemp(prefix="event-records-bench-"))
    servers: list[Server] = []
    results: dict[tuple[str, str, str], Result] = {}
    extra: dict = {}
    results_file = args.json or OUT / f"results-{args.events}.json"
    if args.resume and results_file.exists():
        saved = json.loads(results_file.read_text())
        results = {tuple(k.split("|")): Result(**v) for k, v in saved["results"].items()}
        extra = saved.get("extra", {})

    def save():
        results_file.write_text(json.dumps({"load": load_facts, "extra": extra, "seconds": seconds,
                                            "results": {"|".join(k): vars(v) for k, v in results.items()}}, indent=1))
    try:
        env = {**os.environ, "WEB_CONCURRENCY": "2"}
        port = free_port()
        ours = Server("ours", [str(VENV_BIN / "event-records"), "serve", "--no-load", "--database-url",
                               f"sqlite:///{database}", "--port", str(port), "--workers", "2"],
                      port, "/readyz", tmp / "ours.log", env)
        servers.append(ours)
        theirs = None
        if not args.no_datasette:
            port = free_port()
            theirs = Server("datasette", [datasette_binary(args), "serve", "-i", str(database), "-h", HOST, "-p", str(port),
                                          "--setting", "sql_time_limit_ms", "20000",
                                          "--setting", "max_returned_rows", "1000",
                                          "--setting", "suggest_facets", "off",
                                          "--setting", "max_csv_mb", "0"],  # no 100 MB cap on the export
                            port, "/-/versions.json", tmp / "datasette.log")
            servers.append(theirs)

        # request 1's bytes (for the floor), and a check that the cursors made here are the ones the API issues
        _, _, first_page = get(ours.port, requests[0].ours[0])
        issued = json.loads(first_page)["meta"]["next_cursor"]
        if issued != builder.cursor(facts.keys_desc[49]):
            raise SystemExit(f"the API issued cursor {issued}, not the one computed here: fix Requests.cursor")

        for request in requests:
            for variant in ("repeated", "varied"):
                if not wanted(request.key):
                    continue
                paths_ours = request.ours[:1] if variant == "repeated" else request.ours[1:]
                paths_theirs = request.theirs[:1] if variant == "repeated" else request.theirs[1:]
                for name, server, paths in (("ours", ours, paths_ours), ("theirs", theirs, paths_theirs)):
                    if server is None or (request.key, variant, name) in results:
                        continue
                    ok, detail = check_ok(server, paths[0], args.probe_timeout)
                    if not ok:
                        results[(request.key, variant, name)] = Result(skipped=detail[:60])
                        print(f"  {request.key} {variant} {name}: skipped ({detail[:120]})", flush=True)
                        save()
                        continue
                    profile_to = (OUT / f"profile-{request.key}.json"
                                  if name == "ours" and variant == "varied" and request.key in profiled else None)
                    result = run_wrk(server, paths, seconds, tmp, args, profile_to)
                    results[(request.key, variant, name)] = result
                    save()
                    print(f"  {request.key:>3} {variant:8} {name:6} {result.rps:9,.0f} req/s  p50 {result.p50_ms:7.2f} ms  "
                          f"p99 {result.p99_ms:8.2f} ms  cpu {result.cpu_ms:7.2f} ms/req  errors {result.errors}", flush=True)

        if wanted("9") and "export_ours" not in extra:
            extra["export_ours"] = export(ours, "/v1/events?format=ndjson")
            save()
            print(f"  9 export ours: {extra['export_ours']}", flush=True)
            if theirs is not None:
                extra["export_theirs"] = export(theirs, f"/{database.stem}/event.csv?" + q({"_stream": "on", "_size": "max", "_col": "doc"}))
                extra["export_theirs"]["lines"] -= 1  # the CSV header
                extra["export_theirs"]["rate"] = extra["export_theirs"]["lines"] / extra["export_theirs"]["seconds"]
                save()
                print(f"  9 export theirs: {extra['export_theirs']}", flush=True)

        for server in servers:
            server.stop()
        servers.clear()

        if wanted("floor") and ("floor", "repeated", "ours") not in results:
            body_file = tmp / "floor-body.json"
            body_file.write_bytes(first_page)
            port = free_port()
            script = tmp / "floor.py"
            script.write_text(FLOOR_APP.format(repo=str(REPO), body=str(body_file), port=port))
            floor = Server("floor", [sys.executable, str(script)], port, "/", tmp / "floor.log")
            servers.append(floor)
            results[("floor", "repeated", "ours")] = run_wrk(floor, [requests[0].ours[0]], seconds, tmp, args)
            save()
            r = results[("floor", "repeated", "ours")]
            print(f"  floor: {r.rps:,.0f} req/s p50 {r.p50_ms:.2f} ms p99 {r.p99_ms:.2f} ms cpu {r.cpu_ms:.2f} ms/req", flush=True)
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    report(args, seconds, database, load_facts, requests, results, extra)
    return 0


def report(args, seconds, database, load_facts, requests, results, extra) -> None:
    from importlib.metadata import version

    datasette_version = version_of([datasette_binary(args), "--version"]) if not args.no_datasette else "-"
    print()
    print(f"# event-records benchmark, {dt.date.today().isoformat()}")
    print(f"machine: {os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
          f"{platform.platform()}; load average before the report {os.getloadavg()[0]:.2f}")
    print(f"versions: Python {platform.python_version()}, Flask {version('flask')}, flask-smorest {version('flask-smorest')}, "
          f"gunicorn {version('gunicorn')}, peewee {version('peewee')}, marshmallow {version('marshmallow')}, "
          f"SQLite {sqlite3.sqlite_version}; "
          f"{datasette_version}; {version_of([args.wrk, '--version'])}")
    print(f"data: {args.events:,} events, database {database.stat().st_size / 2**20:,.0f} MiB; "
          f"wrk -t{args.threads} -c{args.connections} -d{seconds:g}s per cell; ours = gunicorn 2 workers x 4 threads; "
          f"theirs = Datasette (immutable, 1 process)")
    print(f"load: {load_facts['seconds']} s wall, {load_facts.get('cpu_seconds', '?')} s CPU, "
          f"peak RSS of the loader's processes {load_facts['peak_tree_rss_mib']} MiB")
    if "check_seconds" in load_facts:
        print(f"check: {load_facts['check_seconds']} s wall, exit {load_facts['check_exit']}, "
              f"{load_facts['check_problems']} problem(s) (the load that followed reported the same: it succeeded)")
    print()
    header = ("| # | request | URLs | ours req/s | p50 ms | p99 ms | CPU ms/req | Datasette req/s | p50 ms | p99 ms "
              "| CPU ms/req | req/s ours/theirs | CPU ours/theirs |")
    print(header)
    print("|" + "|".join(["---"] * (header.count("|") - 1)) + "|")
    for request in requests:
        for variant in ("repeated", "varied"):
            o = results.get((request.key, variant, "ours"))
            t = results.get((request.key, variant, "theirs"))
            if o is None and t is None:
                continue

            def cells(r):
                if r is None:
                    return ["-"] * 4
                if r.skipped:
                    return [f"skipped ({r.skipped})", "", "", ""]
                err = f" ({r.errors} errors)" if r.errors else ""
                if not r.requests:
                    return [f"0 (none answered in {seconds:g} s)", "-", "-", "-"]
                return [(fmt(r.rps) if r.rps >= 10 else fmt(r.rps, 1)) + err, fmt(r.p50_ms, 2), fmt(r.p99_ms, 2),
                        fmt(r.cpu_ms, 2)]

            ratio = cpu_ratio = "-"
            if o and t and not o.skipped and not t.skipped and t.requests and o.requests:
                ratio = f"{o.rps / t.rps:,.1f}x"
                cpu_ratio = f"{o.cpu_ms / t.cpu_ms:.2f}" if t.cpu_ms else "-"
            elif o and t and not o.requests and t.requests:
                ratio = "0x"
            print(f"| {request.key} | {request.title} | {variant} | " + " | ".join(cells(o)) + " | "
                  + " | ".join(cells(t)) + f" | {ratio} | {cpu_ratio} |")
    floor = results.get(("floor", "repeated", "ours"))
    if floor:
        print(f"| floor | bare WSGI app, request 1's bytes | repeated | {fmt(floor.rps)} | {floor.p50_ms:.2f} | "
              f"{floor.p99_ms:.2f} | {floor.cpu_ms:.2f} | | | | | | |")
    for name in ("ours", "theirs"):
        e = extra.get(f"export_{name}")
        if e:
            label = "ours, /v1/events?format=ndjson" if name == "ours" else "Datasette, event.csv?_stream=on&_col=doc"
            print(f"| 9 | full export ({label}) | once | {e['rate']:,.0f} records/s | {e['seconds']:.1f} s | "
                  f"{e['mib']:,.0f} MiB | peak RSS {e['peak_rss_mib']:,.0f} MiB (before: {e.get('rss_before_mib', 0):,.0f}) "
                  f"| CPU {e['cpu_s']:.1f} s | status {e['status']} "
                  f"| {e['lines']:,} records | | | |")
    print()
    for request in requests:
        if request.note:
            print(f"- {request.key}: {request.note}")
    print()
    targets(results, extra, load_facts)


def targets(results, extra, load_facts) -> None:
    print("## targets (issue #8)")

    def r(key, variant, who="ours"):
        x = results.get((key, variant, who))
        return x if x is not None and not x.skipped and x.requests else None

    lines = []
    scale = "" if load_facts.get("events") == 1_000_000 else f" (at {load_facts.get('events', 0):,} events; the target is for 1M)"
    lines.append((f"load: 1M events in <= 180 s{scale}", load_facts["seconds"] <= 180, f"{load_facts['seconds']} s"))
    lines.append((f"load: peak memory <= 2 GiB{scale}", load_facts["peak_tree_rss_mib"] <= 2048,
                  f"{load_facts['peak_tree_rss_mib']} MiB"))
    for key in ("1", "2", "3", "4", "5"):
        o, t = r(key, "varied"), r(key, "varied", "theirs")
        cell = results.get((key, "varied", "ours"))
        if cell is not None and o is None:
            lines.append((f"{key} varied: >= 5x Datasette req/s, <= 1/5 of its CPU", False,
                          cell.skipped or "no request answered within the run"))
        if o and t:
            lines.append((f"{key} varied: >= 5x Datasette req/s", o.rps >= 5 * t.rps, f"{o.rps / t.rps:.1f}x"))
            lines.append((f"{key} varied: <= 1/5 of Datasette CPU/request", o.cpu_ms * 5 <= t.cpu_ms,
                          f"{o.cpu_ms:.2f} vs {t.cpu_ms:.2f} ms ({o.cpu_ms / t.cpu_ms:.2f})" if t.cpu_ms else "-"))
    one, four = r("1", "repeated"), r("4", "repeated")
    if one and four:
        lines.append(("4 within 20% of 1 (repeated)", four.rps >= 0.8 * one.rps, f"{four.rps / one.rps:.2f} of request 1"))
    three, four = r("3", "varied"), r("4", "varied")  # varied 1 has a date filter: compare with the other cursor page
    if three and four:
        lines.append(("4 within 20% of 3, the shallow cursor page (varied)", four.rps >= 0.8 * three.rps,
                      f"{four.rps / three.rps:.2f} of request 3"))
    for key in ("6", "7a", "7b", "8"):
        for variant in ("repeated", "varied"):
            o, t = r(key, variant), r(key, variant, "theirs")
            cell = results.get((key, variant, "ours"))
            if cell is not None and o is None:  # measured, but skipped or nothing answered in time
                lines.append((f"{key} {variant}: >= 20x Datasette, p99 <= 25 ms", False,
                              cell.skipped or "no request answered within the run"))
            elif o and t:
                lines.append((f"{key} {variant}: >= 20x Datasette, p99 <= 25 ms", o.rps >= 20 * t.rps and o.p99_ms <= 25,
                              f"{o.rps / t.rps:.1f}x, p99 {o.p99_ms:.1f} ms"))
            elif o:
                lines.append((f"{key} {variant}: p99 <= 25 ms (no Datasette)", o.p99_ms <= 25, f"p99 {o.p99_ms:.1f} ms"))
    floor = r("floor", "repeated")
    if floor:
        for request_key in ("1", "2", "3", "4", "5", "6", "7a", "7b", "8"):
            o = r(request_key, "repeated")
            if o:
                lines.append((f"{request_key} repeated: within 2x of the floor", o.rps * 2 >= floor.rps,
                              f"{o.rps:,.0f} vs {floor.rps:,.0f} req/s ({floor.rps / o.rps:.2f}x slower)"))
    e = extra.get("export_ours")
    if e:
        lines.append(("9: >= 50,000 events/s", e["rate"] >= 50_000, f"{e['rate']:,.0f}/s"))
        lines.append(("9: server RSS <= 300 MiB", e["peak_rss_mib"] <= 300, f"{e['peak_rss_mib']:,.0f} MiB"))
    for name, ok, value in lines:
        print(f"- [{'x' if ok else ' '}] {name}: {value} {'MET' if ok else 'MISSED'}")


if __name__ == "__main__":
    sys.exit(main())

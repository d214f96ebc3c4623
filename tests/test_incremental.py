"""Incremental loads answer exactly as full loads of the same files, on both backends.

A generated corpus is edited step by step (sources added, changed, removed, in a
seeded random order); after each step the incrementally loaded database and a
database loaded from nothing with the same files must give the same answer to
every request of a list that covers each endpoint. The release bookkeeping
(release numbers, first/last release) records history and is compared separately.
"""
from __future__ import annotations

import base64
import json
import os
import random
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from models import documents
from models import load as loader
from models.db import open_database
from models.load import incremental

from .conftest import ROOT, new_pg_database

SOURCES = 40
#: /v1/stats/dyads as the dyad counts answer it (dates, open ends, undated, quad_class, series)
DYAD_PATHS = ["/v1/stats/dyads?limit=1000", "/v1/stats/dyads?limit=1000&from=2014-01-01&to=2016-12-31",
              "/v1/stats/dyads?limit=1000&from=2019-06-01&include_undated=true",
              "/v1/stats/dyads?limit=1000&to=2012-12-31&quad_class=1,3",
              "/v1/stats/dyads?limit=200&from=2011-01-01&to=2020-12-31&interval=year"]
HELD_BACK = ("syn_00037", "syn_00038", "syn_00039", "syn_00040")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("incremental") / "corpus"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), str(SOURCES * 25), "--per-source", "25",
                    "--out", str(out), "--jobs", "1", "--seed", "7"], check=True, capture_output=True, timeout=180)
    return out


class Tree:
    """A working copy of the corpus that sources come into and go out of."""

    def __init__(self, corpus: Path, path: Path):
        self.corpus, self.path = corpus, path
        shutil.copytree(corpus, path)
        for source in HELD_BACK:
            self.remove(source)

    def present(self) -> list[str]:
        return sorted(p.stem for p in (self.path / "seeds").glob("*.txt"))

    def remove(self, source: str) -> None:
        for suffix in (".txt", ".json"):
            (self.path / "seeds" / f"{source}{suffix}").unlink()
        shutil.rmtree(self.path / "fixtures" / source)

    def add(self, source: str) -> None:
        for suffix in (".txt", ".json"):
            shutil.copy(self.corpus / "seeds" / f"{source}{suffix}", self.path / "seeds" / f"{source}{suffix}")
        shutil.copytree(self.corpus / "fixtures" / source, self.path / "fixtures" / source)

    def change(self, source: str, rng: random.Random) -> None:
        """Edit some events of a source: a title, a status, a date, a participant dropped."""
        path = self.path / "fixtures" / source / "events.ndjson"
        events = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        for event in rng.sample(events, 3):
            event["title_en"] += " (revised)"
            if len(event["participants"]) > 2:
                gone = event["participants"].pop()["participant"]
                for side in ("source_actors", "target_actors"):
                    event[side] = [a for a in event.get(side, []) if a != gone]
            if event["status"] == "occurred":
                event["status"] = "ongoing"
        path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), encoding="utf-8")


def urls(client) -> list[str]:
    """Requests that cover every endpoint, and records picked from the answers."""
    found = [
        "/v1/events?limit=500", "/v1/events?limit=500&sort=date", "/v1/events?limit=50&status=ongoing",
        "/v1/statements?limit=500", "/v1/participants?limit=500", "/v1/places?limit=500", "/v1/sources?limit=100",
        "/v1/cameo?limit=500", "/v1/topics",
        "/v1/stats/facets?facet=cameo_root&facet=status&facet=country&facet=plover",
        "/v1/stats/facets?facet=status&from=2015-01-01&to=2019-12-31",
        "/v1/stats/timeline?interval=year", "/v1/stats/timeline?interval=month&group_by=status",
        "/v1/network?limit=200", "/v1/events?limit=20&from=2014-01-01&to=2016-12-31",
        "/v1/events?limit=1000&fields=id,title_en", "/v1/search?q=Syria&limit=100", "/v1/search?q=سوريا&limit=100",
        "/v1/search?q=medical&limit=100", "/v1/events?q=Russia&limit=100", "/v1/events?q=Moussa&limit=100",
        *DYAD_PATHS,
    ]
    listing = client.get("/v1/events?limit=500").get_json()["data"]
    found += [f"/v1/events/{e['id']}?include=participants,statements,place" for e in listing[::40]]
    participants = client.get("/v1/participants?limit=500").get_json()["data"]
    found += [f"/v1/participants/{p['id']}" for p in participants[::25]]
    found += [f"/v1/events?participant={p['id']}&limit=200" for p in participants[::50]]
    return found


def answers(url: str, paths: list[str]) -> dict:
    from api import create_app

    client = create_app({"DATABASE_URL": url, "TESTING": True}).test_client()
    out = {}
    for path in paths:
        response = client.get(path)
        body = response.get_json()
        if isinstance(body, dict):
            body.get("meta", {}).pop("release", None)
            unbound_cursors(body)
        out[path] = (response.status_code, without_releases(body))
    return out


def unbound_cursors(body: dict) -> None:
    """A page's cursor as the position it holds, without the release it is bound to (history:
    api/pagination.py; its signature covers that release, so it is left out too)."""
    def position(cursor: str) -> str:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw[:-12])
        payload.pop("s", None)
        return json.dumps(payload, sort_keys=True)

    meta, links = body.get("meta", {}), body.get("links") or {}
    cursor = meta.get("next_cursor")
    if cursor:
        meta["next_cursor"] = position(cursor)
        if links.get("next"):
            links["next"] = links["next"].replace(cursor, meta["next_cursor"])


def without_releases(value):
    """An answer without the records' first and last release: history, which a load from
    nothing does not have (test_release_history compares it)."""
    if isinstance(value, dict):
        return {k: without_releases(v) for k, v in value.items() if k not in ("first_release", "last_release")}
    if isinstance(value, list):
        return [without_releases(v) for v in value]
    return value


def differences(a: dict, b: dict) -> list[str]:
    return [path for path in a if a[path] != b.get(path)]


def database(backend: str, tmp_path: Path, name: str, request) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / name / 'events.sqlite3'}"
    return new_pg_database(request.getfixturevalue("pg_server"))


def full_copy(tree: Tree, backend, tmp_path, request, step: int) -> str:
    url = database(backend, tmp_path, f"full-{step}", request)
    summary = loader.load(tree.path, open_database(url, create_dir=True))
    assert summary.mode == "full"
    return url


@pytest.mark.parametrize("inline", [None, 2], ids=["inline-lists", "full-inline-lists"])
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_incremental_loads_answer_as_a_full_load(backend, inline, corpus, tmp_path, request, monkeypatch):
    """``full-inline-lists``: a participant shows 2 mentions inline instead of 200, so that most
    of its entries in other sources come after its list is full (models/load/stored.py counts
    those from the index alone) and a source's own entry can be the one that fills it."""
    if inline is not None:
        monkeypatch.setattr(documents, "MENTIONS_INLINE", inline)
    rng = random.Random(14)
    tree = Tree(corpus, tmp_path / "tree")
    url = database(backend, tmp_path, "incremental", request)
    db = open_database(url, create_dir=True)
    assert loader.load(tree.path, db).mode == "full"
    with open_database(url).connection_context():
        pass
    client_paths = None
    modes = []
    held = list(HELD_BACK)
    for step in range(5):
        present = tree.present()
        operation = ["add", "change", "remove", "change", "add"][step]
        if operation == "add":
            tree.add(held.pop(rng.randrange(len(held))))
        elif operation == "remove":
            tree.remove(rng.choice(present))
        else:
            for source in rng.sample(present, 2):
                tree.change(source, rng)
        summary = loader.load(tree.path, db)
        modes.append((operation, summary.mode, summary.full_reason))
        reference = full_copy(tree, backend, tmp_path, request, step)
        if client_paths is None:
            from api import create_app
            client_paths = urls(create_app({"DATABASE_URL": reference, "TESTING": True}).test_client())
        ours, theirs = answers(url, client_paths), answers(reference, client_paths)
        assert differences(ours, theirs) == [], (step, operation, summary.mode)
    # every step was applied as a difference (a rebuild is only for a participant's short form
    # changing, which these edits do not do)
    assert all(mode == "incremental" for _, mode, _ in modes), modes


def equal_after_one_load(tree: Tree, edit, incremental_url: str, full_url: str) -> None:
    """Load ``tree``, ``edit`` it, load it again as a difference: every answer equals a load from
    nothing of the edited tree."""
    db = open_database(incremental_url, create_dir=True)
    loader.load(tree.path, db)
    edit()
    assert loader.load(tree.path, db).mode == "incremental"
    loader.load(tree.path, open_database(full_url, create_dir=True))
    from api import create_app
    paths = urls(create_app({"DATABASE_URL": full_url, "TESTING": True}).test_client())
    assert differences(answers(incremental_url, paths), answers(full_url, paths)) == []


def test_many_sources_read_at_once_are_merged_once(corpus, tmp_path, monkeypatch):
    """Sources read again with more participant entries than a write batch holds: their entries
    are written after the stored ones are merged, not merged a second time as stored ones."""
    from models.load import writer
    monkeypatch.setattr(writer, "INSERT_BATCH", 20)
    tree = Tree(corpus, tmp_path / "tree")

    def edit():
        for source in tree.present()[:4]:
            tree.change(source, random.Random(source))
        tree.add(HELD_BACK[0])

    equal_after_one_load(tree, edit, f"sqlite:///{tmp_path / 'inc' / 'events.sqlite3'}",
                         f"sqlite:///{tmp_path / 'full' / 'events.sqlite3'}")


def test_entries_are_merged_in_code_point_order_under_any_collation(corpus, tmp_path, monkeypatch, pg_server):
    """On PostgreSQL with an ICU collation, which sorts '-' and '_' apart from their code points:
    an entity's stored entries are selected in the order the merge walks them (Python's)."""
    import psycopg

    monkeypatch.setattr(documents, "MENTIONS_INLINE", 2)
    tree = Tree(corpus, tmp_path / "tree")
    for suffix in (".txt", ".json"):  # first of all in code points, after every syn_ in en-US
        (tree.path / "seeds" / f"syn_00002{suffix}").rename(tree.path / "seeds" / f"syn-00002{suffix}")
    (tree.path / "fixtures" / "syn_00002").rename(tree.path / "fixtures" / "syn-00002")
    url_of, _ = pg_server
    names = ["t_icu_" + uuid.uuid4().hex[:10] for _ in range(2)]
    with psycopg.connect(url_of("postgres"), autocommit=True) as conn:
        for name in names:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'")
        assert conn.execute("SELECT s FROM (VALUES ('syn-00002'), ('syn_00001')) AS v(s) "
                            "ORDER BY s COLLATE \"en-US-x-icu\"").fetchall() == [("syn_00001",), ("syn-00002",)]
    equal_after_one_load(tree, lambda: tree.add(HELD_BACK[2]), url_of(names[0]), url_of(names[1]))


def test_a_broken_day_count_update_is_caught(corpus, tmp_path, monkeypatch):
    """The comparison above is able to fail: running totals left unsummed are seen."""
    tree = Tree(corpus, tmp_path / "tree")
    url = f"sqlite:///{tmp_path / 'inc' / 'events.sqlite3'}"
    db = open_database(url, create_dir=True)
    loader.load(tree.path, db)
    real = incremental.apply_day_counts

    def without_running_totals(removed, added):
        real(removed, added)
        from models.records import EventDayCount
        EventDayCount.update(cum=EventDayCount.n).where(EventDayCount.edge == "lo").execute()

    monkeypatch.setattr(incremental, "apply_day_counts", without_running_totals)
    tree.change("syn_00005", random.Random(1))
    assert loader.load(tree.path, db).mode == "incremental"
    reference = f"sqlite:///{tmp_path / 'full' / 'events.sqlite3'}"
    loader.load(tree.path, open_database(reference, create_dir=True))
    paths = ["/v1/events?limit=1&from=2015-01-01&to=2018-12-31", "/v1/stats/facets?facet=status&to=2018-12-31",
             "/v1/stats/facets?facet=status&to=2013-12-31", "/v1/events?limit=1&to=2013-12-31"]
    assert differences(answers(url, paths), answers(reference, paths))


def test_a_broken_dyad_count_update_is_caught(corpus, tmp_path, monkeypatch):
    """The comparison above is able to fail on the dyad counts: removed events left counted are seen."""
    tree = Tree(corpus, tmp_path / "tree")
    url = f"sqlite:///{tmp_path / 'inc' / 'events.sqlite3'}"
    db = open_database(url, create_dir=True)
    loader.load(tree.path, db)
    real = incremental.apply_dyad_counts
    monkeypatch.setattr(incremental, "apply_dyad_counts", lambda removed, added: real(type(removed)(), added))
    tree.remove("syn_00005")
    assert loader.load(tree.path, db).mode == "incremental"
    reference = f"sqlite:///{tmp_path / 'full' / 'events.sqlite3'}"
    loader.load(tree.path, open_database(reference, create_dir=True))
    assert differences(answers(url, DYAD_PATHS), answers(reference, DYAD_PATHS))


def test_a_new_alias_reaches_records_in_sources_the_load_does_not_re_read(corpus, tmp_path):
    """A name given to a participant in one source makes every record whose text has the name
    findable by the participant's other names, in every source (the untouched sources' search
    rows are written again, as a full load writes them), and nothing else changes."""
    tree = Tree(corpus, tmp_path / "tree")
    url = f"sqlite:///{tmp_path / 'inc' / 'events.sqlite3'}"
    db = open_database(url, create_dir=True)
    loader.load(tree.path, db)
    path = tree.path / "fixtures" / "syn_00003" / "participants.ndjson"
    participants = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    participants[0]["aliases"].append("اللاجئين")  # "the refugees": in texts of many sources
    path.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in participants), encoding="utf-8")
    name = participants[0]["name_en"].replace(" ", "+")
    paths = [f"/v1/search?q={name}&kind=event&limit=100", f"/v1/search?q={name}&kind=statement&limit=100"]
    before = answers(url, paths)
    assert loader.load(tree.path, db).mode == "incremental"
    reference = f"sqlite:///{tmp_path / 'full' / 'events.sqlite3'}"
    loader.load(tree.path, open_database(reference, create_dir=True))
    ours, theirs = answers(url, paths), answers(reference, paths)
    assert differences(ours, theirs) == []
    sources = {hit["id"].split("-")[0] for _, body in theirs.values() for hit in body["data"]}
    assert ours != before and len(sources) > 1, sources


def test_a_name_conflict_is_reported_as_a_full_load_reports_it(corpus, tmp_path, monkeypatch):
    """A source that gives a participant another English name than the other sources: an
    incremental load reports the conflict with every other source's entry, as a full load does,
    including the entries it does not merge row by row (inline lists of 1 mention)."""
    monkeypatch.setattr(documents, "MENTIONS_INLINE", 1)
    tree = Tree(corpus, tmp_path / "tree")
    db = open_database(f"sqlite:///{tmp_path / 'inc' / 'events.sqlite3'}", create_dir=True)
    loader.load(tree.path, db)
    first = tree.present()[0]  # the entry every other source's is compared with
    path = tree.path / "fixtures" / first / "participants.ndjson"
    participants = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    listing = {source: _participants_of(tree, source) for source in tree.present()}
    renamed = max(participants, key=lambda p: sum(p["id"] in ids for ids in listing.values()))
    users = {source for source, ids in listing.items() if renamed["id"] in ids}
    renamed["name_en"] += " the Younger"
    path.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in participants), encoding="utf-8")

    def conflicting(database) -> list[str]:
        """The other source of each problem (the two loads word it from either side)."""
        with pytest.raises(loader.LoadError) as failed:
            loader.load(tree.path, database)
        named = [set(re.findall(r"fixtures/([^/]+)/", str(problem))) - {first} for problem in failed.value.problems]
        assert all(len(sources) == 1 for sources in named), failed.value.problems
        return sorted(source for sources in named for source in sources)

    incremental = conflicting(db)
    full = conflicting(open_database(f"sqlite:///{tmp_path / 'full' / 'events.sqlite3'}", create_dir=True))
    assert incremental == full == sorted(users - {first})
    assert len(users) > 3, users


def test_an_unchanged_tree_changes_nothing(corpus, tmp_path):
    tree = Tree(corpus, tmp_path / "tree")
    url = f"sqlite:///{tmp_path / 'db' / 'events.sqlite3'}"
    db = open_database(url, create_dir=True)
    first = loader.load(tree.path, db)
    from api import create_app
    client = create_app({"DATABASE_URL": url, "TESTING": True}).test_client()
    etag = client.get("/v1/events?limit=5").headers["ETag"]
    again = loader.load(tree.path, db)
    assert (again.mode, again.release, again.dataset_version) == ("unchanged", first.release, first.dataset_version)
    assert create_app({"DATABASE_URL": url, "TESTING": True}).test_client().get("/v1/events?limit=5").headers["ETag"] == etag


def test_an_edit_that_keeps_size_and_time_is_found_by_rehash(corpus, tmp_path):
    """Size and modification time vouch for a file's content (so an unchanged tree is not read);
    a copy that kept the times can hide an edit from them: --rehash reads every file."""
    tree = Tree(corpus, tmp_path / "tree")
    db = open_database(f"sqlite:///{tmp_path / 'db' / 'events.sqlite3'}", create_dir=True)
    first = loader.load(tree.path, db)
    path = sorted((tree.path / "fixtures").glob("*/events.*"))[0]
    before = path.stat()
    text = path.read_text(encoding="utf-8")
    at = text.index('"title_en": "') + len('"title_en": "')
    edited = text[:at] + ("X" if text[at] != "X" else "Y") + text[at + 1:]  # a letter of a title: as many bytes
    assert edited != text and len(edited.encode()) == len(text.encode())
    path.write_text(edited, encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert loader.load(tree.path, db).mode == "unchanged"  # what the times say
    again = loader.load(tree.path, db, rehash=True)
    assert again.mode == "incremental" and again.release == first.release + 1
    assert again.plan.changed == [path.parent.name]


def test_a_killed_load_leaves_the_previous_release_served(corpus, tmp_path):
    """SIGKILL at several points of an incremental and of a full load: the database still
    answers exactly as before, and the next load completes."""
    import os
    import signal
    import time

    tree = Tree(corpus, tmp_path / "tree")
    url = f"sqlite:///{tmp_path / 'db' / 'events.sqlite3'}"
    first = loader.load(tree.path, open_database(url, create_dir=True))
    paths = ["/v1/events?limit=500", "/v1/participants?limit=500", "/v1/stats/facets?facet=status",
             "/v1/search?q=Syria&limit=100"]
    before = answers(url, paths)
    tree.change("syn_00003", random.Random(3))
    tree.add(HELD_BACK[1])
    # what a completed load of the changed tree holds: a kill that lands between the commit and
    # the process's exit finds it, which is all-or-nothing too (seen on a quiet machine)
    scratch = f"sqlite:///{tmp_path / 'scratch' / 'events.sqlite3'}"
    completed = loader.load(tree.path, open_database(scratch, create_dir=True)).dataset_version
    assert completed != first.dataset_version
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def start(target: str, full: bool) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "api.cli", "load", "--root", str(tree.path),
                                 "--database-url", target, *(["--full"] if full else [])], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def duration(full: bool) -> float:
        """Seconds the same load takes to the end on a copy of the database (machines differ
        by several times: fixed delays killed nothing on a fast one)."""
        copy = tmp_path / f"timing-{full}"
        shutil.copytree(tmp_path / "db", copy)
        began = time.monotonic()
        assert start(f"sqlite:///{copy / 'events.sqlite3'}", full).wait(timeout=120) == 0
        return time.monotonic() - began

    def started() -> float:
        """Seconds of the interpreter's start and imports, before a load touches anything."""
        began = time.monotonic()
        subprocess.run([sys.executable, "-m", "api.cli", "--help"], env=env, capture_output=True, check=True,
                       timeout=60)
        return time.monotonic() - began

    # the least of three: a first start with cold caches put every kill after the commit (seen once)
    startup = min(started() for _ in range(3))
    incremental, rebuild = duration(False), duration(True)
    pristine = tmp_path / "pristine"  # every trial starts from the first release
    shutil.copytree(tmp_path / "db", pristine)
    killed = {False: 0, True: 0}
    for full, shares in ((False, [0.3, 0.55, 0.8]), (True, [0.5, 0.8])):
        share, attempts = shares.pop(0), 0
        while attempts < 8 and share > 0.01:
            attempts += 1
            shutil.rmtree(tmp_path / "db")
            shutil.copytree(pristine, tmp_path / "db")
            process = start(url, full)
            time.sleep(startup + share * max((rebuild if full else incremental) - startup, 0.05))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=30)
            else:
                assert process.returncode == 0  # it finished on its own
            version = loader.loaded_version(open_database(url))
            if version == completed:  # it had committed (the timing of a busy machine varies): earlier
                share /= 2            # next time
                continue
            killed[full] += 1
            assert version == first.dataset_version
            assert answers(url, paths) == before
            if not shares:
                break
            share = min(shares.pop(0), share * 2)
    assert killed[False] >= 2 and killed[True] >= 1, f"too few loads were killed before they committed: {killed}"
    after = loader.load(tree.path, open_database(url))
    assert after.release == first.release + 1 and after.dataset_version != first.dataset_version


def test_removing_the_last_definition_of_a_used_participant_changes_nothing(corpus, tmp_path):
    """A source removed while another source's event still names a participant only it defined:
    the load fails with a problem that says so, and the database is as it was."""
    tree = Tree(corpus, tmp_path / "tree")
    definers: dict[str, set] = {}
    for source in tree.present():
        for line in (tree.path / "fixtures" / source / "participants.ndjson").read_text(encoding="utf-8").splitlines():
            if line.strip():
                definers.setdefault(json.loads(line)["id"], set()).add(source)
    participant, owner = next((p, min(s)) for p, s in sorted(definers.items()) if len(s) == 1)
    user = next(s for s in tree.present() if s != owner and participant not in _participants_of(tree, s))
    path = tree.path / "fixtures" / user / "events.ndjson"
    events = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    events[0]["participants"].append({"participant": participant, "role": events[0]["participants"][0]["role"]})
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'db' / 'events.sqlite3'}"
    first = loader.load(tree.path, open_database(url, create_dir=True))  # the other source's definition counts
    paths = ["/v1/events?limit=500", "/v1/participants?limit=500", f"/v1/participants/{participant}",
             "/v1/stats/facets?facet=status", "/v1/sources?limit=100"]
    before = answers(url, paths)
    assert before[f"/v1/participants/{participant}"][0] == 200

    tree.remove(owner)
    with pytest.raises(loader.LoadError) as failed:
        loader.load(tree.path, open_database(url))
    said = [str(problem) for problem in failed.value.problems]
    assert any(line.startswith(f"fixtures/{user}/events.ndjson: (id {events[0]['id']}): ") and repr(participant) in line
               and "no source defines any more" in line for line in said), said
    assert loader.loaded_version(open_database(url)) == first.dataset_version
    assert answers(url, paths) == before
    from models.history import current_release
    db = open_database(url)
    with db.connection_context(), db.bind_ctx(loader.HISTORY_TABLES):
        assert current_release(db) == first.release


def _participants_of(tree: Tree, source: str) -> set:
    path = tree.path / "fixtures" / source / "participants.ndjson"
    return {json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


def test_pages_give_each_record_the_releases_its_own_answer_gives(corpus, tmp_path):
    """A page reads its records' releases with the rows (models.changes.release_columns), an item
    on its own (one_with_releases): after a source is changed and another added, both say the
    same for every record, whatever the listing's shape (plain, dated, search, ascending)."""
    from api import create_app

    tree = Tree(corpus, tmp_path / "tree")
    url = f"sqlite:///{tmp_path / 'db' / 'events.sqlite3'}"
    db = open_database(url, create_dir=True)
    loader.load(tree.path, db)
    tree.change(tree.present()[2], random.Random(3))
    tree.add(HELD_BACK[0])
    loader.load(tree.path, db)
    client = create_app({"DATABASE_URL": url, "TESTING": True}).test_client()
    seen = {}
    for path in ("/v1/events?limit=500", "/v1/events?limit=500&sort=date&include_undated=true",
                 "/v1/events?limit=200&to=2016-12-31&include=participants", "/v1/events?q=Syria&limit=100",
                 "/v1/statements?limit=500", "/v1/participants?limit=500&fields=id,name_en,first_release"):
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.text[:300])
        for record in answer.get_json()["data"]:
            kind = path.split("?")[0].split("/")[-1]
            seen[(kind, record["id"])] = (record["first_release"], record.get("last_release"))
    for path in ("/v1/events?format=ndjson", "/v1/events?format=ndjson&q=Syria&include=participants",
                 "/v1/statements?format=ndjson&sort=date"):
        answer = client.get(path)  # exports read the releases with the rows too
        assert answer.status_code == 200, (path, answer.text[:300])
        kind = path.split("?")[0].split("/")[-1]
        records = [json.loads(line) for line in answer.text.splitlines()]
        assert records, path
        for record in records:
            seen[(kind, record["id"])] = (record["first_release"], record["last_release"])
    assert {first for first, _ in seen.values()} == {1, 2}  # records of both releases
    assert any(first == 1 and last == 2 for first, last in seen.values())  # changed ones
    for (kind, record_id), (first, last) in seen.items():
        own = client.get(f"/v1/{kind}/{record_id}").get_json()["data"]
        assert (first, last if last is not None else own["last_release"]) == \
            (own["first_release"], own["last_release"]), (kind, record_id)

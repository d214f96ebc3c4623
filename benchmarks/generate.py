"""A deterministic synthetic corpus in the project's own fixture format (see fixtures/FORMAT.md).

    python benchmarks/generate.py N [--out DIR] [--seed S] [--per-source K] [--jobs J]

writes, for N events,

    DIR/seeds/syn_NNNNN.txt + .json            one synthetic Arabic source text per K events (default 1,000)
    DIR/fixtures/codebook.json                 every CAMEO code of ../shared/reference (required)
    DIR/fixtures/syn_NNNNN/{participants,places,events,statements}.ndjson
    DIR/generator.json                         written last: N, the seed and the corpus format

Realistic for event data, not for its meaning: a pool of ~5,000 actors (persons with
Arabic and English names and aliases, ministries, news agencies, international
organisations, countries, groups) and 250 places with coordinates, both Zipf-popular;
each source covers a "cast" drawn from the global popularity, so a popular actor is
listed (with its mentions) in many sources and merged by the loader. 2-5 participants
per event, 0-3 statements per event (Arabic words + English translation), CAMEO codes
weighted towards the verbal roots, dates 2010-2025 with day/month/year/range/unknown
precision, statuses occurred/ongoing/planned/background.

Every span is real: a source text is built by concatenating generated Arabic sentences
while recording the offset of every name, date expression, quotation and sentence.

The output depends only on N, --seed and --per-source (not on --jobs): each source is
generated from its own random stream. Sources are generated in parallel (--jobs, default
the number of cores).
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import re
import sys
import time
from itertools import accumulate
from multiprocessing import get_context
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
REFERENCE = REPO.parent / "shared" / "reference"

sys.path.insert(0, str(HERE))  # the bench package (run as a script: python benchmarks/generate.py)

from bench.source_writer import CORPUS_FORMAT, SourceWriter  # noqa: E402
from bench.words import (AGENCIES, CITIES, CODEBOOK_VERSION, COUNTRIES, DIRECTIONS, FAMILY_NAMES,  # noqa: E402
                         FIRST_NAMES, GROUP_ROLES, GROUPS, IGO_CODES, INTERNATIONAL, MINISTRIES, ROLE_CODES,
                         ROOT_VERBS, TITLES)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# --------------------------------------------------------------------------- codebook


def build_codebook() -> dict:
    """Every CAMEO code of ../shared/reference; topics and roles from fixtures/codebook.json."""
    base = json.loads((REPO / "fixtures" / "codebook.json").read_text(encoding="utf-8"))
    if not (REFERENCE / "cameo_eventcodes.tsv").exists():
        # the events use CAMEO codes the article's codebook does not have: a corpus made without the
        # tables would fail its own load with a problem on most records
        raise SystemExit(f"{REFERENCE} not found: the generator takes its CAMEO codes from the reference "
                         "tables; put the shared/ directory beside this checkout (../shared/reference)")

    cameo = _cameo_entries()
    overrides = {e["code"]: e for e in base["cameo"] if e.get("plover_override")}  # the project's fixes of the draft table
    cameo = [{**entry, **overrides.get(entry["code"], {})} for entry in cameo]
    return {"version": CODEBOOK_VERSION, "cameo": cameo, "topics": base["topics"], "roles": base["roles"],
            "actors": actor_codebook()}


def _reference_rows(name: str) -> list[dict]:
    with open(REFERENCE / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _cameo_entries() -> list[dict]:
    """Every CAMEO code with its label, Goldstein score and the draft table's PLOVER type, mode and
    contexts (a code the table does not name takes its root's type)."""
    labels = {r["code"]: r["label"] for r in _reference_rows("cameo_eventcodes.tsv")}
    goldstein = {r["code"]: float(r["goldstein"]) for r in _reference_rows("cameo_goldstein.tsv")}
    root_plover = {}
    for r in _reference_rows("cameo_root_to_plover.tsv"):
        kind = r["plover_type"]
        root_plover.setdefault(r["cameo_root"], None if kind == "dropped" else ("ASSAULT" if kind == "FIGHT" else kind))
    mapping = _reference_rows("cameo_to_plover.tsv")
    plover = {r["cameo_code"]: (r["plover_type"], r["plover_mode"] or None) for r in mapping}
    contexts = {r["cameo_code"]: [c for c in (r["plover_context"] or "").split(";") if c] for r in mapping}
    cameo = []
    for code, label in labels.items():
        if len(code) == 2:
            kind, mode = root_plover.get(code), None
        else:
            kind, mode = plover.get(code, (root_plover.get(code[:2]), None))
        cameo.append({"code": code, "label": label, "goldstein": goldstein.get(code), "plover_type": kind,
                      "plover_mode": mode, "plover_context": contexts.get(code, [])})
    return cameo


def actor_codebook() -> list[dict]:
    """Every actor block the generated participants use: countries, IGOs, roles."""
    return ([{"code": c[0], "kind": "country", "label": c[2]} for c in COUNTRIES]
            + [{"code": code, "kind": "igo", "label": f"{key} (synthetic corpus code)"} for key, code in IGO_CODES.items()]
            + [{"code": code, "kind": "role", "label": label} for code, label in ROLE_CODES.items()])


# --------------------------------------------------------------------------- pools


def build_pools(seed: int, actors: int = 5_000):
    """(participants, places, cumulative Zipf weights of each): deterministic for ``seed``."""
    rng = random.Random(seed)
    people = _organisations()
    _add_persons(rng, people, actors)
    for person in people:  # distinct, non-empty, never the name itself
        person["aliases"] = [a for a in dict.fromkeys(person["aliases"]) if a and a not in (person["name_ar"], person["name_en"])]
    places = _places(rng)
    rng.shuffle(people)
    rng.shuffle(places)
    # countries and agencies are among the most reported actors
    people.sort(key=lambda p: 0 if p["kind"] == "country" and rng.random() < 0.6 else 1)
    actor_weights = list(accumulate(1.0 / (rank + 1) ** 1.05 for rank in range(len(people))))
    place_weights = list(accumulate(1.0 / (rank + 1) ** 0.9 for rank in range(len(places))))
    return people, places, actor_weights, place_weights


def _entity(pid, name_en, name_ar, kind, country, aliases, title=None, role=None) -> dict:
    return {"id": pid, "name_en": name_en, "name_ar": name_ar, "aliases": aliases, "kind": kind,
            "title_en": title[1] if title else None, "title_ar": title[0] if title else None,
            "country": country, "actor_code": ((country or "") + (role or "")) or None}


def _organisations() -> list[dict]:
    """Countries, news agencies, international organisations, ministries and local groups."""
    country_by_iso = {c[0]: c for c in COUNTRIES}
    people = [_entity(f"country-{iso.lower()}", en, ar, "country", iso, []) for iso, ar, en, *_ in COUNTRIES]
    for key, ar, en, iso in AGENCIES:
        people.append(_entity(f"agency-{key}", en, f"وكالة {ar}", "organization", iso, [ar, en], role="MED"))
    for key, ar, en, short in INTERNATIONAL:
        people.append(_entity(key, en, ar, "organization", None, [short] if short != en else [], role=IGO_CODES[key]))
    for iso, c_ar, c_en, _, _, _, _, adj, weight in COUNTRIES[:25]:
        for m_ar, m_en in MINISTRIES:
            people.append(_entity(f"{slug(m_en)}-{iso.lower()}", f"{m_en} of {c_en}", f"{m_ar} {adj}", "organization",
                                  iso, [f"{m_ar} في {c_ar}"], role="GOV"))
    for c_ar, c_en, iso, *_ in CITIES:
        for g_ar, g_en, key in GROUPS:
            people.append(_entity(f"{key}-{slug(c_en)}", g_en.format(e=c_en), g_ar.format(c=c_ar), "group",
                                  iso if iso in country_by_iso else None, [], role=GROUP_ROLES[key]))
    return people


def _add_persons(rng: random.Random, people: list[dict], actors: int) -> None:
    """Persons with distinct Arabic names until ``people`` holds ``actors`` entities."""
    country_weights = list(accumulate(c[8] for c in COUNTRIES))
    used = set()
    while len(people) < actors:
        n = len(people)
        first = rng.choice(FIRST_NAMES)
        family = rng.choice(FAMILY_NAMES)
        name_ar, name_en = f"{first[0]} {family[0]}", f"{first[1]} {family[1]}"
        if name_ar in used:
            father = rng.choice(FIRST_NAMES[:38])
            name_ar, name_en = f"{first[0]} {father[0]} {family[0]}", f"{first[1]} {father[1]} {family[1]}"
            if name_ar in used:
                continue
        used.add(name_ar)
        iso = rng.choices(COUNTRIES, cum_weights=country_weights)[0][0]
        title = rng.choice(TITLES) if rng.random() < 0.5 else None
        aliases = ([family[0], family[1].replace("al-", "").capitalize(), name_en.replace("Mohammed", "Muhammad")]
                   if name_en.startswith("Mohammed") else [family[0], family[1]])
        people.append(_entity(f"{slug(name_en)}-{n}", name_en, name_ar, "person", iso, aliases, title,
                              role="GOV" if title else None))


def _place(pid, name_en, name_ar, kind, iso, lat, lon) -> dict:
    return {"id": pid, "name_en": name_en, "name_ar": name_ar, "aliases": [], "kind": kind,
            "country": iso, "lat": lat, "lon": lon}


def _places(rng: random.Random) -> list[dict]:
    """250 places: capitals, cities, countries, then regions around the cities."""
    places = [_place(slug(cap_en), cap_en, cap_ar, "city", iso, lat, lon)
              for iso, ar, en, cap_ar, cap_en, lat, lon, *_ in COUNTRIES]
    places += [_place(slug(en), en, ar, "city", iso, lat, lon) for ar, en, iso, lat, lon in CITIES]
    places += [_place(f"country-{slug(en)}", en, ar, "country", iso, lat, lon)
               for iso, ar, en, cap_ar, cap_en, lat, lon, *_ in COUNTRIES]
    regions = [(d, c) for c in CITIES for d in DIRECTIONS]
    rng.shuffle(regions)
    for (d_ar, d_en, dlat, dlon), (ar, en, iso, lat, lon) in regions[: 250 - len(places)]:
        name_en = f"{en} countryside" if d_en == "countryside" else f"{d_en.capitalize()} {en}"
        places.append(_place(slug(name_en), name_en, f"{d_ar} {ar}", "region", iso, round(lat + dlat, 4),
                             round(lon + dlon, 4)))
    return places


# module-level state of a worker process (set by init_worker)
_POOLS = None
_ROOT_CODES: dict[str, list[str]] = {}
_BY_ID: dict[str, dict] = {}


def init_worker(seed: int, root_codes: dict) -> None:
    global _POOLS, _ROOT_CODES, _BY_ID
    people, places, actor_weights, place_weights = build_pools(seed)
    for rank, p in enumerate(people):
        p["_rank"] = rank
    for rank, p in enumerate(places):
        p["_rank"] = rank
    _POOLS = (people, places, actor_weights, place_weights)
    _ROOT_CODES = root_codes
    _BY_ID = {p["id"]: p for p in people}


def run_task(args) -> tuple:
    out, seed, index, n_events = args
    writer = SourceWriter(seed, index, _POOLS, _ROOT_CODES)
    for number in range(1, n_events + 1):
        writer.event(number)
    return writer.write(out, _BY_ID)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("events", type=int, help="number of events")
    parser.add_argument("--out", type=Path, default=None, help="output directory (default benchmarks/out/corpus-N)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--per-source", type=int, default=1_000, help="events per source text (default 1000)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: cores)")
    args = parser.parse_args(argv)
    out = args.out or HERE / "out" / f"corpus-{args.events}"
    if out.exists() and any(out.iterdir()):
        print(f"{out} exists and is not empty; remove it first", file=sys.stderr)
        return 2
    (out / "seeds").mkdir(parents=True, exist_ok=True)
    (out / "fixtures").mkdir(parents=True, exist_ok=True)
    codebook = build_codebook()
    (out / "fixtures" / "codebook.json").write_text(json.dumps(codebook, ensure_ascii=False, indent=1), encoding="utf-8")
    root_codes: dict[str, list[str]] = {}
    for entry in codebook["cameo"]:
        if len(entry["code"]) > 2:
            root_codes.setdefault(entry["code"][:2], []).append(entry["code"])
    for root in ROOT_VERBS:
        root_codes.setdefault(root, [root])

    n_sources = max(1, math.ceil(args.events / args.per_source))
    tasks = []
    remaining = args.events
    for index in range(1, n_sources + 1):
        size = min(args.per_source, remaining)
        tasks.append((out, args.seed, index, size))
        remaining -= size
    started = time.perf_counter()
    totals = [0, 0, 0]
    print(f"generating {args.events:,} events in {n_sources:,} sources into {out} ({args.jobs} jobs)", flush=True)
    with get_context("fork").Pool(args.jobs, initializer=init_worker, initargs=(args.seed, root_codes)) as pool:
        for done, (source_id, events, statements, _, _, size) in enumerate(pool.imap(run_task, tasks, chunksize=1), 1):
            totals[0] += events
            totals[1] += statements
            totals[2] += size
            if done % max(1, n_sources // 20) == 0 or done == n_sources:
                elapsed = time.perf_counter() - started
                print(f"  {done:,}/{n_sources:,} sources, {totals[0]:,} events, {totals[1]:,} statements, "
                      f"{totals[2] / 1e6:,.0f} MB of text, {elapsed:.0f} s", flush=True)
    # last, so that a corpus with this file is whole (the benchmark regenerates one without it)
    (out / "generator.json").write_text(json.dumps({
        "format": CORPUS_FORMAT, "events": args.events, "seed": args.seed, "per_source": args.per_source}) + "\n")
    print(f"done in {time.perf_counter() - started:.1f} s: {totals[0]:,} events, {totals[1]:,} statements", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Both servers' answers compared on samples of the measured URLs: the same event ids in the same
order, the same totals, the same embedded records, the same counts for facets, timelines and
dyads. Every function returns a list of problems (empty: the answers agree); the run fails on any.

Also: /v1/stats/dyads counts equal the totals of /v1/events filtered to the dyad (issue 16).
"""
from __future__ import annotations

import itertools
import json

from .processes import Server, get
from .requests import PLAIN, TOTAL, Cell, Sample, q


class OverTime(ValueError):
    """A server declined a request for its own time limit (our 2 s database budget, Datasette's
    sql_time_limit_ms): nothing to compare, which is not a difference."""


#: how each server says that a request ran out of its time (any other error status is a failure)
OUT_OF_TIME = (b"/problems/time-budget", b"took too long")


def fetch(server: Server, path: str, timeout: float = 300.0):
    """The decoded JSON answer of ``path``; raises OverTime or ValueError on a status other than 200."""
    status, _, body = get(server.port, path, timeout=timeout)
    if status != 200:
        kind = OverTime if any(marker in body for marker in OUT_OF_TIME) else ValueError
        raise kind(f"{server.name} answered {status}: {body[:300]!r}")
    return json.loads(body)


def link_ids(links) -> list:
    return sorted(link["participant"]["id"] for link in links or [])


def parsed(value):
    """A JSON column of Datasette's answer: sent as the stored text (the timed URLs ask for no
    ``_json=``), read here."""
    return json.loads(value) if isinstance(value, str) else value


def record_ids(records) -> list:
    return sorted(record["id"] for record in parsed(records) or [])


def compare_page(ours: dict, theirs: list, variant: str, embedded: bool) -> list[str]:
    problems = []
    our_ids, their_ids = [d["id"] for d in ours["data"]], [row["id"] for row in theirs]
    if our_ids != their_ids:
        problems.append(f"ids differ: ours {our_ids[:5]}… ({len(our_ids)}), Datasette {their_ids[:5]}… ({len(their_ids)})")
    if variant == TOTAL and theirs and ours["meta"]["total"] != theirs[0]["total"]:
        problems.append(f"totals differ: ours {ours['meta']['total']:,}, Datasette {theirs[0]['total']:,}")
    if embedded and not problems:
        for doc, row in zip(ours["data"], theirs):
            if link_ids(doc.get("participants")) != record_ids(row["participants"]):
                problems.append(f"participants of {doc['id']} differ: ours {link_ids(doc.get('participants'))}, "
                                f"Datasette {record_ids(row['participants'])}")
                break
    return problems


def compare_event(ours: dict, theirs: list) -> list[str]:
    if len(theirs) != 1:
        return [f"Datasette found {len(theirs)} rows"]
    doc, row = ours["data"], theirs[0]
    problems = []
    if doc["id"] != row["id"]:
        problems.append(f"ids differ: {doc['id']} / {row['id']}")
    if link_ids(doc.get("participants")) != record_ids(row["participants"]):
        problems.append(f"participants differ: {link_ids(doc.get('participants'))} / {record_ids(row['participants'])}")
    if record_ids(doc.get("statements")) != record_ids(row["statements"]):
        problems.append(f"statements differ: {record_ids(doc.get('statements'))} / {record_ids(row['statements'])}")
    ours_place, their_place = (doc.get("place") or {}).get("id"), (parsed(row["place"]) or {}).get("id")
    if ours_place != their_place:
        problems.append(f"places differ: {ours_place} / {their_place}")
    return problems


def compare_facet(ours: dict, theirs: list) -> list[str]:
    our_counts = {item["value"]: item["count"] for item in ours["data"]["cameo_root"]}
    their_counts = {row["value"]: row["n"] for row in theirs}
    if our_counts != their_counts:
        differ = sorted(k for k in our_counts.keys() | their_counts.keys() if our_counts.get(k) != their_counts.get(k))
        return [(f"counts differ for {differ[:5]}: ours {[our_counts.get(k) for k in differ[:5]]}, "
                 f"Datasette {[their_counts.get(k) for k in differ[:5]]}")]
    return []


def compare_timeline(ours: dict, theirs: list) -> list[str]:
    our_rows = [(b["start"][:7], b["count"], b["ranged"]) for b in ours["data"]]
    their_rows = [(row["month"], row["events"], row["ranged"]) for row in theirs]
    problems = []
    if our_rows != their_rows:
        differ = [(a, b) for a, b in itertools.zip_longest(our_rows, their_rows) if a != b]
        problems.append(f"months differ ({len(differ)}), first: ours {differ[0][0]}, Datasette {differ[0][1]}")
    if theirs and ours["meta"]["undated"] != theirs[0]["undated"]:
        problems.append(f"undated differ: ours {ours['meta']['undated']}, Datasette {theirs[0]['undated']}")
    return problems


def compare_dyads(ours: dict, theirs: list) -> list[str]:
    our_rows = [(d["source"], d["target"], d["count"]) for d in ours["data"]]
    their_rows = [(row["source_actor"], row["target_actor"], row["n"]) for row in theirs]
    problems = []
    if our_rows != their_rows:
        differ = [(a, b) for a, b in itertools.zip_longest(our_rows, their_rows) if a != b]
        problems.append(f"pairs differ ({len(differ)} of {len(our_rows)}), first: ours {differ[0][0]}, "
                        f"Datasette {differ[0][1]}")
    else:
        for d, row in zip(ours["data"], theirs):
            if abs(d["goldstein_sum"] - row["goldstein_sum"]) > 1e-3:
                problems.append(f"Goldstein sums of {d['source']}->{d['target']} differ: {d['goldstein_sum']} / "
                                f"{row['goldstein_sum']}")
                break
    if theirs and ours["meta"]["dyads"] != theirs[0]["dyads"]:
        problems.append(f"number of pairs differs: ours {ours['meta']['dyads']}, Datasette {theirs[0]['dyads']}")
    return problems


def compare(kind: str, ours, theirs, variant: str) -> list[str]:
    if kind in ("page", "search"):
        return compare_page(ours, theirs, variant, embedded=kind == "page")
    return {"event": compare_event, "facet": compare_facet, "timeline": compare_timeline,
            "dyads": compare_dyads}[kind](ours, theirs)


def samples_of(cell: Cell, seed: int, slices, per_slice: int) -> list[Sample]:
    """The first URLs of each measured slice: what the checks compare."""
    return [sample for index in slices for sample in itertools.islice(cell.stream(seed, index), per_slice)]


def check_cell(cell: Cell, samples: list[Sample], ours: Server, datasette: Server | None) -> tuple[list[str], list[str]]:
    """Our answer to every sample, and Datasette's in each variant, compared: the problems, and
    the samples not compared because a server ran out of its time limit."""
    problems, over_time = [], []
    for sample in samples:
        try:
            answer = fetch(ours, sample.ours)
        except OverTime as error:
            over_time.append(f"{cell.key} {sample.params}: {str(error)[:120]}")
            continue
        except (OSError, ValueError) as error:
            problems.append(f"{cell.key} {sample.params}: {error}")
            continue
        if datasette is None or cell.kind == "repeated":
            continue
        for variant in cell.variants:
            where = f"{cell.key} {sample.params} {variant}"
            try:
                theirs = fetch(datasette, sample.theirs[variant])
            except OverTime as error:
                over_time.append(f"{where}: {str(error)[:120]}")
                continue
            except (OSError, ValueError) as error:
                problems.append(f"{where}: {error}")
                continue
            problems += [f"{where}: {p}" for p in compare(cell.kind, answer, theirs, variant)]
    return problems, over_time


def check_dyad_totals(ours: Server, ranges: list[dict], pairs_per_range: int = 2) -> tuple[list[str], list[str], int]:
    """For a few pairs of each /v1/stats/dyads answer (the first, one further down), the total of
    /v1/events with the same filters and that pair's source_actor and target_actor equals the
    pair's count (issue 16). Returns the problems, the answers over the time budget (not
    compared) and the number of pairs compared."""
    problems, over_time, compared = [], [], 0
    for dates in ranges:
        try:
            pairs = fetch(ours, "/v1/stats/dyads?" + q({**dates, "limit": 100}))["data"]
            picked = [pairs[i] for i in sorted({0, len(pairs) // 2})][:pairs_per_range] if pairs else []
            for pair in picked:
                listing = fetch(ours, "/v1/events?" + q({**dates, "source_actor": pair["source"],
                                                         "target_actor": pair["target"], "limit": 1}))
                compared += 1
                if listing["meta"]["total"] != pair["count"]:
                    problems.append(f"dyads {dates} {pair['source']}->{pair['target']}: count {pair['count']}, "
                                    f"/v1/events total {listing['meta']['total']}")
        except OverTime as error:
            over_time.append(f"dyads {dates}: {str(error)[:120]}")
        except (OSError, ValueError) as error:
            problems.append(f"dyads {dates}: {error}")
    return problems, over_time, compared


def check_export(events: int, export: dict, name: str) -> list[str]:
    if export.get("status") != 200 or export.get("lines") != events:
        return [f"export {name}: status {export.get('status')}, {export.get('lines')} records, expected {events:,}"]
    return []


__all__ = ["PLAIN", "TOTAL", "check_cell", "check_dyad_totals", "check_export", "samples_of"]

"""The table of one size, the targets of issue 20 met or missed, and the JSON of every figure."""
from __future__ import annotations

import json
import os
import platform
import sqlite3
import subprocess
from pathlib import Path

from .requests import PLAIN, TOTAL

PAGE_CELLS = ("first", "search", "deep")  # >= 5x Datasette without the total, <= 1/5 of its CPU
COUNT_CELLS = ("facet", "timeline", "dyads")  # >= 20x Datasette at 1M
MILLION = 1_000_000


def version_of(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False).stdout.strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "?"


def environment(wrk: str, datasette: str | None) -> dict:
    from importlib.metadata import version

    return {
        "machine": f"{os.cpu_count()} cores ({cpu_model()}), "
                   f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, {platform.platform()}",
        # other work on the machine before the run began (the run's own load comes after)
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "versions": f"Python {platform.python_version()}, Flask {version('flask')}, gunicorn {version('gunicorn')}, "
                    f"peewee {version('peewee')}, marshmallow {version('marshmallow')}, SQLite {sqlite3.sqlite_version}, "
                    f"{version_of([datasette, '--version']) if datasette else 'no Datasette'}, "
                    f"{version_of([wrk, '--version'])}",
    }


def cpu_model() -> str:
    """The processor's name as the kernel gives it (rates differ between machines of one kind)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            return next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), "unknown CPU")
    except OSError:
        return "unknown CPU"


def usable(figures: dict | None) -> bool:
    return bool(figures) and "skipped" not in figures and figures.get("requests", 0) > 0


def number(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}" if x >= 1 else f"{x:.2f}"


def ratio(a: dict | None, b: dict | None, key: str = "rps") -> float | None:
    if usable(a) and usable(b) and b[key]:
        return a[key] / b[key]
    return None


def at_least(value: float | None, target: float) -> tuple[bool, str]:
    """(met, the figure) of a ratio target; no ratio when the peer answered nothing in its median
    round (Datasette's dyads at 1M): not met, since nothing was compared."""
    if value is None:
        return False, "no ratio: Datasette answered no request in its median round"
    return value >= target, f"{value:.1f}x"


def connections(figures: dict) -> str:
    """Connections per worker in each round, e.g. ``4+4 5+3 4+4``."""
    return " ".join("+".join(map(str, spread)) if spread else "?" for spread in figures.get("connections", []))


def server_cells(figures: dict | None) -> list[str]:
    if figures is None:
        return ["-", "", ""]
    if "skipped" in figures:
        return [f"skipped: {figures['skipped'][:40]}", "", ""]
    errors = f" ({figures['errors']} errors)" if figures["errors"] else ""
    return [number(figures["rps"]) + errors, f"{figures['spread_pct']:.0f}", f"{figures['cpu_ms']:.2f}"]


def both(a: float | None, b: float | None, digits: int, suffix: str) -> str:
    parts = [f"{x:.{digits}f}{suffix}" if x is not None else "-" for x in (a, b)]
    return parts[0] if b is None else f"{parts[0]} ({parts[1]})"


TABLE_HEAD = ("| cell | ours req/s | ± % | CPU ms/req | p50 ms | p99 ms | connections per worker | repeats "
              "| Datasette req/s without total | ± % | CPU ms/req | with total req/s | ± % | CPU ms/req "
              "| req/s ours/theirs: without (with) total | CPU ours/theirs: without (with) |")


def table(size: dict, titles: dict) -> list[str]:
    lines = [TABLE_HEAD, "|" + "---|" * (TABLE_HEAD.count("|") - 1)]
    for key, cell in size["cells"].items():
        ours = cell.get("ours")
        mine = server_cells(ours)
        extra = [f"{ours['p50_ms']:.1f}", f"{ours['p99_ms']:.1f}", connections(ours),
                 f"{ours['repeats']:.0%}" if ours.get("repeats") is not None else ""] if usable(ours) else ["", "", "", ""]
        if key == "repeated":
            floor = cell.get("floor")
            fraction = ratio(ours, floor)
            theirs = ([f"floor {number(floor['rps'])}", f"{floor['spread_pct']:.0f}", f"{floor['cpu_ms']:.2f}"]
                      if usable(floor) else ["floor -", "", ""])
            rest = ["", "", "", f"{fraction:.2f} of the floor" if fraction else "-", ""]
        else:
            plain, total = cell.get(PLAIN), cell.get(TOTAL)
            theirs = server_cells(plain)
            rest = (server_cells(total) if TOTAL in cell else ["", "", ""]) + [
                both(ratio(ours, plain), ratio(ours, total) if TOTAL in cell else None, 1, "x"),
                both(ratio(ours, plain, "cpu_ms"), ratio(ours, total, "cpu_ms") if TOTAL in cell else None, 2, "")]
        lines.append(f"| {titles.get(key, key)} | " + " | ".join(mine + extra + theirs + rest) + " |")
    export = size.get("export", {})
    for name, label in (("ours", "export, ours: /v1/events?format=ndjson"), (PLAIN, "export, Datasette: event.csv?_stream=on")):
        e = export.get(name)
        if e:
            own = f", of its own {e['peak_anon_mib']:,}" if "peak_anon_mib" in e else ""  # (figures before 2026-12-02 11:00)
            lines.append(f"| {label} | {e['rate']:,} records/s | | CPU {e['cpu_s']:.1f} s | {e['seconds']:.1f} s | "
                         f"{e['mib']:,.0f} MiB | peak RSS {e['peak_rss_mib']:,} MiB (before {e['rss_before_mib']:,}){own} "
                         "| | | | | | | | | |")
    return lines


def targets(size: dict, events: int) -> list[tuple[str, bool, str]]:
    """(target, met, the figures) of issue 20 for one size."""
    cells = size["cells"]
    return (page_targets(cells) + event_targets(cells) + count_targets(cells, events) + floor_targets(cells)
            + latency_targets(cells) + spread_targets(cells) + error_targets(cells))


def error_targets(cells: dict) -> list:
    """Every answer of ours a success (req/s counts only those, but a server that sheds load with
    503s has not met a throughput target)."""
    out = []
    for key, cell in cells.items():
        for variant in ("ours", "floor"):
            figures = cell.get(variant)
            if figures and "skipped" not in figures:
                out.append((f"{key} {variant}: no errors", not figures["errors"],
                            f"{figures['errors']} errors ({figures.get('error_kinds', {})}) in {figures['requests']:,} "
                            "answered requests" if figures["errors"] else "none"))
    return out


def pair(cells: dict, key: str, variant: str = PLAIN) -> tuple[dict | None, dict | None]:
    cell = cells.get(key, {})
    return cell.get("ours"), cell.get(variant)


def page_targets(cells: dict) -> list:
    """First page, search, deep page: >= 5x Datasette's req/s without the total, <= 1/5 of its CPU."""
    out = []
    for key in PAGE_CELLS:
        ours, plain = pair(cells, key)
        if usable(ours) and usable(plain):
            r, c = ratio(ours, plain), ratio(ours, plain, "cpu_ms")
            out.append((f"{key}: >= 5x Datasette's req/s (without the total)", *at_least(r, 5)))
            out.append((f"{key}: <= 1/5 of Datasette's CPU/request", c is not None and c <= 0.2,
                        f"{ours['cpu_ms']:.2f} vs {plain['cpu_ms']:.2f} ms ({c:.2f})" if c is not None else "-"))
    return out


def event_targets(cells: dict) -> list:
    """One event by id: >= 2x Datasette, <= 1 ms of CPU."""
    ours, plain = pair(cells, "event")
    out = []
    if usable(ours):
        if usable(plain):
            out.append(("event: >= 2x Datasette's req/s", *at_least(ratio(ours, plain), 2)))
        out.append(("event: <= 1 ms CPU/request", ours["cpu_ms"] <= 1, f"{ours['cpu_ms']:.2f} ms"))
    return out


def count_targets(cells: dict, events: int) -> list:
    """Facets, timelines (and dyads, the same kind of count): >= 20x Datasette, stated for 1M."""
    out = []
    for key in COUNT_CELLS:
        ours, plain = pair(cells, key)
        if usable(ours) and usable(plain):
            scope = "" if events == MILLION else " (stated for 1M)"
            out.append((f"{key}: >= 20x Datasette's req/s{scope}", *at_least(ratio(ours, plain), 20)))
    return out


def floor_targets(cells: dict) -> list:
    ours, floor = pair(cells, "repeated", "floor")
    if usable(ours) and usable(floor):
        return [("repeated: >= 0.7 of the floor's req/s", ratio(ours, floor) >= 0.7,
                 f"{number(ours['rps'])} vs {number(floor['rps'])} ({ratio(ours, floor):.2f})")]
    return []


def latency_targets(cells: dict) -> list:
    """p99 <= 50 ms for every request of ours that costs <= 3 ms of CPU."""
    out = []
    for key, cell in cells.items():
        ours = cell.get("ours")
        if usable(ours) and ours["cpu_ms"] <= 3:
            out.append((f"{key}: p99 <= 50 ms at the load's connections (CPU {ours['cpu_ms']:.2f} ms <= 3)",
                        ours["p99_ms"] <= 50, f"p99 {ours['p99_ms']:.1f} ms"))
    return out


def spread_targets(cells: dict) -> list:
    """Every round of ours (and of the floor) within 25 % of the cell's median."""
    out = []
    for key, cell in cells.items():
        for variant in ("ours", "floor"):
            if usable(cell.get(variant)):
                spread, rps = cell[variant]["spread_pct"], cell[variant]["rps"]
                # a median of 0 answers per second has no spread to speak of: not met
                out.append((f"{key} {variant}: every round within 25 % of the median", rps > 0 and spread <= 25,
                            f"± {spread:.1f} %" if rps > 0 else "no answers in the median round"))
    return out


def print_size(events: int, size: dict, titles: dict, notes: dict, settings: str) -> None:
    load = size.get("load", {})
    print(f"\n## {events:,} events")
    print(f"database {size.get('database_mib', '?'):,} MiB; {settings}")
    if load:
        print(f"load: {load.get('seconds')} s wall, {load.get('cpu_seconds', '?')} s CPU, peak RSS of the loader's "
              f"processes {load.get('peak_tree_rss_mib')} MiB (measured {load.get('date', '?')})")
        if load.get("steps"):
            print("load by step: " + ", ".join(f"{name} {seconds:,.0f} s" for name, seconds in load["steps"].items()))
    checks = size.get("checks", {})
    late = f", {len(checks['over_time'])} answers over a time limit (not compared)" if checks.get("over_time") else ""
    print(f"checks: {checks.get('samples', 0)} samples compared{late}, {checks.get('dyad_pairs', 0)} dyad counts against "
          f"/v1/events totals: {'FAILED' if checks.get('problems') else 'all agree'} ({checks.get('seconds', '?')} s); "
          f"this size took {size.get('seconds', '?')} s")
    print()
    for line in table(size, titles):
        print(line)
    print()
    for key, note in notes.items():
        if key in size["cells"]:
            print(f"- {key}: {note}")
    print(f"\n### targets of issue 20 at {events:,} events")
    for name, ok, value in targets(size, events):
        print(f"- [{'x' if ok else ' '}] {name}: {value} {'MET' if ok else 'MISSED'}")
    for problem in checks.get("problems", []):
        print(f"- CHECK FAILED: {problem}")
    if size.get("profile"):
        print(f"\n### py-spy profile of {size['profile']['cell']} (ours)\n{size['profile']['summary']}")


def save(document: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False))


def print_ratios(document: dict) -> None:
    """One line per cell: the ratios at every size side by side (what the README's summary quotes)."""
    sizes = document["sizes"]
    head = "| cell | " + " | ".join(f"{int(n):,}: req/s ours/theirs without (with) total | CPU ours/theirs"
                                     for n in sizes) + " |"
    print(f"\n## ratios at every size\n\n{head}\n|" + "---|" * (head.count("|") - 1))
    keys = dict.fromkeys(key for size in sizes.values() for key in size["cells"])
    for key in keys:
        row = []
        for size in sizes.values():
            cell = size["cells"].get(key, {})
            ours = cell.get("ours")
            if key == "repeated":
                fraction = ratio(ours, cell.get("floor"))
                row += [f"{fraction:.2f} of the floor" if fraction else "-", ""]
                continue
            with_total = TOTAL in cell
            row += [both(ratio(ours, cell.get(PLAIN)), ratio(ours, cell.get(TOTAL)) if with_total else None, 1, "x"),
                    both(ratio(ours, cell.get(PLAIN), "cpu_ms"),
                         ratio(ours, cell.get(TOTAL), "cpu_ms") if with_total else None, 2, "")]
        print(f"| {key} | " + " | ".join(row) + " |")

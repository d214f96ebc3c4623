"""Measuring the cells: a warm-up, then rounds with the server order alternating, each run on
URLs no earlier run of the cell sent; the median and spread of each cell; the export."""
from __future__ import annotations

import http.client
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from . import wrk
from .processes import CLK_TCK, HOST, PeakRSS, Server, cpu_ticks, get, rss_kib
from .requests import Cell, write_slice


@dataclass
class Setup:
    servers: dict  # "ours", "datasette", "floor" -> Server (Datasette absent with --no-datasette)
    load: wrk.Load
    seed: int
    per_run: int  # URLs written per run (a run that sends more starts the list again)
    rounds: int
    warmup_seconds: float
    probe_timeout: float
    tmp: Path


def server_of(variant: str, servers: dict) -> Server | None:
    return servers.get("ours" if variant == "ours" else "floor" if variant == "floor" else "datasette")


def sent_paths(paths: list[str], requests: int, threads: int) -> list[str]:
    """The URLs wrk sent in a run of ``requests`` answers: the Lua script starts thread i at
    i * (len / 2) and takes the next URL per request (the threads' shares taken as equal)."""
    out = []
    per_thread = -(-requests // threads)
    for thread in range(threads):
        start = thread * (len(paths) // 2)
        out.extend(paths[(start + i) % len(paths)] for i in range(min(per_thread, requests - len(out))))
    return out


def repeat_share(sent: list[str], seen: set) -> float:
    """Of the URLs sent, the share that had been sent before (in this run or an earlier one of the
    cell): an upper bound of the answers a response cache could give; ``seen`` is updated."""
    repeated = 0
    for path in sent:
        if path in seen:
            repeated += 1
        else:
            seen.add(path)
    return repeated / len(sent) if sent else 0.0


def median_and_spread(values: list[float]) -> tuple[float, float]:
    """The median, and the largest deviation from it in % of it (0 when there is one value)."""
    if not values:
        return 0.0, 0.0
    middle = statistics.median(values)
    if not middle:
        return 0.0, 0.0
    return middle, max(abs(v - middle) for v in values) / middle * 100


def summarise(runs: list[wrk.Run]) -> dict:
    """A cell's figures over its rounds: medians, and the spread of the throughput."""
    rps, spread = median_and_spread([r.rps for r in runs])
    repeats = [r.repeats for r in runs if r.repeats is not None]
    return {
        "rps": round(rps, 2), "spread_pct": round(spread, 1),
        "cpu_ms": round(statistics.median(r.cpu_ms for r in runs), 3),
        "p50_ms": round(statistics.median(r.p50_ms for r in runs), 2),
        "p99_ms": round(statistics.median(r.p99_ms for r in runs), 2),
        "errors": sum(r.errors for r in runs), "requests": sum(r.requests for r in runs),
        "error_kinds": dict(sum((Counter(r.error_kinds) for r in runs), Counter())),
        "connections": [r.spread for r in runs],
        "repeats": round(statistics.median(repeats), 3) if repeats else None,
        "runs": [r.as_dict() for r in runs],
    }


def probe(server: Server, path: str, timeout: float) -> str:
    """One request before the runs: '' when it is answered 200 within ``timeout``, else why not
    (the server is restarted after a timeout: it may keep working on the request a long time)."""
    try:
        status, _, body = get(server.port, path, timeout=timeout)
    except OSError as error:
        server.restart()
        return f"one request took over {timeout:g} s" if isinstance(error, TimeoutError) else f"no answer ({error})"
    return "" if status == 200 else f"status {status}: {body[:100]!r}"


def measure_cell(cell: Cell, setup: Setup, log=print) -> dict:
    """Every variant of ``cell`` (ours and Datasette's, or ours and the floor): a warm-up on slice
    0, then ``rounds`` runs each on slices 1…, the order of the servers reversed every round."""
    variants = [v for v in ("ours", *cell.variants) if server_of(v, setup.servers) is not None]
    files = [write_slice(cell, setup.seed, index, setup.per_run, setup.tmp) for index in range(setup.rounds + 1)]
    try:
        skipped = probe_all(cell, variants, files[1], setup, log)
        runs = run_rounds(cell, [v for v in variants if v not in skipped], files, setup, log)
    finally:
        for slice_files in files:
            for path in slice_files.values():
                path.unlink(missing_ok=True)
    out = {v: summarise(r) for v, r in runs.items() if r}
    out.update({v: {"skipped": reason} for v, reason in skipped.items()})
    return out


def probe_all(cell: Cell, variants: list[str], files: dict, setup: Setup, log) -> dict[str, str]:
    """The variants whose first URL fails or is too slow, and why."""
    skipped = {}
    for variant in variants:
        with files[variant].open() as handle:
            reason = probe(server_of(variant, setup.servers), handle.readline().strip(), setup.probe_timeout)
        if reason:
            skipped[variant] = reason
            log(f"  {cell.key} {variant}: skipped ({reason})")
    return skipped


def run_rounds(cell: Cell, live: list[str], files: list[dict], setup: Setup, log) -> dict[str, list]:
    runs: dict[str, list] = {v: [] for v in live}
    seen: set = set()
    for index in range(setup.rounds + 1):
        order = live if index % 2 else list(reversed(live))  # round 1 starts with ours
        for variant in order:
            result = one_run(cell, variant, files[index][variant], setup, seen,
                             setup.warmup_seconds if index == 0 else None)
            if index:  # slice 0 is the warm-up
                runs[variant].append(result)
                log(log_line(cell.key, index, variant, result))
    return runs


def log_line(key: str, index: int, variant: str, result: wrk.Run) -> str:
    return (f"  {key:8} round {index} {variant:15} {result.rps:9,.1f} req/s  cpu {result.cpu_ms:7.2f} ms"
            f"  p99 {result.p99_ms:8.2f} ms  connections {result.spread}"
            + (f"  repeats {result.repeats:.0%}" if result.repeats is not None else "")
            + (f"  ERRORS {result.errors}" if result.errors else ""))


def one_run(cell: Cell, variant: str, paths_file: Path, setup: Setup, seen: set, seconds: float | None) -> wrk.Run:
    result = wrk.run(server_of(variant, setup.servers), paths_file, setup.load, seconds)
    if variant == "ours" and cell.kind != "repeated":
        paths = paths_file.read_text().splitlines()
        result.repeats = round(repeat_share(sent_paths(paths, result.requests, setup.load.threads), seen), 3)
    return result


def count_records(chunks, terminator: bytes) -> tuple[int, int]:
    """Records and bytes of a streamed body whose records end with ``terminator`` (counted across
    chunk boundaries)."""
    records = size = 0
    carry = b""
    for chunk in chunks:
        records += (carry + chunk).count(terminator)
        carry = chunk[-(len(terminator) - 1):] if len(terminator) > 1 else b""
        size += len(chunk)
    return records, size


def export(server: Server, path: str, terminator: bytes = b"\n") -> dict:
    """One full download: records per second, the server's CPU, the peak RSS of its processes.
    Records end with ``terminator``: a line of NDJSON, or ``\r\n`` for Datasette's CSV (Python's
    csv writer), whose quoted fields may hold bare line breaks (the stored documents do)."""
    connection = http.client.HTTPConnection(HOST, server.port, timeout=1800)
    rss_before = rss_kib(server.pid) / 1024
    with PeakRSS(server.pid) as peak:
        started = time.perf_counter()
        before = cpu_ticks(server.pid)
        connection.request("GET", path)
        response = connection.getresponse()
        status = response.status
        lines, size = count_records(iter(lambda: response.read(1 << 20), b""), terminator)
        seconds = time.perf_counter() - started
        after = cpu_ticks(server.pid)
    connection.close()
    return {"status": status, "lines": lines, "mib": round(size / 2**20, 1), "seconds": round(seconds, 2),
            "rate": round(lines / seconds), "peak_rss_mib": round(peak.peak / 1024), "rss_before_mib": round(rss_before),
            "peak_anon_mib": round(peak.peak_anon / 1024),
            "cpu_s": round((after - before) / CLK_TCK, 2)}

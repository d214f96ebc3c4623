"""One timed run of wrk against one server: throughput, latency, the server's CPU per request
(its whole process tree, from /proc), how wrk's connections sit on its workers (``ss``); and
the profile of a run with py-spy."""
from __future__ import annotations

import json
import subprocess
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .processes import CLK_TCK, HOST, Server, connection_spread, cpu_ticks, wait_idle

# Replays the URLs of a file, one per request, from a different place per wrk thread, and
# prints the summary as one JSON line.
LUA = r"""
local paths = {}
local counter = 0
local thread_index = 0

function setup(thread)
  thread:set("id", thread_index)
  thread_index = thread_index + 1
end

function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  counter = id * math.floor(#paths / 2)
end

function request()
  local path = paths[(counter % #paths) + 1]
  counter = counter + 1
  return wrk.format("GET", path)
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
class Load:
    """How wrk is run: its executable, threads, connections, seconds per run."""

    wrk: str
    threads: int
    connections: int
    seconds: float
    script: Path


@dataclass
class Run:
    requests: int = 0  # answered with a 2xx/3xx status: an error answer (a 503 of a time budget) is no throughput
    rps: float = 0.0  # of those
    p50_ms: float = 0.0  # latencies of every answer wrk read, errors included
    p99_ms: float = 0.0
    cpu_ms: float = 0.0  # the server's whole process tree, per answered request
    errors: int = 0  # connect, read, write, timeout, and answers other than 2xx/3xx
    error_kinds: dict = field(default_factory=dict)
    spread: list = field(default_factory=list)  # connections per worker, largest first, at the middle of the run
    repeats: float | None = None  # of our requests, the share whose URL an earlier run of the cell had sent

    def as_dict(self) -> dict:
        return asdict(self)


def write_script(directory: Path) -> Path:
    script = directory / "bench.lua"
    script.write_text(LUA)
    return script


class SpreadSampler:
    """Samples the connections per worker at a quarter, half and three quarters of the run."""

    def __init__(self, server: Server, seconds: float):
        self.server, self.seconds, self.samples = server, seconds, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        for _ in range(3):
            if self._stop.wait(self.seconds / 4):
                return
            try:
                self.samples.append(connection_spread(self.server.port, self.server.workers()))
            except (OSError, subprocess.SubprocessError):
                pass

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def middle(self) -> list:
        return self.samples[len(self.samples) // 2] if self.samples else []


def run(server: Server, paths: Path, load: Load, seconds: float | None = None) -> Run:
    """wrk over the URLs in ``paths`` for ``seconds`` (default: the load's); the server's CPU is
    read before and after, once it is idle again (what wrk abandoned is charged to this run)."""
    seconds = seconds or load.seconds
    before = cpu_ticks(server.pid)
    with SpreadSampler(server, seconds) as sampler:
        completed = subprocess.run(
            [load.wrk, f"-t{load.threads}", f"-c{load.connections}", f"-d{seconds:g}s", "--timeout", "30s",
             "-s", str(load.script), f"http://{HOST}:{server.port}", "--", str(paths)],
            capture_output=True, text=True, timeout=seconds + 120, check=False)
    after = wait_idle(server.pid)
    line = next((x for x in completed.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {completed.stdout}\n{completed.stderr}")
    return from_summary(json.loads(line[len("WRKJSON "):]), after - before, sampler.middle())


def from_summary(data: dict, ticks: int, spread: list) -> Run:
    """A run's figures from the script's summary and the server's CPU ticks over it."""
    kinds = {k: data[k] for k in ("connect", "read", "write", "status", "timeout") if data[k]}
    n = data["requests"] - data["status"]  # wrk counts answers with an error status among its requests
    return Run(n, round(n / (data["duration_us"] / 1e6), 2), data["p50_us"] / 1000, data["p99_us"] / 1000,
               round(ticks * 1000 / CLK_TCK / max(n, 1), 3), sum(kinds.values()), kinds, spread)


def profile(server: Server, paths: Path, load: Load, py_spy: str, output: Path, top: int = 20) -> str:
    """py-spy on the server (master and workers) while wrk runs: the frames with the most samples,
    written to ``output`` (speedscope JSON) and ``output`` with .txt."""
    seconds = max(2, int(load.seconds))
    profiler = subprocess.Popen(
        [py_spy, "record", "--pid", str(server.pid), "--subprocesses", "--duration", str(seconds),
         "--rate", "200", "--format", "speedscope", "--output", str(output), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        run(server, paths, load, seconds)
        _, error = profiler.communicate(timeout=120)
    finally:
        if profiler.poll() is None:
            profiler.kill()
            profiler.wait()
    if profiler.returncode != 0 or not output.exists():
        return f"py-spy failed (exit {profiler.returncode}): {error.decode()[-400:]}"
    summary = summarise_profile(json.loads(output.read_text()), top)
    output.with_suffix(".txt").write_text(summary + "\n")
    return summary


PLUMBING = ("threading.py", "thread.py", "gthread.py", "arbiter.py", "base.py", "worker.py")  # in every thread's stack


def summarise_profile(data: dict, top: int = 20) -> str:
    """The frames with the most samples in a py-spy speedscope document: by themselves, and with
    what they call (frames every thread has, the thread pool's and gunicorn's, left out)."""
    frames = data["shared"]["frames"]
    own: dict[int, float] = {}
    within: dict[int, float] = {}
    total = 0.0
    for prof in data["profiles"]:
        for stack, weight in zip(prof["samples"], prof["weights"]):
            if not stack or frames[stack[0]]["name"] == "<idle>":
                continue
            total += weight
            own[stack[-1]] = own.get(stack[-1], 0) + weight
            for index in set(stack):
                within[index] = within.get(index, 0) + weight

    def name(index: int) -> str:
        frame = frames[index]
        where = Path(frame.get("file") or "?")
        return f"{frame['name']} ({'/'.join(where.parts[-2:])}:{frame.get('line', '?')})"

    unit = data["profiles"][0].get("unit", "samples") if data["profiles"] else "samples"
    lines = [f"{total:,.2f} {unit} sampled over the server's processes"]
    for title, table in (("self", own), ("inclusive", within)):
        lines.append(f"  top {title}:")
        # the inclusive list leaves out the frames every sample has: a process's own pseudo-frame
        # (no file), the thread pool's and gunicorn's
        ranked = [(i, w) for i, w in sorted(table.items(), key=lambda item: -item[1])
                  if title == "self" or (frames[i].get("file") and not frames[i]["file"].endswith(PLUMBING))]
        for index, weight in ranked[:top]:
            lines.append(f"    {weight / max(total, 1e-9) * 100:5.1f} %  {name(index)}")
    return "\n".join(lines)

"""Processes: servers started here and stopped by their pid, CPU time and memory of a process
tree read from /proc, and how a client's connections sit on a server's worker processes."""
from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent  # benchmarks/
REPO = HERE.parent
OUT = HERE / "out"
VENV_BIN = Path(sys.executable).parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
HOST = "127.0.0.1"


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


def cpu_ticks_of(pid: int) -> int | None:
    """utime + stime of one process (clock ticks), None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # fields 14 and 15 of stat
    except (OSError, IndexError, ValueError):
        return None


def cpu_ticks(pid: int) -> int:
    """utime + stime of pid and its descendants (clock ticks)."""
    return sum(ticks for p in tree(pid) if (ticks := cpu_ticks_of(p)) is not None)


def status_kib(pid: int, *fields: str) -> list[int]:
    """Each of ``fields`` of /proc/PID/status summed over the process tree, from one read of each
    process's file: VmRSS, the resident size, or RssAnon, the processes' own memory (without the
    file pages they map, which a server's SQLite memory map counts in VmRSS though they are the
    shared page cache)."""
    totals = dict.fromkeys(fields, 0)
    for p in tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                name, _, value = line.partition(":")
                if name in totals:
                    totals[name] += int(value.split()[0])
        except OSError:
            pass
    return [totals[field] for field in fields]


def rss_kib(pid: int) -> int:
    return status_kib(pid, "VmRSS")[0]


def wait_idle(pid: int, limit: float = 300.0) -> int:
    """CPU ticks of the process tree once it has used less than 2 ticks in 0.5 s (at most ``limit``
    s): requests a client abandoned are finished by the server and charged to the cell that sent them."""
    deadline = time.monotonic() + limit
    last = cpu_ticks(pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = cpu_ticks(pid)
        if now - last < 2:
            return now
        last = now
    return last


class PeakRSS:
    """Samples the summed RSS of a process tree every 100 ms in a thread (and the CPU time of
    each of its processes, as last seen: ``cpu_seconds``, which counts processes that exited)."""

    def __init__(self, pid: int):
        self.pid, self.peak, self.peak_anon, self._stop = pid, 0, 0, threading.Event()
        self._ticks: dict[int, int] = {}
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            rss, anon = status_kib(self.pid, "VmRSS", "RssAnon")
            self.peak, self.peak_anon = max(self.peak, rss), max(self.peak_anon, anon)
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


def get(port: int, path: str, timeout: float = 120.0) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def wait_ready(port: int, path: str, timeout: float = 180.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server for port {port} exited with status {process.returncode}")
        try:
            status, _, _ = get(port, path, timeout=10)
            if status < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not answer {path} within {timeout:.0f} s")


class Server:
    """A server process started here in its own session, stopped by its pid's process group."""

    def __init__(self, name: str, argv: list[str], port: int, ready_path: str, log: Path, env=None):
        self.name, self.port = name, port
        self.argv, self.env, self.ready_path, self.log_path = argv, env, ready_path, log
        self.process = self._start("wb")

    def _start(self, mode: str) -> subprocess.Popen:
        self.log = self.log_path.open(mode)
        process = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT, env=self.env,
                                   start_new_session=True, cwd=REPO)
        self.process = process
        try:
            wait_ready(self.port, self.ready_path, process=process)
        except RuntimeError as error:
            self.stop()
            tail = self.log_path.read_text(errors="replace")[-1500:]
            raise RuntimeError(f"{self.name}: {error}; the end of {self.log_path}:\n{tail}") from None
        return process

    @property
    def pid(self) -> int:
        return self.process.pid

    def workers(self) -> list[int]:
        """The processes that serve connections: gunicorn's workers (the master's children);
        a server of one process serves them itself."""
        return tree(self.pid)[1:] or [self.pid]

    def restart(self) -> None:
        """Stop and start again on the same port: drops requests stuck in the server."""
        self.stop()
        self._start("ab")

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


PID = re.compile(r"pid=(\d+)")


def connections_by_pid(ss_output: str) -> Counter:
    """Established connections per owning pid in ``ss -tnpH`` output (a socket two processes
    hold counts for each)."""
    found: Counter = Counter()
    for line in ss_output.splitlines():
        for pid in set(PID.findall(line)):
            found[int(pid)] += 1
    return found


def connection_spread(port: int, workers: list[int]) -> list[int]:
    """How many established connections to ``port`` each worker holds now, largest first
    (workers holding none included as 0)."""
    done = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                          capture_output=True, text=True, timeout=30, check=False)
    held = connections_by_pid(done.stdout)
    return sorted((held.get(pid, 0) for pid in workers), reverse=True)

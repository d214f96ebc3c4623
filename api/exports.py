"""How many streamed exports and large answers a worker sends at once, in all and per client address.

An export (CSV, NDJSON, GeoJSON of a whole collection) is exempt from the time
budget: it reads rows for as long as its client reads them. A client that starts
one and never reads holds a server thread and a database snapshot until the
socket's send timeout, so their number is bounded instead: past the worker's
limit the answer is a 503, past one client's share a 429, both with
``Retry-After`` and at once, before any row is read.

A large answer (over ``LARGE_ANSWER_BYTES`` as sent: a daily timeline grouped by participant
over years, say) holds a thread the same way once it no longer fits the socket's send buffer:
it takes a slot of the same pool while it is written (api/http.py), so the threads that clients
who never read can hold stay bounded whatever they ask for.
"""
from __future__ import annotations

import threading
from collections import Counter

from .errors import Problem

#: seconds a refused export is asked to wait before trying again
RETRY_AFTER = "10"
SLUG = "too-many-exports"


class ExportSlots:
    def __init__(self, per_worker: int, per_client: int):
        self.per_worker = per_worker
        self.per_client = per_client
        self.running: Counter[str] = Counter()
        self.lock = threading.Lock()

    def take(self, client: str):
        """A slot for ``client``'s export, as the function that gives it back (once)."""
        with self.lock:
            if self.running[client] >= self.per_client:
                raise Problem(429, f"You are already downloading {self.per_client} export(s) or large answer(s) "
                                   "from this server, the limit per client; finish reading it first.",
                              headers={"Retry-After": RETRY_AFTER}, slug=SLUG)
            if sum(self.running.values()) >= self.per_worker:
                raise Problem(503, f"This server is sending {self.per_worker} export(s) or large answer(s) already, "
                                   "its limit; retry shortly.", headers={"Retry-After": RETRY_AFTER}, slug=SLUG)
            self.running[client] += 1
        given_back = []

        def give_back() -> None:
            with self.lock:
                if not given_back:
                    given_back.append(True)
                    self.running[client] -= 1
                    if self.running[client] <= 0:
                        del self.running[client]

        return give_back

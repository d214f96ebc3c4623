"""Rendered answers kept per dataset version, and served in front of Flask (issue 20).

An answer's entity tag is a hash of the dataset version and release, the path,
the query string as sent and the formats the Accept header asks for (api/http.py),
so a stored answer can never be stale: a load that changes anything makes a
release (and a reverted edit, whose files hash to an earlier version, a new
release all the same: api.database.serving_key). An entry holds
the finished header lists of both encodings (identity and gzip, compressed once
when the entry is stored), so a repeated URL costs a lookup, the validity check
and one ``start_response``.

:class:`CachedAnswers` does that before Flask sees the request: it checks that
the dataset version is still the one last read on this thread's connection
(SQLite's change counter; a backend without one, or a changed file, goes the
long way), computes the tag, and sends the stored bytes. Anything it is not
sure about (a request body, If-None-Match, a path that is not plain ASCII, a
miss) is left to Flask, which stores what it renders.
"""
from __future__ import annotations

import hashlib
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from . import compression, formats

#: what an entry costs besides the strings, lists and bodies it holds: the entry object, the
#: OrderedDict node and its key (measured with tracemalloc by tests/test_conventions.py,
#: which checks the accounting against real allocations)
ENTRY_OVERHEAD = 300


@dataclass(slots=True)
class Entry:
    """One stored answer: the finished header lists and bodies of its encodings (gzip made the
    first time a client asks for it, then kept), and what it costs."""

    status: int
    plain: list  # the stored headers, then Content-Length and X-Cache (see _finished)
    body: bytes
    compressible: bool
    gzipped: list | None = None
    packed: bytes | None = None
    cost: int = 0


class ResponseCache:
    """Rendered GET answers keyed by their entity tag; evicted least recently used, by bytes."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.size = 0
        self.entries: OrderedDict[str, Entry] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> Entry | None:
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
            return entry

    def put(self, key: str, status: int, headers: Iterable[tuple[str, str]], body: bytes,
            packed: bytes | None = None, compressible: bool = False) -> None:
        """Store an answer (``headers``, pairs, without Content-Length), with its gzip encoding ``packed``
        when the first client asked for it (else made when one first does: most clients of a
        dashboard's API ask for it, a benchmark's do not, and compressing costs more than the rest
        of a cached answer)."""
        entry = Entry(status, _finished(headers, body), body, compressible or packed is not None)
        if packed is not None:
            entry.gzipped, entry.packed = _finished(_encoded(headers), packed), packed
        entry.cost = _cost(key, entry)
        if entry.cost > self.max_bytes // 8:
            return
        with self.lock:
            if key in self.entries:
                return
            self.entries[key] = entry
            self.size += entry.cost
            self._evict()

    def answer(self, entry: Entry, key: str, accept_encoding: str) -> tuple[list, bytes]:
        """The header list and body of a stored answer in the encoding the client accepts."""
        if entry.compressible and wants_gzip(accept_encoding):
            if entry.gzipped is None:
                self._add_gzip(key, entry)
            if entry.packed is not None:
                return entry.gzipped, entry.packed
        return entry.plain, entry.body

    def _add_gzip(self, key: str, entry: Entry) -> None:
        packed = compression.gzip_body(entry.body)
        if packed is None:  # too small to be worth it: the identity body, for every client
            entry.compressible = False
            return
        gzipped = _finished(_encoded(entry.plain[:-2]), packed)
        with self.lock:
            if entry.gzipped is not None:  # another thread did it meanwhile
                return
            entry.gzipped, entry.packed = gzipped, packed
            cost = _cost(key, entry)
            if key in self.entries:
                self.size += cost - entry.cost
            entry.cost = cost
            self._evict()

    def _evict(self) -> None:
        while self.size > self.max_bytes and self.entries:
            _, old = self.entries.popitem(last=False)
            self.size -= old.cost


def _finished(headers: Iterable[tuple[str, str]], body: bytes) -> list[tuple[str, str]]:
    """The header list sent with a stored answer: as stored, its length, and the hit marker
    (last two: Entry.plain[:-2] gives the stored headers back)."""
    return [*headers, ("Content-Length", str(len(body))), ("X-Cache", "hit")]


def _encoded(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The stored headers of the gzip encoding: marked so, under the encoding's own ETag."""
    encoded = [(name, compression.variant(value) if name.lower() == "etag" else value)
               for name, value in headers if name.lower() != "content-encoding"]
    return [*encoded, ("Content-Encoding", "gzip")]


def _cost(key: str, entry: Entry) -> int:
    """The memory an entry holds: its bodies, key, header lists and their strings (once each)."""
    strings: dict[int, object] = {}
    lists = [entry.plain] + ([entry.gzipped] if entry.gzipped is not None else [])
    size = sum(sys.getsizeof(headers) for headers in lists)
    for headers in lists:
        for pair in headers:
            size += sys.getsizeof(pair)
            for text in pair:
                strings[id(text)] = text
    size += sum(sys.getsizeof(text) for text in strings.values())
    packed = sys.getsizeof(entry.packed) if entry.packed is not None else 0
    return size + sys.getsizeof(entry.body) + packed + sys.getsizeof(key) + ENTRY_OVERHEAD


# --------------------------------------------------------------------------- the tag and the encoding


def entity_tag(served: str, path: str, query: bytes, accept: str) -> str:
    """The answer's tag: the snapshot's serving key (dataset version and release), the path, the
    query string as sent (bytes) and the formats the Accept header asks for (not its spelling)."""
    digest = hashlib.sha256(b"\0".join((
        served.encode(), path.encode("utf-8", "surrogatepass"), query,
        representation(accept).encode("utf-8", "surrogatepass"),
    ))).hexdigest()[:32]
    return f'"{digest}"'


@lru_cache(maxsize=512)
def representation(accept: str) -> str:
    """What, besides the URL, selects the representation (formats.preference), parsed once per
    header value: a client sends the same Accept every time."""
    return formats.preference(accept)


@lru_cache(maxsize=512)
def wants_gzip(accept_encoding: str) -> bool:
    return compression.accepts_gzip(accept_encoding)


# --------------------------------------------------------------------------- in front of Flask


#: the WSGI environ key under which :class:`CachedAnswers` leaves (dataset version, tag, what the
#: version was known by: api.database.KnownVersion) of a lookup that missed: Flask's hooks
#: (api/database.py) do not look the same tag up again, nor the version
MISSED = "event_records.cache_missed"


class CachedAnswers:
    """WSGI middleware: a repeated URL answered from the cache without Flask."""

    def __init__(self, app, flask_app):
        self.app = app
        self.flask_app = flask_app

    def __call__(self, environ, start_response):
        answer = self.lookup(environ)
        if answer is None:
            return self.app(environ, start_response)
        headers, body = answer
        if environ["REQUEST_METHOD"] != "HEAD" and len(body) > self.flask_app.config["LARGE_ANSWER_BYTES"]:
            # sent by Flask, which takes the slot a large answer holds while it is written (api/http.py)
            return self.app(environ, start_response)
        start_response("200 OK", headers)
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]

    def lookup(self, environ) -> tuple[list, bytes] | None:
        cache = self.flask_app.extensions.get("response_cache")
        if cache is None or not cache.entries or not _plain_read(environ):
            return None
        known = self.flask_app.extensions["request_database"].known_version()
        if known is None:
            return None
        served = known.served
        tag = entity_tag(served, environ["PATH_INFO"], environ.get("QUERY_STRING", "").encode("latin-1"),
                         environ.get("HTTP_ACCEPT", ""))
        entry = cache.get(tag)
        if entry is None:
            environ[MISSED] = (served, tag, known)
            return None
        return cache.answer(entry, tag, environ.get("HTTP_ACCEPT_ENCODING", ""))


def _plain_read(environ) -> bool:
    """A GET or HEAD with no body, no validator to compare and a plain ASCII path at the root:
    exactly what Flask would answer from the cache too."""
    return (environ["REQUEST_METHOD"] in ("GET", "HEAD")
            and environ.get("CONTENT_LENGTH", "") in ("", "0")
            and "HTTP_TRANSFER_ENCODING" not in environ
            and "HTTP_IF_NONE_MATCH" not in environ
            and not environ.get("SCRIPT_NAME")
            and _routed_as_is(environ.get("PATH_INFO", "")))


def _routed_as_is(path: str) -> bool:
    """Flask's request.path is PATH_INFO with its leading slashes made one (and non-ASCII
    decoded): for a path with one leading slash, all ASCII, they are the same string."""
    return path.isascii() and path.startswith("/") and not path.startswith("//")

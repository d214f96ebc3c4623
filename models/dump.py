"""The whole dataset in one download: a zip of NDJSON files, one per kind, the sources' texts
(texts.ndjson), and a manifest (release, counts, sha256 and size of each file).

Written entry by entry, a batch of records at a time, into any writable (an HTTP
body through :class:`Pipe`, a file, a directory), so memory stays constant
whatever the size of the dataset. The bytes depend only on the data (fixed
timestamps in the zip), so one release always gives the same archive and the
dataset version is a valid ETag for it.
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

from .changes import with_releases
from .paging import SortSpec, iterate_all
from .records import DatasetMeta, Event, Participant, Place, Source, Statement

#: (kind, file, model): the records' files, in the order they are written
FILES = (("source", "sources.ndjson", Source), ("participant", "participants.ndjson", Participant),
         ("place", "places.ndjson", Place), ("event", "events.ndjson", Event),
         ("statement", "statements.ndjson", Statement))
TEXTS = "texts.ndjson"  # {"id": source id, "text": the verbatim text} per line
MANIFEST = "manifest.json"
#: 1980-01-01, the earliest date a zip holds: no clock in the bytes
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
#: records (texts) read per query
BATCH, TEXT_BATCH = 2_000, 5  # a text may be ~1 MB: a few per query keep the peak low


class Pipe(io.RawIOBase):
    """A write-only stream whose bytes are taken out as they come (zipfile writes to it
    without seeking: it then puts each entry's sizes after its data)."""

    def __init__(self):
        super().__init__()
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out = b"".join(self.chunks)
        self.chunks.clear()
        return out


class ZipTarget:
    """Entries of a zip archive written to ``stream``."""

    def __init__(self, stream):
        self.archive = zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED)

    def open(self, name: str):
        info = zipfile.ZipInfo(name, FIXED_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        return self.archive.open(info, "w", force_zip64=True)

    def close(self) -> None:
        self.archive.close()


class DirectoryTarget:
    """The same entries as files under a directory (``event-records dump DIR``)."""

    def __init__(self, root: Path):
        self.root = root

    def open(self, name: str):
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "wb")

    def close(self) -> None:
        pass


class Entry:
    """One file of the dump: written through, counted and hashed as it goes."""

    def __init__(self, target, name: str):
        self.handle, self.sha256, self.size = target.open(name), hashlib.sha256(), 0

    def write(self, data: bytes) -> None:
        self.handle.write(data)
        self.sha256.update(data)
        self.size += len(data)

    def close(self) -> dict:
        self.handle.close()
        return {"sha256": self.sha256.hexdigest(), "bytes": self.size}


def source_texts():
    """Each source's text as one JSON line, by id, a few texts per query (one text may be large)."""
    rows = iterate_all(Source.select(Source.id, Source.text), SortSpec((Source.id,), False), TEXT_BATCH)
    for row in rows:
        yield json.dumps({"id": row.id, "text": row.text}, ensure_ascii=False)


def write(target):
    """Write the dump to ``target``; a generator that yields after each batch written (so a
    caller streaming the bytes takes them out as they come), and returns the manifest."""
    meta = dict(DatasetMeta.select(DatasetMeta.key, DatasetMeta.value).tuples())
    files, counts, kinds = {}, {}, {}
    for kind, name, model in FILES:
        entry, counts[kind], kinds[kind] = Entry(target, name), 0, name
        rows = iterate_all(model.select(model.id, model.doc), SortSpec((model.id,), False), BATCH)
        batch = []
        for doc in with_releases(kind, rows):
            batch.append(doc)
            if len(batch) >= 500:
                entry.write(("\n".join(batch) + "\n").encode())
                counts[kind] += len(batch)
                batch = []
                yield
        if batch:
            entry.write(("\n".join(batch) + "\n").encode())
            counts[kind] += len(batch)
        files[name] = entry.close()
        yield
    # one file, not one per source: the archive's directory and the manifest stay a few entries long
    entry = Entry(target, TEXTS)
    for line in source_texts():
        entry.write((line + "\n").encode())
        yield
    files[TEXTS] = entry.close()
    manifest = {"release": int(meta.get("release", 0)), "dataset_version": meta.get("dataset_version"),
                "counts": counts, "kinds": kinds, "texts": TEXTS, "files": files}
    with target.open(MANIFEST) as handle:
        handle.write(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode())
    target.close()
    yield
    return manifest


def zip_chunks():
    """The dump as a zip, in chunks of bytes as they are written."""
    pipe = Pipe()
    for _ in write(ZipTarget(pipe)):
        chunk = pipe.take()
        if chunk:
            yield chunk
    chunk = pipe.take()
    if chunk:
        yield chunk


def to_directory(root: Path) -> dict:
    """The dump's files under ``root``; returns the manifest."""
    root.mkdir(parents=True, exist_ok=True)
    steps = write(DirectoryTarget(root))
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value

"""What a load has to do: which sources are new, changed or gone since the database was loaded.

Each source is fingerprinted (its seed text and metadata, and every file of its
fixtures directory); the codebook by its bytes. A file is hashed again only when
its size or modification time differs from what the last load saw (as git's index
does), so an unchanged tree of a million events is recognised without reading it.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..records import SCHEMA_VERSION, DatasetMeta, Source

CODEBOOK = Path("fixtures") / "codebook.json"


def source_files(root: Path, source_id: str) -> list[Path]:
    """The files that define one source, in a stable order."""
    files = [root / "seeds" / f"{source_id}.txt", root / "seeds" / f"{source_id}.json"]
    directory = root / "fixtures" / source_id
    if directory.is_dir():
        files += sorted(p for p in directory.iterdir() if p.suffix in (".json", ".ndjson"))
    return [p for p in files if p.is_file()]


def stat_signature(files: list[Path]) -> str:
    """Names, sizes and modification times: when they are unchanged, so is the content."""
    digest = hashlib.sha256()
    for path in files:
        info = path.stat()
        digest.update(f"{path.name}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:32]


def content_fingerprint(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()[:32]


def source_ids(root: Path) -> list[str]:
    """Every source the tree names, by a seed or a fixtures directory (the reader reports
    one without the other)."""
    ids = {p.stem for p in (root / "seeds").glob("*.txt")}
    ids |= {p.name for p in (root / "fixtures").glob("*/") if p.is_dir()}
    return sorted(ids)


def codebook_bytes(root: Path) -> bytes:
    path = root / CODEBOOK
    return path.read_bytes() if path.is_file() else b""  # (the reader reports a missing one, or a directory)


def version_of(codebook: bytes, fingerprints: dict[str, str]) -> str:
    """The dataset version: a hash of the codebook and of every source's fingerprint."""
    digest = hashlib.sha256(hashlib.sha256(codebook).digest())
    for source_id in sorted(fingerprints):
        digest.update(f"{source_id}\0{fingerprints[source_id]}\n".encode())
    return digest.hexdigest()[:16]


def fingerprints(root: Path, known: dict[str, tuple[str, str]] | None = None) -> dict[str, tuple[str, str]]:
    """source id -> (stat signature, content fingerprint), re-hashing only what ``known``
    (the same, as the database holds it) does not vouch for (``None``: everything)."""
    known = known or {}
    found = {}
    for source_id in source_ids(root):
        files = source_files(root, source_id)
        signature = stat_signature(files)
        stored = known.get(source_id)
        found[source_id] = (signature, stored[1] if stored and stored[0] == signature else content_fingerprint(files))
    return found


def codebook_change(stored: str | None, current: bytes) -> str:
    """``same``, ``added`` (entries added, none changed or removed: a load stays incremental)
    or ``other``."""
    try:
        old, new = json.loads(stored or "null"), json.loads(current or b"null")
    except ValueError:
        return "other"
    if old == new:
        return "same"
    if not isinstance(old, dict) or not isinstance(new, dict):
        return "other"
    if {k: v for k, v in old.items() if k not in LISTS} != {k: v for k, v in new.items() if k not in LISTS}:
        return "other"
    return "added" if all(_entries_kept(old, new, name, key) for name, key in LISTS.items()) else "other"


#: the codebook's lists a load may add entries to and stay incremental, with each entry's key
#: (actor blocks only validate actor codes: no stored record depends on one it did not use)
LISTS = {"cameo": "code", "topics": "id", "roles": "id", "actors": "code"}


def _entries_kept(old: dict, new: dict, name: str, key: str) -> bool:
    """Whether every entry of the list ``name`` in ``old`` is in ``new`` as it was."""
    try:
        entries = {entry[key]: entry for entry in new.get(name, [])}
        return all(entries.get(entry[key]) == entry for entry in old.get(name, []))
    except (TypeError, KeyError):
        return False


@dataclass
class Plan:
    version: str
    fingerprints: dict[str, tuple[str, str]]
    codebook: bytes
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    codebook_change: str = "other"
    #: why the load must rebuild everything (None: it can apply the difference)
    full_reason: str | None = None

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.changed or self.removed) and self.codebook_change == "same" \
            and self.full_reason is None

    @property
    def rewritten(self) -> list[str]:
        """Sources whose rows are deleted and (unless removed) written again."""
        return sorted({*self.added, *self.changed, *self.removed})

    def describe(self) -> str:
        parts = [f"{len(self.added)} source(s) added", f"{len(self.changed)} changed", f"{len(self.removed)} removed"]
        if self.codebook_change == "added":
            parts.append("codebook entries added")
        return ", ".join(parts)


def stored_state(db) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """(dataset meta, source id -> (stat signature, fingerprint)) as the database holds them;
    empty when it holds no loaded dataset."""
    if not db.table_exists("dataset_meta") or not db.table_exists("source"):
        return {}, {}
    with db.bind_ctx([DatasetMeta, Source]):
        meta = dict(DatasetMeta.select(DatasetMeta.key, DatasetMeta.value).tuples())
        if meta.get("schema_version") != SCHEMA_VERSION:
            return meta, {}
        known = {}
        for source_id, fingerprint in Source.select(Source.id, Source.fingerprint).tuples():
            signature, _, content = fingerprint.partition(":")
            known[source_id] = (signature, content)
    return meta, known


def plan_load(root: Path, db, full: bool = False, rehash: bool = False) -> Plan:
    meta, known = stored_state(db)
    found = fingerprints(root, None if rehash else known)
    codebook = codebook_bytes(root)
    plan = Plan(version_of(codebook, {s: f for s, (_, f) in found.items()}), found, codebook)
    plan.codebook_change = codebook_change(meta.get("codebook"), codebook)
    if not meta or meta.get("schema_version") != SCHEMA_VERSION:
        plan.full_reason = "the database holds no dataset loaded with this table layout"
    elif full:
        plan.full_reason = "--full was asked for"
    elif plan.codebook_change == "other":
        plan.full_reason = "the codebook changed (other than entries added)"
    plan.added = sorted(set(found) - set(known))
    plan.removed = sorted(set(known) - set(found))
    plan.changed = sorted(s for s in set(found) & set(known) if found[s][1] != known[s][1])
    if plan.full_reason is None and meta.get("dataset_version") != plan.version and not (
            plan.added or plan.changed or plan.removed or plan.codebook_change != "same"):
        plan.full_reason = "the stored dataset version does not match its sources"
    return plan

"""The files that define a dataset: which they are, their version, their records, their errors."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator


@dataclass(frozen=True)
class Problem:
    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.message}"


class LoadError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in seeds/fixtures")


def dataset_version(root: Path) -> str:
    """A hash of the seeds and fixtures: it changes exactly when the data does (the same
    as a load computes: models/load/plan.py)."""
    from .plan import codebook_bytes, content_fingerprint, source_files, source_ids, version_of

    return version_of(codebook_bytes(root), {s: content_fingerprint(source_files(root, s)) for s in source_ids(root)})


def record_file(directory: Path, kind: str) -> Path | None:
    for suffix in (".json", ".ndjson"):
        path = directory / f"{kind}{suffix}"
        if path.exists():
            return path
    return None


#: how a problem message starts when the file itself could not be read as records
UNPARSABLE = ("invalid JSON", "expected a JSON array")


def named(position: str, record: object) -> str:
    """A record's place in its file, with its id when it has one: ``[3] (id khamis-meets-rouhani)``.
    The index finds it in an editor; the id finds it anywhere else (and survives reordering)."""
    if isinstance(record, dict) and isinstance(record.get("id"), str) and record["id"]:
        return f"{position} (id {preview(record['id'], 80)})"
    return position


_NAMED = re.compile(r"^(?:\[\d+\]|line \d+) \(id ([^)]+)\)")


def id_named(json_path: str) -> str | None:
    """The record id that :func:`named` put in a json-path, if any."""
    match = _NAMED.match(json_path)
    return match.group(1) if match else None


def iter_records(path: Path, report: Callable[[str, str], None]) -> Iterator[tuple[str, object]]:
    """(json-path, record) pairs from a JSON array or an NDJSON file; a record's json-path names
    its id (:func:`named`). Unparsable content is reported with a message from :data:`UNPARSABLE`."""
    if path.suffix == ".ndjson":
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    report(f"line {number}", f"invalid JSON: {error.msg} at column {error.colno}")
                    continue
                yield named(f"line {number}", record), record
        return
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        report("$", f"invalid JSON: {error.msg} at line {error.lineno} column {error.colno}")
        return
    if not isinstance(records, list):
        report("$", f"expected a JSON array of records, got {type(records).__name__}")
        return
    for index, record in enumerate(records):
        yield named(f"[{index}]", record), record


def flatten_errors(messages, prefix: str) -> Iterator[tuple[str, str]]:
    """marshmallow's nested error dict as (json-path, message) pairs."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key == "_schema":
                yield from flatten_errors(value, prefix)
            elif isinstance(key, int):
                yield from flatten_errors(value, f"{prefix}[{key}]")
            else:
                yield from flatten_errors(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(messages, list):
        for message in messages:
            yield from flatten_errors(message, prefix)
    else:
        yield prefix or "$", str(messages)


def _preview(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def preview(text: str, limit: int = 60) -> str:
    """A text for a one-line message: line breaks shown as \\n, long ones cut."""
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 1] + "…"

"""The files that define a dataset: which they are, their version, their records, their errors."""
from __future__ import annotations

import codecs
import difflib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from marshmallow import ValidationError


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


def files_twice(directory: Path, kinds) -> Iterator[tuple[Path, str]]:
    """(file, problem) for each kind of record a source has in two files, .json and .ndjson: one
    of them would be neither read nor checked."""
    for kind in kinds:
        if (directory / f"{kind}.json").exists() and (directory / f"{kind}.ndjson").exists():
            yield directory / f"{kind}.ndjson", (f"{kind}.json is here too: a source's {kind} are in one file, a "
                                                 "JSON array (.json) or one record a line (.ndjson); merge them into "
                                                 "one and remove the other")


def unknown_files(directory: Path, kinds) -> Iterator[tuple[Path, str]]:
    """(file, problem) for each entry of a source's directory that is not one of its record files
    (hidden files apart: .gitkeep, .DS_Store)."""
    names = [f"{kind}{suffix}" for kind in kinds for suffix in (".json", ".ndjson")]
    for path in sorted(directory.iterdir()):
        if path.name.startswith(".") or path.name in names:
            continue
        close = difflib.get_close_matches(path.name, names, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}? " if close and not path.name.startswith(close[0]) else ""
        yield path, (f"not a record file: {hint}a source's directory holds only {', '.join(names[::2])} "
                     "(or .ndjson); rename it, or move it out of fixtures/")


#: how a problem message starts when the file itself could not be read as records
UNPARSABLE = ("invalid JSON", "expected a JSON array", "not a file", "not UTF-8", "cannot be read")

#: JSON's names of the values Python reads (a curator writes JSON, not Python)
JSON_TYPES = {dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number",
              bool: "true or false", type(None): "null"}


def json_type(value) -> str:
    return JSON_TYPES.get(type(value), type(value).__name__)


def read_text(path: Path) -> tuple[str | None, str | None]:
    """(the text of a UTF-8 file, None), or (None, what is wrong with it and how to fix it)."""
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        return None, "not a file but a directory: it must be one JSON file"
    except OSError as error:
        return None, f"cannot be read: {error.strerror}"
    if raw.startswith(codecs.BOM_UTF8):
        return None, "not UTF-8 as JSON files are: it begins with a byte-order mark (BOM); save it as UTF-8 without one"
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        return None, f"not UTF-8: byte 0x{raw[error.start]:02x} on line {line} is not UTF-8; save the file as UTF-8"


def read_json(path: Path) -> tuple[object, str | None]:
    """(the JSON value of a file, None), or (None, what is wrong with it: a message of UNPARSABLE)."""
    text, wrong = read_text(path)
    if wrong is not None:
        return None, wrong
    try:
        return json.loads(text), None
    except json.JSONDecodeError as error:
        return None, f"invalid JSON: {error.msg} at line {error.lineno} column {error.colno}"
    except RecursionError:
        return None, "invalid JSON for records: arrays or objects nested thousands deep (a record nests a few levels)"


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
        text, wrong = read_text(path)
        if wrong is not None:
            report("$", wrong)
            return
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                report(f"line {number}", f"invalid JSON: {error.msg} at column {error.colno}")
                continue
            except RecursionError:
                report(f"line {number}", "invalid JSON for a record: arrays or objects nested thousands deep")
                continue
            yield named(f"line {number}", record), record
        return
    records, wrong = read_json(path)
    if wrong is not None:
        report("$", wrong)
        return
    if not isinstance(records, list):
        report("$", f"expected a JSON array of records, got {json_type(records)}")
        return
    for index, record in enumerate(records):
        yield named(f"[{index}]", record), record


def loaded_json(path: Path, schema, report: Callable[[str, str], None]) -> dict | None:
    """A JSON file (the codebook, a seed's metadata) through its schema, or None when it cannot be
    read or is not valid: its problems given to ``report(json_path, message)``."""
    value, wrong = read_json(path)
    if wrong is not None:
        report("$", wrong)
        return None
    try:
        return schema.load(value)
    except ValidationError as error:
        for json_path, message in flatten_errors(error.messages, ""):
            report(json_path, message)
        return None


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

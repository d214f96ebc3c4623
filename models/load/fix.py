"""``event-records check --fix``: fill in the offsets of spans written by their text.

Every span object of a fixture file that has no offsets, or whose offsets no
longer hold its text (the seed was corrected) while the text occurs exactly once,
gets ``start``/``end``. Only those objects are rewritten, in place in the file's
own text: the rest of the file keeps its formatting and key order. What cannot
be settled (a text that occurs several times, an anchor that is not unique) is
reported, and the span is left as it is.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from json.decoder import scanstring
from pathlib import Path

from . import spans
from .files import Problem

_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_LITERALS = {"true": True, "false": False, "null": None}


@dataclass
class Located:
    """A JSON object of a file: where its text is, and its JSON path."""

    start: int
    end: int
    path: str
    value: dict


class _Scanner:
    """A JSON reader that remembers where each object's text starts and ends."""

    def __init__(self, text: str, base_path: str = "$"):
        self.text = text
        self.objects: list[Located] = []
        self.base = base_path

    def skip(self, at: int) -> int:
        while at < len(self.text) and self.text[at] in " \t\r\n":
            at += 1
        return at

    def value(self, at: int, path: str):
        at = self.skip(at)
        char = self.text[at]
        if char == "{":
            return self.object(at, path)
        if char == "[":
            return self.array(at, path)
        if char == '"':
            return scanstring(self.text, at + 1)
        for word, value in _LITERALS.items():
            if self.text.startswith(word, at):
                return value, at + len(word)
        match = _NUMBER.match(self.text, at)
        if not match:
            raise ValueError(f"unexpected character at {at}")
        return json.loads(match.group()), match.end()

    def object(self, start: int, path: str):
        out, at = {}, self.skip(start + 1)
        while self.text[at] != "}":
            key, at = scanstring(self.text, self.skip(at) + 1)
            at = self.skip(at) + 1  # the colon
            out[key], at = self.value(at, f"{path}.{key}")
            at = self.skip(at)
            if self.text[at] == ",":
                at = self.skip(at + 1)
        self.objects.append(Located(start, at + 1, path, out))
        return out, at + 1

    def array(self, start: int, path: str):
        out, at = [], self.skip(start + 1)
        while self.text[at] != "]":
            item, at = self.value(at, f"{path}[{len(out)}]")
            out.append(item)
            at = self.skip(at)
            if self.text[at] == ",":
                at = self.skip(at + 1)
        return out, at + 1


def located_objects(raw: str, ndjson: bool) -> list[Located]:
    """Every object of a JSON (or NDJSON) text, innermost first, with its place in ``raw``."""
    if not ndjson:
        scanner = _Scanner(raw)
        scanner.value(0, "")
        return scanner.objects
    found, offset = [], 0
    for number, line in enumerate(raw.splitlines(keepends=True), 1):
        if line.strip():
            scanner = _Scanner(line)
            scanner.value(0, f"line {number}")
            found.extend(Located(o.start + offset, o.end + offset, o.path, o.value) for o in scanner.objects)
        offset += len(line)
    return found


def _render(span: dict, start: int, original: str, raw: str, at: int) -> str:
    """The completed span object, in the style its original text had (one line or indented)."""
    completed = {"start": start, "end": start + len(span["text"]), "text": span["text"]}
    completed.update((k, v) for k, v in span.items() if k not in completed)
    if "\n" not in original:
        return json.dumps(completed, ensure_ascii=False, separators=(", ", ": "))
    # the file's own line ending and indentation (spaces or tabs), as its other lines have them
    newline = "\r\n" if "\r\n" in original else "\n"
    line_start = raw.rfind("\n", 0, at) + 1
    before = raw[line_start:at]
    indent = before[:len(before) - len(before.lstrip(" \t"))]
    inner = re.search(r"\n([ \t]+)\S", original)
    step = inner.group(1)[len(indent):] if inner and inner.group(1).startswith(indent) else ""
    text = json.dumps(completed, ensure_ascii=False, indent=step or "  ")
    return text.replace("\n", newline + indent)


@dataclass
class FixReport:
    fixed: dict[str, int] = field(default_factory=dict)  # file -> spans completed
    problems: list[Problem] = field(default_factory=list)


def fix_file(path: Path, relative: str, source_text: str, report: FixReport) -> None:
    """Complete the spans of one fixture file (rewritten only when something changed)."""
    raw = path.read_bytes().decode("utf-8")  # (as it is: its line endings are kept, not translated)
    try:
        objects = located_objects(raw, path.suffix == ".ndjson")
    except (ValueError, IndexError):
        return  # not valid JSON: `check` reports it, there is nothing to fix safely
    patches = []
    for located in objects:
        span = located.value
        if not spans.is_span(span) or _holds(span, source_text):
            continue
        start, why = spans.resolve(span, source_text)
        if start is None:
            report.problems.append(Problem(relative, located.path, why))
            continue
        original = raw[located.start:located.end]
        patches.append((located.start, located.end, _render(span, start, original, raw, located.start)))
    if not patches:
        return
    for start, end, text in sorted(patches, reverse=True):
        raw = raw[:start] + text + raw[end:]
    path.write_bytes(raw.encode("utf-8"))
    report.fixed[relative] = len(patches)


def _holds(span: dict, source_text: str) -> bool:
    """The span has offsets and they hold its text."""
    start, end = span.get("start"), span.get("end")
    return isinstance(start, int) and isinstance(end, int) and source_text[start:end] == span["text"]


def fix_tree(root: Path) -> FixReport:
    """Complete the spans of every fixture file whose source text is in seeds/."""
    report = FixReport()
    for directory in sorted(p for p in (root / "fixtures").iterdir() if p.is_dir()):
        seed = root / "seeds" / f"{directory.name}.txt"
        if not seed.exists():
            continue
        try:
            text = seed.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue  # `check` reports it
        for path in sorted(directory.iterdir()):
            if path.suffix in (".json", ".ndjson"):
                fix_file(path, path.relative_to(root).as_posix(), text, report)
    return report

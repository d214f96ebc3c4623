"""fixtures/codebook.json as a load reads it: validated, each entry once, with the lookups the
record checks use (codes, topic and role ids, actor blocks)."""
from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Callable

from . import directed
from .files import loaded_json
from .schemas import CodebookSchema

#: problem(file, json path, message), as the reader records one
Report = Callable[[Path, str, str], None]


def read_codebook(path: Path, problem: Report) -> dict | None:
    """The codebook at ``path`` with its lookups, or None (and problems) when it cannot be used."""
    if not path.exists():
        problem(path, "$", "missing: the codebook lists the CAMEO codes, topics and roles records may use")
        return None
    codebook = loaded_json(path, CodebookSchema(), partial(problem, path))
    if codebook is None:
        return None
    codes = unique_entries(path, codebook, "cameo", "code", problem)
    for name, key in (("topics", "id"), ("roles", "id"), ("actors", "code")):
        unique_entries(path, codebook, name, key, problem)
    for index, entry in enumerate(codebook["cameo"]):
        if entry["code"][:2] not in codes:
            problem(path, f"cameo[{index}].code", f"the root {entry['code'][:2]} of {entry['code']} is not in the codebook")
    codebook["codes"] = codes
    codebook["topic_ids"] = {t["id"] for t in codebook["topics"]}
    codebook["role_ids"] = {r["id"] for r in codebook["roles"]}
    codebook["actor_blocks"] = directed.actor_blocks(codebook)
    return codebook


def unique_entries(path: Path, codebook: dict, name: str, key: str, problem: Report) -> dict:
    """The entries of the codebook's list ``name`` by ``key``; a problem for each key given twice
    (which of two labels or meanings would the records have?)."""
    entries: dict = {}
    for index, entry in enumerate(codebook.get(name, [])):
        value = entry[key]
        if value in entries:
            first = next(i for i, e in enumerate(codebook[name]) if e[key] == value)
            problem(path, f"{name}[{index}].{key}", f"duplicate {key} {value}: {name}[{first}] has it already; "
                                                    "keep one entry and remove the other")
        else:
            entries[value] = entry
    return entries


def version_problem(version: str, codebook: dict) -> str | None:
    """What is wrong with a record coded under codebook ``version``, or None: the codebook's own
    version or one of its ``compatible_versions``."""
    current, compatible = codebook["version"], codebook["compatible_versions"]
    if version == current or version in compatible:
        return None
    accepted = f" (or one of its compatible_versions: {', '.join(compatible)})" if compatible else ""
    return (f"is {version!r} but fixtures/codebook.json is version {current!r}{accepted}: re-code the record under "
            f"version {current!r} and stamp it so, or, if version {current!r} changed nothing this record relies "
            f"on, add {version!r} to the codebook's compatible_versions")

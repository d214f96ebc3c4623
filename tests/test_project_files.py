"""The Dockerfile cannot be built here (no Docker engine); check that it says what it must."""
from __future__ import annotations

import re

from .conftest import ROOT


def instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    text = re.sub(r"\\\n", " ", text)  # join continued lines
    parsed = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            parsed.append((keyword.upper(), rest.strip()))
    return parsed


def test_dockerfile_has_the_required_instructions():
    steps = instructions()
    keywords = [k for k, _ in steps]
    base = dict(steps)["FROM"]
    match = re.match(r"python:3\.(\d+)-slim", base)
    assert match and int(match.group(1)) >= 11, base
    assert "EXPOSE" in keywords and dict(steps)["EXPOSE"] == "8000"
    healthcheck = dict(steps)["HEALTHCHECK"]
    assert "/healthz" in healthcheck and "CMD" in healthcheck
    users = [value for keyword, value in steps if keyword == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert keywords.index("USER") < keywords.index("CMD")
    # the tested server, not a gunicorn command line of its own (tests/test_hostile_server.py runs it)
    assert dict(steps)["CMD"].startswith('["event-records", "serve"')
    runs = " ".join(value for keyword, value in steps if keyword == "RUN")
    assert "pip install" in runs


def test_dockerfile_copies_what_the_service_needs():
    copied = " ".join(value for keyword, value in instructions() if keyword == "COPY")
    for path in ("api", "models", "seeds", "fixtures", "setup.cfg", "pyproject.toml"):
        assert path in copied, path


def test_readme_lists_every_code_topic_and_role_of_the_codebook():
    import json

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    codebook = json.loads((ROOT / "fixtures" / "codebook.json").read_text(encoding="utf-8"))
    for entry in codebook["cameo"]:
        assert f"| `{entry['code']}` | {entry['label']} |" in readme, entry["code"]
    for entry in codebook["topics"] + codebook["roles"]:
        assert f"| `{entry['id']}` |" in readme, entry["id"]


def test_the_build_context_leaves_out_what_the_image_never_needs():
    """`docker build .` sends the whole directory before the Dockerfile picks from it: the history,
    local databases and the benchmark's (gigabytes at 1M events) stay out, what COPY names stays in."""
    import fnmatch

    patterns = [line.strip().rstrip("/") for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")]

    def ignored(path: str) -> bool:
        parts = path.split("/")
        return any(fnmatch.fnmatch(path, p) or path.startswith(p + "/")
                   or (p.startswith("**/") and any(fnmatch.fnmatch(part, p[3:]) for part in parts)) for p in patterns)

    for path in (".git", "data/event-records.sqlite3", "benchmarks/out/events-1000000.sqlite3",
                 "api/__pycache__/app.cpython-311.pyc"):
        assert ignored(path), path
    for value in [value for keyword, value in instructions() if keyword == "COPY"]:
        for source in value.split()[:-1]:  # (the last is the destination)
            assert not ignored(source), source

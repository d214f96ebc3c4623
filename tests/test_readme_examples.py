"""Every `curl` example of README.md, run against a live gunicorn on the article's database: each
answers, and every value the README shows (ids, titles, offsets, counts, statuses; not what it
elides with …) is in the real answer. The README cannot drift from the API."""
from __future__ import annotations

import json
import re
import shlex

import pytest

from tests.conftest import ROOT
from tests.test_utf8_targets import raw_get

README = (ROOT / "README.md").read_text(encoding="utf-8")
#: a quoted string shown in an answer (keys, ids, titles…), and a key with a number, boolean or null
STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
SCALAR = re.compile(r'"(\w+)":(-?\d+(?:\.\d+)?|true|false|null)\b')


def examples() -> list[tuple[str, str]]:
    """(curl command, the answer shown under it) for each example in the console blocks."""
    found = []
    for block in re.findall(r"```console\n(.*?)```", README, re.S):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, shown = chunk.partition("\n")
            if command.startswith("curl"):
                found.append((command.split("  #")[0].strip(), shown.strip()))
    return found


def target_of(command: str) -> str:
    url = next(word for word in shlex.split(command) if word.startswith("http://"))
    return re.sub(r"^http://127\.0\.0\.1:8000", "", url)


@pytest.fixture(scope="module")
def port(sqlite_url):
    from tests.conftest import Gunicorn

    gunicorn = Gunicorn(sqlite_url, workers=1).wait()
    yield gunicorn.port
    gunicorn.stop()


def test_the_readme_has_examples_to_check():
    assert len(examples()) >= 8


@pytest.mark.parametrize("command,shown", examples(), ids=[target_of(c) for c, _ in examples()])
def test_readme_example_matches_the_live_answer(port, command, shown):
    # the target exactly as curl sends it: Arabic as raw UTF-8 bytes
    status, headers, body = raw_get(port, target_of(command).encode("utf-8"))
    problem = re.search(r'"status":([45]\d\d)\b', shown)
    expected_status = int(problem.group(1)) if problem else 200
    assert status == expected_status, body[:300]
    if not shown:
        return
    if headers["content-type"].startswith(("application/json", "application/problem+json", "application/geo+json")):
        answer = json.dumps(json.loads(body), ensure_ascii=False, separators=(",", ":"))
    else:
        answer = body.decode("utf-8")
    missing = [text for text in STRING.findall(shown) if "…" not in text and f'"{text}"' not in answer]
    missing += [f"{key}:{value}" for key, value in SCALAR.findall(shown) if f'"{key}":{value}' not in answer]
    assert not missing, f"shown in README.md but not in the answer to {target_of(command)}: {missing}"

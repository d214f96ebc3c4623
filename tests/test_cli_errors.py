"""A database URL the commands cannot use is one line that says what to do, with exit status 1, not
a traceback; a command that only reads never creates a database."""
from __future__ import annotations

import pytest

from .conftest import ROOT
from .test_curation import run


@pytest.mark.parametrize("url, says", [
    ("nosuch://x", "scheme is not one this program knows"),
    ("sqlite:///{tmp}", "the path is a directory"),
    ("sqlite:///{root}/fixtures/codebook.json", "not a SQLite database"),
    ("postgresql://nobody@127.0.0.1:9/nothing", "connection"),
])
def test_load_into_an_unusable_database_says_why_in_one_line(tmp_path, url, says):
    done = run("load", "--database-url", url.format(tmp=tmp_path, root=ROOT))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and says in done.stderr, done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("Error: "), done.stderr


def test_a_dump_of_a_missing_database_creates_nothing(tmp_path):
    database, directory = tmp_path / "missing.sqlite3", tmp_path / "dump"
    done = run("dump", str(directory), "--database-url", f"sqlite:///{database}")
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "run `event-records load` first" in done.stderr
    assert not database.exists() and not directory.exists()


def test_serve_refuses_a_file_that_is_not_a_database():
    done = run("serve", "--no-load", "--port", "9", "--database-url", f"sqlite:///{ROOT / 'fixtures' / 'codebook.json'}")
    assert done.returncode == 1 and "not a SQLite database" in done.stderr and "Traceback" not in done.stderr, done.stderr

"""The server's numeric settings (api/settings.py): a value that does not parse, or would break
serving without a word, is refused when the server starts, in one line naming the variable."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from api import settings

from .conftest import ROOT


@pytest.mark.parametrize("name,text,expected", [
    ("EVENT_RECORDS_TIME_BUDGET", "0.5", 0.5), ("EVENT_RECORDS_TIME_BUDGET", "0", 0.0),  # 0: unbounded
    ("EVENT_RECORDS_RESPONSE_CACHE_MB", "0", 0), ("EVENT_RECORDS_MAX_EXPORTS", "3", 3),
    ("WEB_CONCURRENCY", "64", 64), ("EVENT_RECORDS_HEADER_TIMEOUT", "", 10.0),  # empty: the default
    ("EVENT_RECORDS_SQLITE_MMAP_MB", "0", 0), ("EVENT_RECORDS_SQLITE_FILE_CHECK_SECONDS", "0", 0.0),
    ("EVENT_RECORDS_LOAD_JOBS", "0", 0),  # the documented zeros keep their meaning
])
def test_values_that_serve(monkeypatch, name, text, expected):
    monkeypatch.setenv(name, text)
    assert settings.value(name) == expected


@pytest.mark.parametrize("name,text", [
    ("WEB_CONCURRENCY", "abc"), ("WEB_CONCURRENCY", "0"), ("WEB_CONCURRENCY", "65"),
    ("EVENT_RECORDS_TIME_BUDGET", "-1"),  # every data request was a 503
    ("EVENT_RECORDS_TIME_BUDGET", "inf"),  # the SQLite watchdog's thread died at the first request
    ("EVENT_RECORDS_TIME_BUDGET", "nan"), ("EVENT_RECORDS_HEADER_TIMEOUT", "-1"),  # every connection reset
    ("EVENT_RECORDS_HEADER_TIMEOUT", "0"), ("EVENT_RECORDS_MAX_EXPORTS", "0"),  # every export a 503
    ("EVENT_RECORDS_RESPONSE_CACHE_MB", "1.5"), ("EVENT_RECORDS_SQLITE_MMAP_MB", "-1"),
    ("EVENT_RECORDS_SEND_TIMEOUT", "0"), ("EVENT_RECORDS_LOAD_JOBS", "two"),
])
def test_values_that_would_break_serving_are_refused_by_name(monkeypatch, name, text):
    monkeypatch.setenv(name, text)
    with pytest.raises(settings.SettingError) as refused:
        settings.value(name)
    message = str(refused.value)
    assert message.startswith(f"{name}={text!r}: must be") and "the default is" in message


@pytest.mark.parametrize("variable,value", [("EVENT_RECORDS_TIME_BUDGET", "-1"), ("WEB_CONCURRENCY", "abc"),
                                            ("DATABASE_REPLICA_URLS", "foo://x")])
def test_serve_refuses_a_bad_setting_in_one_line_before_starting(tmp_path, variable, value):
    environment = {**os.environ, "PYTHONPATH": str(ROOT), variable: value,
                   "DATABASE_URL": f"sqlite:///{tmp_path / 'none.sqlite3'}"}
    result = subprocess.run([sys.executable, "-m", "api.cli", "serve", "--no-load", "--port", "1"], cwd=ROOT,
                            env=environment, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("Error: ")
    assert (variable if variable != "DATABASE_REPLICA_URLS" else "foo://") in result.stderr

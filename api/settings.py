"""The server's numeric settings from the environment, checked: one table, one message.

A setting that does not parse (``WEB_CONCURRENCY=abc``), or parses to a value that
would break serving without a word (``EVENT_RECORDS_TIME_BUDGET=-1``: every data
request a 503; ``EVENT_RECORDS_HEADER_TIMEOUT=-1``: every connection reset;
``inf``: the SQLite watchdog's thread dead), is refused when the server starts, in
one line that names the variable, the value and what is accepted. ``event-records
serve`` checks them all (:func:`check_all`) before it forks a worker.
"""
from __future__ import annotations

import math
import os
from typing import NamedTuple

from models.db import FILE_CHECK_SECONDS

#: how much of a SQLite file a server connection maps by default (EVENT_RECORDS_SQLITE_MMAP_MB)
DEFAULT_SQLITE_MMAP_MB = 2048


class SettingError(ValueError):
    pass


class Setting(NamedTuple):
    default: str
    kind: type  # int or float
    low: float  # the smallest value accepted (besides 0 when ``zero`` says what it means)
    zero: str | None = None  # what 0 means, when it is accepted below ``low``
    unit: str = ""
    high: float = math.inf


SETTINGS: dict[str, Setting] = {
    "EVENT_RECORDS_TIME_BUDGET": Setting("2", float, 0.001, "unbounded", "seconds"),
    "EVENT_RECORDS_MAX_EXPORTS": Setting("2", int, 1),
    "EVENT_RECORDS_MAX_EXPORTS_PER_CLIENT": Setting("1", int, 1),
    "EVENT_RECORDS_LARGE_ANSWER_BYTES": Setting(str(1024 * 1024), int, 1, unit="bytes"),
    "EVENT_RECORDS_RESPONSE_CACHE_MB": Setting("64", int, 1, "no response cache", "MiB"),
    "EVENT_RECORDS_SQLITE_MMAP_MB": Setting(str(DEFAULT_SQLITE_MMAP_MB), int, 1, "no memory map", "MiB"),
    "EVENT_RECORDS_SQLITE_FILE_CHECK_SECONDS": Setting(f"{FILE_CHECK_SECONDS:g}", float, 0.001, "on every request",
                                                       "seconds"),
    "EVENT_RECORDS_HEADER_TIMEOUT": Setting("10", float, 0.001, unit="seconds"),
    "EVENT_RECORDS_SEND_TIMEOUT": Setting("30", float, 0.001, unit="seconds"),
    "WEB_CONCURRENCY": Setting("2", int, 1, unit="worker processes", high=64),
}
#: read by the loader (models/load/validate.py), checked by the commands that load
LOAD_SETTINGS: dict[str, Setting] = {
    "EVENT_RECORDS_LOAD_JOBS": Setting(str(os.cpu_count() or 1), int, 1, "no parallel validation", "processes"),
}


def value(name: str) -> int | float:
    """The setting's value from the environment (its default when unset or empty), or SettingError."""
    setting = SETTINGS.get(name) or LOAD_SETTINGS[name]
    text = os.environ.get(name, "").strip() or setting.default
    try:
        number = setting.kind(text)
    except ValueError:
        number = None
    if number is not None and (not math.isfinite(number) or number > setting.high
                               or (number < setting.low and not (setting.zero and number == 0))):
        number = None
    if number is None:
        raise SettingError(f"{name}={text!r}: {accepted(setting)}")
    return number


def accepted(setting: Setting) -> str:
    what = "a whole number" if setting.kind is int else "a number"
    low = f"{setting.low:g}" if setting.kind is float else str(int(setting.low))
    span = f"from {low} to {setting.high:g}" if math.isfinite(setting.high) else f"of at least {low}"
    unit = f" ({setting.unit})" if setting.unit else ""
    zero = f", or 0 for {setting.zero}" if setting.zero else ""
    return f"must be {what} {span}{unit}{zero}; the default is {setting.default}"


def check_all(loading: bool = False) -> None:
    """Every setting a server reads (and, ``loading``, the loader's) parsed: the first that is
    wrong raises SettingError."""
    for name in [*SETTINGS, *(LOAD_SETTINGS if loading else ())]:
        value(name)

"""A worker's malloc keeps freed large blocks (api/server.py keep_large_blocks): building and
dropping answer-sized strings no longer page-faults on every copy. Measured in fresh processes
by their minor page faults (getrusage), with and without the setting."""
from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = r"""
import resource, sys
sys.path.insert(0, {root!r})
if {tuned}:
    from api.server import keep_large_blocks
    assert keep_large_blocks()
parts = ["\u0645" * 3000] * 50  # 50 records of Arabic text: a page, ~300 KB as str
for _ in range(20):  # warm up
    body = ("[" + ",".join(parts) + "]").encode()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(200):
    body = ("[" + ",".join(parts) + "]").encode()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def faults(tuned: bool) -> int:
    from pathlib import Path

    root = str(Path(__file__).resolve().parent.parent)
    out = subprocess.run([sys.executable, "-c", PROBE.format(root=root, tuned=tuned)], capture_output=True,
                         text=True, timeout=60, check=True)
    return int(out.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_answer_sized_copies_stop_page_faulting():
    untuned, tuned = faults(False), faults(True)
    # 200 rounds of two ~300 KB copies: tens of thousands of faults when each is a fresh mmap
    assert untuned > 10_000, untuned
    assert tuned < untuned / 20, (tuned, untuned)

"""Each record file through its marshmallow schema, here or ahead of time in worker processes."""
from __future__ import annotations

import os
from collections import deque
from pathlib import Path

from marshmallow import ValidationError

from .files import flatten_errors, iter_records, json_type
from .schemas import RECORD_SCHEMAS


def validate_file(path: Path, kind: str) -> list[tuple[bool, str, object]]:
    """Every record of one file through its marshmallow schema, in file order:
    ``(True, json-path, validated record)`` or ``(False, json-path, problem)``.

    What :meth:`DatasetReader.validated` does, as a list (so a worker process can
    do it ahead of the reader, see :class:`Prefetcher`).
    """
    out: list[tuple[bool, str, object]] = []
    schema = RECORD_SCHEMAS[kind]
    for json_path, raw in iter_records(Path(path), lambda p, m: out.append((False, p, m))):
        if not isinstance(raw, dict):
            out.append((False, json_path, f"expected an object, got {json_type(raw)}"))
            continue
        try:
            out.append((True, json_path, schema.load(raw)))
        except ValidationError as error:
            for sub_path, message in flatten_errors(error.messages, ""):
                out.append((False, f"{json_path}.{sub_path}" if sub_path != "$" else json_path, message))
    return out


#: Record files add up to at least this many bytes before validation moves to worker processes.
PARALLEL_MIN_BYTES = 32 << 20


class Prefetcher:
    """Validates record files in worker processes, ahead of the reader.

    Parsing and marshmallow validation are most of a large load's time and need
    nothing but the file, so ``jobs`` processes (``EVENT_RECORDS_LOAD_JOBS``,
    default: the number of cores) run :func:`validate_file` on the files in the
    order the reader will ask for them, at most ``window`` files ahead (bounded
    memory). Every record is still validated by the same schema and every
    problem reported in the same order; all other checks stay in the reader.
    """

    def __init__(self, order: list[tuple[Path, str]], jobs: int, window: int):
        import multiprocessing

        self.order = deque(order)
        self.window = window
        self.pending: deque = deque()
        # forkserver: the workers do not inherit the loader's open database connection
        self.pool = multiprocessing.get_context("forkserver").Pool(jobs)
        self.fill()

    @classmethod
    def start(cls, order: list[tuple[Path, str]]) -> "Prefetcher | None":
        jobs = int(os.environ.get("EVENT_RECORDS_LOAD_JOBS") or os.cpu_count() or 1)
        if jobs < 2 or sum(path.stat().st_size for path, _ in order) < PARALLEL_MIN_BYTES:
            return None
        return cls(order, jobs, window=2 * jobs)

    def fill(self) -> None:
        while self.order and len(self.pending) < self.window:
            path, kind = self.order.popleft()
            self.pending.append((path, kind, self.pool.apply_async(validate_file, (path, kind))))

    def take(self, path: Path, kind: str) -> list[tuple[bool, str, object]]:
        if self.pending and self.pending[0][:2] == (path, kind):
            result = self.pending.popleft()[2]
            self.fill()
            return result.get()
        return validate_file(path, kind)  # not the file expected next: validate it here

    def close(self) -> None:
        self.pool.terminate()
        self.pool.join()



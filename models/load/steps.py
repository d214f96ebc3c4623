"""The steps of a full load, each announced as it starts and timed, so that a load of a million
events says what it is doing during the minutes after its last source is read (building the
search index, the indexes, committing), and at the end how long each step took."""
from __future__ import annotations

import time
from collections.abc import Callable


class Steps:
    """``steps("what", "short name")`` starts a step (and ends the one before); :meth:`finish`
    ends the last and reports the time of each by its short name: ``time by step: records 651.0 s, …``."""

    def __init__(self, progress: Callable[[str], None]):
        self.progress = progress
        self.times: list[tuple[str, float]] = []
        self.current: tuple[str, float] | None = None

    def __call__(self, what: str, name: str, announce: bool = True) -> None:
        """Step ``what`` starts; ``announce``: say so (a step that reports its own progress need not)."""
        self.end()
        self.current = (name, time.perf_counter())
        if announce:
            self.progress(what)

    def end(self) -> None:
        if self.current is not None:
            name, started = self.current
            self.times.append((name, time.perf_counter() - started))
            self.current = None

    def finish(self) -> None:
        self.end()
        if self.times:
            self.progress("time by step: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.times))


def no_steps(what: str, name: str, announce: bool = True) -> None:
    """What a writer is given when nobody times its steps (an incremental load)."""

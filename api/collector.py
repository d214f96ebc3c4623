"""The garbage collector's view of a server process: what it holds for its lifetime is frozen.

A full collection walks every tracked object, and what the app holds for its lifetime (modules,
routes, schemas, the search gazetteer: some 80,000 objects at 100,000 events) made each one a
pause of ~60 ms during which all of a worker's threads wait (the GIL). Frozen objects
(``gc.freeze()``) are skipped by collections; they are still freed when nothing refers to them,
but a reference cycle among them is never collected, so a worker freezes when it is idle.
"""
from __future__ import annotations

import gc

from models import gazetteer

#: seconds a worker waits for a moment with no request in flight before it freezes anyway
#: (a worker that is never idle would otherwise keep paying for the new gazetteer)
BUSY_WAIT_SECONDS = 5.0


def freeze_survivors() -> None:
    """Collect once, then move every object that survives into the permanent generation."""
    gc.collect()
    gc.freeze()


class FreezeSchedule:
    """When a worker freezes: once its first gazetteer is built (at boot), and again after each
    new one (a load changed the dataset), at a moment no request is in flight if one comes within
    :data:`BUSY_WAIT_SECONDS` (a request's objects frozen with their cycles would never be freed)."""

    def __init__(self, wait: float = BUSY_WAIT_SECONDS):
        self.wait = wait
        self.frozen_builds = 0  # gazetteer builds already frozen
        self.noticed_at: float | None = None  # when a build not yet frozen was first seen

    def due(self, builds: int, busy: bool, now: float) -> bool:
        if builds == self.frozen_builds:
            return False
        if self.noticed_at is None:
            self.noticed_at = now
        return not busy or now - self.noticed_at >= self.wait

    def done(self, builds: int) -> None:
        self.frozen_builds, self.noticed_at = builds, None

    def run(self, busy: bool, now: float) -> bool:
        """Freeze if due (called from the worker's loop); whether it froze."""
        builds = gazetteer.builds()
        if not self.due(builds, busy, now):
            return False
        freeze_survivors()
        self.done(builds)
        return True

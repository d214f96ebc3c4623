"""api/server.py: what the server does to its processes besides configuring gunicorn."""
from __future__ import annotations

import gc
import weakref

from api.server import freeze_survivors, warm_up_then_freeze


class Holder:
    """Stands in for what the app keeps for its lifetime (a tracked object)."""


def frozen(obj) -> bool:
    """Whether ``obj`` is in the collector's permanent generation: the frozen objects are the
    ones a collection does not see, so a fresh collection leaves ``obj`` out of gen 0..2."""
    return gc.is_tracked(obj) and not any(o is obj for o in gc.get_objects())


def test_survivors_are_frozen_and_garbage_is_collected_first():
    kept = Holder()
    cycle = [Holder()]
    cycle.append(cycle)  # garbage only a collection frees
    in_cycle = weakref.ref(cycle[0])
    del cycle
    try:
        freeze_survivors()
        assert frozen(kept)
        assert gc.get_freeze_count() > 0
        assert in_cycle() is None  # collected first, not made immortal by the freeze
        later = Holder()
        assert not frozen(later)  # made after the freeze: seen by collections as usual
    finally:
        gc.unfreeze()
    assert not frozen(kept)


def test_the_worker_freezes_after_its_warm_up_so_what_the_warm_up_built_is_frozen():
    built = []

    class Extension:
        def warm_up(self):
            built.append(Holder())  # the gazetteer, in the real app

    try:
        warm_up_then_freeze(Extension())
        assert built and frozen(built[0])
    finally:
        gc.unfreeze()

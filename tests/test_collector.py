"""api/collector.py: what a server process keeps out of the garbage collector's sight, and when."""
from __future__ import annotations

import gc
import weakref

import pytest

from api import server, worker
from api.collector import FreezeSchedule, freeze_survivors
from models import gazetteer


class Holder:
    """Stands in for what the app keeps for its lifetime (a tracked object)."""


def frozen(obj) -> bool:
    """Whether ``obj`` is in the permanent generation: tracked, yet in none of the three."""
    return gc.is_tracked(obj) and not any(o is obj for o in gc.get_objects())


@pytest.fixture
def thawed():
    yield
    gc.unfreeze()


def test_survivors_are_frozen_and_garbage_is_collected_first(thawed):
    kept = Holder()
    cycle = [Holder()]
    cycle.append(cycle)  # garbage only a collection frees
    in_cycle = weakref.ref(cycle[0])
    del cycle
    freeze_survivors()
    assert frozen(kept)
    assert in_cycle() is None  # collected first, not made immortal by the freeze
    assert not frozen(Holder())  # made after the freeze: seen by collections as usual


def test_a_worker_freezes_after_each_new_gazetteer_preferring_an_idle_moment():
    schedule = FreezeSchedule(wait=5.0)
    assert not schedule.due(0, busy=False, now=0.0)  # nothing built yet
    assert schedule.due(1, busy=False, now=1.0)  # built at boot, idle: now
    schedule.done(1)
    assert not schedule.due(1, busy=False, now=2.0)  # nothing new
    assert not schedule.due(2, busy=True, now=10.0)  # a load made a new one; requests in flight
    assert not schedule.due(2, busy=True, now=14.9)
    assert schedule.due(2, busy=True, now=15.0)  # never idle for the wait: anyway
    schedule.done(2)
    assert not schedule.due(2, busy=True, now=30.0)
    assert schedule.due(3, busy=False, now=31.0)


def test_run_freezes_what_a_gazetteer_build_made(thawed):
    schedule = FreezeSchedule()
    schedule.done(gazetteer.builds())
    built = []

    def entities():
        built.append(Holder())  # what the gazetteer holds, in the real app
        return []

    gazetteer.gazetteer_for(f"test-version-{id(schedule)}", entities)
    assert schedule.run(busy=False, now=0.0)
    assert built and frozen(built[0])
    assert not schedule.run(busy=False, now=1.0)  # once per build


def test_the_worker_loop_and_the_master_are_wired_to_it():
    """The worker's loop runs its schedule and counts requests in flight; the master freezes
    after the preload. (Source-level: a served process's collector cannot be seen from here.)"""
    import inspect
    loop = inspect.getsource(worker.SlowClientSafeWorker.wait_for_and_dispatch_events)
    assert "self.freezing.run(busy=self.in_flight > 0" in loop
    assert "freeze_survivors()" in inspect.getsource(server.Server.load)

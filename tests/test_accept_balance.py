"""The table the workers share to take turns accepting (api/accept_balance.py), on its own:
who may accept, whom to wake, which workers count, who owns a slot, and that a child forked
after the table was made sees the parent's writes and the parent the child's."""
from __future__ import annotations

import os

from api.accept_balance import ABANDONED_SECONDS, LIVE_SECONDS, SLOTS, AcceptTable, Turn

NOW = 1000.0


def table_of(*workers: tuple[int, bool]) -> tuple[AcceptTable, list[int]]:
    """A table with one live worker per (connections, accepting): ages 1, 2, ..., pids 101, 102, ..."""
    table = AcceptTable()
    slots = []
    for number, (connections, accepting) in enumerate(workers):
        slot = table.reserve(NOW - 1, owner=1 + number)
        assert table.publish(slot, 1 + number, NOW, 101 + number, connections, accepting)
        slots.append(slot)
    return table, slots


def test_the_least_loaded_accepts_and_ties_all_do():
    table, (a, b) = table_of((3, True), (3, True))
    assert table.turn(a, 3, NOW) == Turn(True)
    assert table.turn(a, 4, NOW) == Turn(False)  # b accepts: a stops, no one to wake
    assert table.turn(b, 2, NOW) == Turn(True)


def test_a_worker_over_its_share_wakes_the_least_loaded_when_no_one_accepts():
    table, (a, _, _) = table_of((5, False), (4, False), (2, False))
    assert table.turn(a, 5, NOW) == Turn(False, wake=103)  # the one with 2
    table, (a, _, _) = table_of((5, False), (4, True), (2, False))
    assert table.turn(a, 5, NOW) == Turn(False)  # someone accepts: no wake-up


def test_a_worker_whose_loop_stopped_is_not_counted():
    table, (a, b) = table_of((4, True), (0, True))
    assert table.turn(a, 4, NOW) == Turn(False)
    assert table.turn(a, 4, NOW + LIVE_SECONDS + 0.1) == Turn(True)  # b's loop has not run since
    table.leave(b, owner=2)  # or the master reaped it
    assert table.turn(a, 4, NOW) == Turn(True)


def test_alone_a_worker_always_accepts():
    table, (a,) = table_of((50, True))
    assert table.turn(a, 50, NOW) == Turn(True)


def test_a_slot_is_its_owners_until_it_is_given_back():
    table = AcceptTable()
    first, second = table.reserve(NOW, owner=1), table.reserve(NOW, owner=2)
    assert (first, second) == (0, 1)  # a booting worker's slot is not given again
    assert table.publish(first, 1, NOW, 101, 0, True)
    # a worker whose loop has not run for a while (paused, swapping) keeps its slot
    assert table.reserve(NOW + 10 * LIVE_SECONDS, owner=3) == 2
    table.leave(first, owner=3)  # not the owner: nothing happens
    assert not table.publish(first, 3, NOW, 103, 0, True)
    assert table.publish(first, 1, NOW, 101, 0, True)
    table.leave(first, owner=1)  # the owner (or the master once it reaped it)
    assert not table.publish(first, 1, NOW, 101, 0, True)  # no longer its row
    assert table.reserve(NOW, owner=4) == first
    assert table.publish(first, 4, NOW + ABANDONED_SECONDS, 104, 0, True)
    # a slot no one ran or was given for a long time (gunicorn run without the master's hook)
    assert table.reserve(NOW + ABANDONED_SECONDS + 1, owner=5) == second


def test_a_full_table_gives_no_slot():
    table = AcceptTable(slots=2)
    assert [table.reserve(NOW, 1), table.reserve(NOW, 2), table.reserve(NOW, 3)] == [0, 1, None]
    assert SLOTS >= 2 * 64  # `event-records serve --workers` allows 64, and a reload runs two sets


def test_the_table_is_shared_with_a_forked_child():
    table = AcceptTable()
    parent, child = table.reserve(NOW, owner=1), table.reserve(NOW, owner=2)
    table.publish(parent, 1, NOW, os.getpid(), 7, True)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: sees the parent's row, writes its own
        try:
            os.close(read)
            seen = table.turn(child, 0, NOW) == Turn(True) and table.turn(child, 8, NOW) == Turn(False)
            table.publish(child, 2, NOW, os.getpid(), 2, False)
            os.write(write, b"1" if seen else b"0")
        finally:
            os._exit(0)
    os.close(write)
    assert os.read(read, 1) == b"1"
    os.close(read)
    os.waitpid(pid, 0)
    # the parent, holding 7, sees the child's 2, and that it does not accept: it should wake it
    assert table.turn(parent, 7, NOW) == Turn(False, wake=pid)

"""The table the workers share to take turns accepting (api/accept_balance.py), on its own:
who may accept, whom to wake, which workers count, slots given out and back, and that a child
forked after the table was made sees the parent's writes and the parent the child's."""
from __future__ import annotations

import os

from api.accept_balance import BOOT_SECONDS, LIVE_SECONDS, SLOTS, AcceptTable, Turn

NOW = 1000.0


def table_of(*workers: tuple[int, bool]) -> tuple[AcceptTable, list[int]]:
    """A table with one live worker per (connections, accepting), pids 101, 102, ..."""
    table = AcceptTable()
    slots = []
    for number, (connections, accepting) in enumerate(workers):
        slot = table.reserve(NOW - 1)
        table.publish(slot, NOW, 101 + number, connections, accepting)
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
    table.leave(b)  # or the master reaped it
    assert table.turn(a, 4, NOW) == Turn(True)


def test_alone_a_worker_always_accepts():
    table, (a,) = table_of((50, True))
    assert table.turn(a, 50, NOW) == Turn(True)


def test_slots_are_given_out_once_and_back_when_free():
    table = AcceptTable()
    first, second = table.reserve(NOW), table.reserve(NOW)
    assert (first, second) == (0, 1)  # a booting worker's slot is not given again
    table.publish(first, NOW, 101, 0, True)
    table.publish(second, NOW, 102, 0, True)
    table.leave(first)
    assert table.reserve(NOW) == first  # left: free again
    assert table.reserve(NOW) == 2
    # a slot whose worker never ran its loop is free once its boot time is over
    assert table.reserve(NOW + BOOT_SECONDS + 1) == first


def test_a_full_table_gives_no_slot():
    table = AcceptTable(slots=2)
    assert [table.reserve(NOW), table.reserve(NOW), table.reserve(NOW)] == [0, 1, None]
    assert SLOTS >= 64  # `event-records serve --workers` allows 64


def test_the_table_is_shared_with_a_forked_child():
    table = AcceptTable()
    parent, child = table.reserve(NOW), table.reserve(NOW)
    table.publish(parent, NOW, os.getpid(), 7, True)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: sees the parent's row, writes its own
        try:
            os.close(read)
            seen = table.turn(child, 0, NOW) == Turn(True) and table.turn(child, 8, NOW) == Turn(False)
            table.publish(child, NOW, os.getpid(), 2, False)
            os.write(write, b"1" if seen else b"0")
        finally:
            os._exit(0)
    os.close(write)
    assert os.read(read, 1) == b"1"
    os.close(read)
    os.waitpid(pid, 0)
    # the parent, holding 7, sees the child's 2, and that it does not accept: it should wake it
    assert table.turn(parent, 7, NOW) == Turn(False, wake=pid)

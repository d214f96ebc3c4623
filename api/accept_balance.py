"""Connections shared evenly by the gunicorn workers (issue 20).

A keep-alive connection stays with the worker that accepted it, so how a pool of
clients (a load balancer, a dashboard backend, wrk's 8 connections) lands on the
workers decides how much of the machine serves it: one worker holding 7 or 8 of
8 connections runs on one core while the other idles. Neither way of listening
gunicorn offers spreads them evenly by itself: with one shared socket the worker
whose event loop wakes first takes a whole burst, and with one socket per worker
(``SO_REUSEPORT``) the kernel spreads them by a hash of their addresses, which
gave 8+0, 7+1 or 6+2 in a third of the benchmark's rounds.

So the workers share one socket and take turns by count. Each publishes, in a small
table of shared memory made by gunicorn's master before it forks them, how many
connections it holds, whether it is accepting and when its event loop last ran; a
worker accepts only while it holds no more connections than the least loaded live
worker. One that stops while no other is accepting wakes the least loaded (a
signal, api.worker), so a queued connection waits for a wake-up, not for a poll.
A worker whose loop has not run for ``LIVE_SECONDS`` (dead, or stuck) is not
counted, and one that stopped but sees connections still queued after
``STALL_SECONDS`` accepts them anyway (api.worker): a stalled worker never holds
up the others.

A slot belongs to one worker, named by its gunicorn age (unique per worker the
master makes): the master gives it out and takes it back when it has reaped the
worker, and only the owner writes its row.
"""
from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass

#: rows in the table: twice the 64 workers ``event-records serve`` allows, since during a reload
#: the new workers run beside the old ones; a worker beyond it accepts as gunicorn would, and the
#: others do not count it
SLOTS = 128
#: per worker: when its event loop last ran and when the master gave it the slot (monotonic
#: seconds: one clock for every process of the machine), its gunicorn age (the owner; 0: free),
#: its pid, connections held, accepting (0/1)
_RECORD = struct.Struct("=ddqqqq")
#: before the records: how many slots have ever been given out (so a look reads only those)
_USED = struct.Struct("=q")
#: a loop that has not run for this long is not counted (api.worker runs it at least every
#: LOOP_SECONDS)
LIVE_SECONDS = 1.0
LOOP_SECONDS = 0.25
#: how soon a worker that stopped accepting looks at the table again when nothing wakes it
RECHECK_SECONDS = 0.02
#: how long a stopped worker lets connections wait on the socket before it accepts them itself
STALL_SECONDS = 0.1
#: how often a worker whose own count did not change looks (another's may have)
TURN_SECONDS = 0.01
#: a slot whose owner has neither run nor been given it for this long is taken back even if the
#: master never said it reaped the owner (gunicorn run without api.server's hooks): gunicorn's own
#: timeout (60 s) has killed a worker that silent long before
ABANDONED_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class Turn:
    """A worker's look at the table: whether it should accept, and, when it should not and no
    other live worker is accepting either, the pid of the one to wake so that someone does."""

    accept: bool
    wake: int | None = None


class AcceptTable:
    """The shared table. Made before the workers fork (an anonymous shared mapping is shared
    with every child forked after it)."""

    def __init__(self, slots: int = SLOTS):
        self.slots = slots
        # MAP_SHARED | MAP_ANONYMOUS, zeroed: no slot given out, every record "never ran", no owner
        self.memory = mmap.mmap(-1, _USED.size + slots * _RECORD.size)
        self.view = memoryview(self.memory)

    def _used(self) -> int:
        return _USED.unpack_from(self.memory, 0)[0]

    def _records(self):
        """(slot, record) of every slot given out so far: one read of the used part."""
        return enumerate(_RECORD.iter_unpack(self.view[_USED.size:_USED.size + self._used() * _RECORD.size]))

    def _read(self, slot: int) -> tuple:
        return _RECORD.unpack_from(self.memory, _USED.size + slot * _RECORD.size)

    def _write(self, slot: int, ran: float, given: float, owner: int, pid: int, connections: int,
               accepting: bool) -> None:
        _RECORD.pack_into(self.memory, _USED.size + slot * _RECORD.size, ran, given, owner, pid, connections,
                          int(accepting))

    def reserve(self, now: float, owner: int) -> int | None:
        """(In the master, as it makes the worker of gunicorn age ``owner``.) A free slot, now its."""
        used = self._used()
        for slot, (ran, given, held_by, _, _, _) in self._records():
            if held_by == 0 or (now - ran > ABANDONED_SECONDS and now - given > ABANDONED_SECONDS):
                self._write(slot, 0.0, now, owner, 0, 0, False)
                return slot
        if used == self.slots:
            return None
        self._write(used, 0.0, now, owner, 0, 0, False)
        _USED.pack_into(self.memory, 0, used + 1)
        return used

    def publish(self, slot: int, owner: int, now: float, pid: int, connections: int, accepting: bool) -> bool:
        """The owner's row, written; False (nothing written) when the slot is no longer its."""
        ran, given, held_by, _, _, _ = self._read(slot)
        if held_by != owner:
            return False
        self._write(slot, now, given, owner, pid, connections, accepting)
        return True

    def leave(self, slot: int, owner: int) -> None:
        """(A worker shutting down, or the master once it reaped it.) No longer counted, and the
        slot free for another worker; nothing when the slot is already another's."""
        if self._read(slot)[2] == owner:
            self._write(slot, 0.0, 0.0, 0, 0, 0, False)

    def turn(self, slot: int, connections: int, now: float) -> Turn:
        """Whether the worker in ``slot``, holding ``connections``, should accept now: while it
        holds no more than the least loaded other live worker (or there is none)."""
        least, least_pid, anyone_accepting = None, None, False
        for other, (ran, _, owner, pid, held, accepting) in self._records():
            if other == slot or owner == 0 or now - ran > LIVE_SECONDS:
                continue
            anyone_accepting = anyone_accepting or bool(accepting)
            if least is None or held < least:
                least, least_pid = held, pid
        if least is None or connections <= least:
            return Turn(True)
        return Turn(False, None if anyone_accepting else least_pid)

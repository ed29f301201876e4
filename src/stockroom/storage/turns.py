"""Writers of one process taking turns, in arrival order.

SQLite has one write lock per database. Writers that find it taken wait in SQLite's busy
handler, which sleeps and retries with growing pauses: under load a writer may sleep
through many commits and a late arrival may overtake it, so the slowest waits run into
seconds. Queuing a process's writers here first, each woken by its predecessor the moment
it finishes, makes the wait about (writers ahead) x (time per write), in order.

Between processes (``serve --workers N``), the writer at the head of each process's queue
then takes an advisory lock on a file beside the database (``ProcessTurns``): it sleeps in
the kernel and is woken the moment the holder lets go, where the busy handler would poll.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

try:
    import fcntl
except ImportError:  # not a POSIX system: processes fall back on SQLite's busy handler
    fcntl = None  # type: ignore[assignment]

__all__ = ["ProcessTurns", "Turns"]


class Turns:
    """A first-come, first-served lock that the thread holding it may take again."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._taken = False
        self._owner: int | None = None
        self._depth = 0
        self._waiting: deque[threading.Event] = deque()

    @contextmanager
    def turn(self, *, timeout_s: float) -> Iterator[bool]:
        """Wait for this thread's turn, at most ``timeout_s``; yields whether it came (when
        it did not, the caller must not write)."""
        got = self._acquire(timeout_s)
        try:
            yield got
        finally:
            if got:
                self._release()

    @contextmanager
    def turn_now(self) -> Iterator[bool]:
        """This thread's turn if it is free this instant (or already this thread's), without
        waiting and without overtaking a waiter; yields whether it came."""
        me = threading.get_ident()
        with self._guard:
            got = self._owner == me or not self._taken
            if got:
                self._depth = self._depth + 1 if self._owner == me else 1
                self._taken, self._owner = True, me
        try:
            yield got
        finally:
            if got:
                self._release()

    def release_thread(self) -> None:
        """Make the turn this thread holds nobody's: it is then released by whichever thread
        ends the write, and this thread waits for it like any other (``HeldWrite``)."""
        with self._guard:
            if self._owner != threading.get_ident():
                raise RuntimeError("this thread does not hold the turn")
            self._owner = None

    def _acquire(self, timeout_s: float) -> bool:
        me = threading.get_ident()
        with self._guard:
            if self._owner == me:
                self._depth += 1
                return True
            if not self._taken:
                self._taken, self._owner, self._depth = True, me, 1
                return True
            mine = threading.Event()
            self._waiting.append(mine)
        handed = mine.wait(timeout_s)
        with self._guard:
            if not handed and not mine.is_set():  # gave up before it was handed over
                self._waiting.remove(mine)
                return False
            self._owner, self._depth = me, 1
            return True

    def _release(self) -> None:
        with self._guard:
            self._depth -= 1
            if self._depth:
                return
            self._owner = None
            if self._waiting:
                self._waiting.popleft().set()  # stays taken: handed to the next in line
            else:
                self._taken = False


class ProcessTurns:
    """One writer at a time across processes: an exclusive ``flock`` on the file at
    ``path``, held for a write transaction.

    Only the thread at the head of its process's ``Turns`` asks, so a process waits here
    with one thread at most. A waiter is not bounded by a timeout: it waits for one
    transaction at a time of the other processes, each of which gives up on SQLite's lock
    after the busy timeout. The kernel lets go of a dead process's lock.
    """

    def __init__(self, path: str | None) -> None:
        """``None``: no file to lock beside (an in-memory database); every turn is free."""
        self._fd: int | None = None
        self._depth = 0
        if fcntl is not None and path is not None:
            try:
                self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError:  # a read-only folder: the busy handler arbitrates instead
                self._fd = None

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold the lock inside (again, harmlessly, in a nested write of the same thread)."""
        if self._fd is None:
            yield
            return
        if self._depth == 0:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    @contextmanager
    def turn_now(self) -> Iterator[bool]:
        """``turn`` if no other process holds the lock this instant; yields whether it came.
        The caller holds its process's ``Turns``, so no other thread of this process is here."""
        if self._fd is None or self._depth:
            with self.turn():
                yield True
            return
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        self._depth = 1
        try:
            yield True
        finally:
            self._depth = 0
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

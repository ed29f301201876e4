"""Writers of one process taking turns, in arrival order.

SQLite has one write lock per database. Writers that find it taken wait in SQLite's busy
handler, which sleeps and retries with growing pauses: under load a writer may sleep
through many commits and a late arrival may overtake it, so the slowest waits run into
seconds. Queuing a process's writers here first, each woken by its predecessor the moment
it finishes, makes the wait about (writers ahead) x (time per write), in order, and leaves
the busy handler to arbitrate between processes only.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Turns"]


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

"""A write transaction begun at once and held open past the call that began it.

The coalescer writes a batch on the event loop while SQLite's write lock is free, and the
batch's statements take microseconds. Its commit then waits for the log to reach the disk,
which takes as long as the statements together; a ``HeldWrite`` lets that wait happen on
another thread while the loop goes on serving requests.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack

from .sql import SqlTransaction

__all__ = ["HeldWrite"]


class HeldWrite:
    """An open write transaction: write through ``tx``, then end it with ``commit`` or
    ``abandon``, exactly once. It holds the write lock until it ends."""

    __slots__ = ("_release_thread", "_stack", "tx")

    def __init__(
        self, tx: SqlTransaction, stack: ExitStack, release_thread: Callable[[], None]
    ) -> None:
        self.tx = tx
        self._stack = stack
        self._release_thread = release_thread

    def commit(self) -> None:
        """Write the changes' events, commit, and let the next writer in."""
        self._stack.close()

    def abandon(self, error: BaseException) -> None:
        """Roll back (``error`` is why) and let the next writer in. Raises what the rollback
        makes of a database error (``ServiceBusy`` for a lock held too long)."""
        self._stack.__exit__(type(error), error, error.__traceback__)

    def release_thread(self) -> None:
        """Let the transaction end on another thread. The thread that began it gives up the
        write turn it holds: until the transaction ends, that thread's own writes wait for
        it as any other thread's do, where they would otherwise take the turn as theirs and
        begin a second transaction beside this one."""
        self._release_thread()

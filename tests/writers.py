"""Another writer, on a thread of its own, holding a write transaction open meanwhile."""

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from stockroom.storage.base import Storage


@contextmanager
def another_writer(
    storage: Storage, store_id: str, *, locking: Sequence[str] = ()
) -> Iterator[None]:
    """A write transaction of ``store_id`` held on another thread (with the locks of the
    items ``locking``: PostgreSQL's are the rows') until the block ends."""
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        with storage.writing(store_id) as tx:
            tx.lock_items(list(locking))
            holding.set()
            done.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait(10)
    try:
        yield
    finally:
        done.set()
        thread.join(10)

"""The relay: delivers the outbox's events to webhook subscribers, at least once.

Each worker thread repeats: number the outbox's new events into their streams, which makes
their deliveries (``storage.sequencer``); claim a batch of due deliveries (leased, each
item's in order; ``storage.relay``); send them; settle the outcomes. Sending runs the
batch's *lanes* (one subscription's deliveries of one item, in sequence order) side by side
on a thread pool; a lane stops at its first failure, so a later event of an item never
overtakes an earlier one. Outcomes are settled as lanes finish, a few times a second, not
only at the end.

A delivery succeeds on a 2xx answer. Anything else (another status, a redirect, which is
never followed, a timeout, a refused connection, an answer that is not HTTP) is retried
after an exponential, jittered delay, and parked after ``max_attempts`` failures
(``service.delivery`` sends one event and judges its answer).

A receiver that times out or cannot be reached trips its subscription's breaker in this
process: the rest of the subscription's batch is released untried, and the relay claims
nothing for it for a while (doubling with each trip), so one dead or hanging receiver costs
one timeout now and then instead of a worker's whole time, and other subscriptions flow.

A relay killed mid-batch loses only its leases: once they run out, any relay claims those
deliveries again and sends them (possibly a second time; receivers de-duplicate on the
event id).
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Final

import httpx

from stockroom.domain.webhooks import DeliveryState, retry_delay_ms
from stockroom.settings import Settings
from stockroom.storage.base import Storage
from stockroom.storage.relay import Claimed, Outcome

from .delivery import Sender

__all__ = ["Relay", "RelaySettings"]

log = logging.getLogger("stockroom.relay")

_SETTLE_EVERY_S: Final = 0.25
_PRUNE_BATCH: Final = 10_000


@dataclass(frozen=True, slots=True)
class RelaySettings:
    """How the relay works; every figure is configurable (``Settings.relay_*``)."""

    workers: int = 2
    """Worker threads, each claiming and sending batches of its own."""
    batch: int = 200
    concurrency: int = 16
    """Requests in flight at once per worker."""
    lease_ms: int = 60_000
    timeout_ms: int = 5_000
    """Per request: connecting, sending, and each wait for the answer."""
    max_attempts: int = 16
    retry_base_ms: int = 1_000
    retry_max_ms: int = 3_600_000
    retention_ms: int = 7 * 86_400_000
    prune_every_ms: int = 60_000
    idle_ms: int = 200
    """How long an idle worker waits before looking again (``wake`` cuts it short)."""
    numbering_ms: int = 20
    """How long a worker waits instead when it found events to number and no delivery to
    send: events arriving steadily are numbered in small, frequent batches rather than in
    a burst every ``idle_ms`` (measured with a flash sale on PostgreSQL at 64 clients, the
    relay in a process of its own: the sales' p99 19-20 -> 16-18 ms)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> RelaySettings:
        return cls(
            workers=settings.relay_workers,
            batch=settings.relay_batch,
            concurrency=settings.relay_concurrency,
            lease_ms=settings.relay_lease_ms,
            timeout_ms=settings.webhook_timeout_ms,
            max_attempts=settings.webhook_max_attempts,
            retry_base_ms=settings.webhook_retry_base_ms,
            retry_max_ms=settings.webhook_retry_max_ms,
            retention_ms=settings.event_retention_days * 86_400_000,
        )


@dataclass
class _Breaker:
    """Per subscription: until when this relay leaves it alone, and how often it tripped."""

    open_until_ms: int = 0
    trips: int = 0


@dataclass
class _Batch:
    """One claimed batch while it is being sent."""

    lease_until_ms: int
    lock: threading.Lock = field(default_factory=threading.Lock)
    outcomes: list[Outcome] = field(default_factory=list)
    tripped: set[str] = field(default_factory=set)

    def add(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)

    def take(self) -> list[Outcome]:
        with self.lock:
            taken, self.outcomes = self.outcomes, []
        return taken


class Relay:
    """Delivers webhook events from one process; any number may run against one database."""

    def __init__(
        self,
        storage: Storage,
        *,
        settings: RelaySettings | None = None,
        clock: Callable[[], int] | None = None,
        owner: str = "",
        transport: httpx.BaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.storage = storage
        self.settings = settings or RelaySettings()
        self._clock = clock or (lambda: time.time_ns() // 1_000_000)
        self.owner = (
            owner or f"relay-{socket.gethostname()[:20]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        )
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy
        self._sender = Sender(
            timeout_ms=self.settings.timeout_ms,
            max_attempts=self.settings.max_attempts,
            retry_base_ms=self.settings.retry_base_ms,
            retry_max_ms=self.settings.retry_max_ms,
            connections=self.settings.concurrency * self.settings.workers,
            clock=self._clock,
            rng=self._rng,
            transport=transport,
        )
        self._pool = ThreadPoolExecutor(
            self.settings.concurrency * self.settings.workers, thread_name_prefix="stockroom-send"
        )
        self._breakers: defaultdict[str, _Breaker] = defaultdict(_Breaker)
        self._breakers_lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._last_prune_ms = 0

    # ---- running -------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker threads."""
        for index in range(self.settings.workers):
            thread = threading.Thread(
                target=self._loop, args=(index,), name=f"stockroom-relay-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 30) -> None:
        """Finish the batches in hand (sending nothing new), settle them, and stop."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self.close()

    def close(self) -> None:
        """Release the relay's threads and connections (``stop`` does too)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._sender.close()

    def __enter__(self) -> Relay:
        return self

    def __exit__(self, *_: object) -> None:
        if self._threads:
            self.stop()
        else:
            self.close()

    def wake(self) -> None:
        """Look for deliveries now rather than after the idle wait."""
        self._wake.set()

    def _loop(self, index: int) -> None:
        while not self._stop.is_set():
            try:
                if index == 0:
                    self._maybe_prune()
                worked, numbering = self._round()
            except Exception:
                log.exception("the relay failed; retrying")
                worked, numbering = 0, False
            if not worked:
                waited = self.settings.numbering_ms if numbering else self.settings.idle_ms
                self._wake.wait(waited / 1000)
                self._wake.clear()

    def run_once(self) -> int:
        """Claim one batch (numbering waiting events first), send it and settle it; how
        many deliveries it held."""
        return self._round()[0]

    def _round(self) -> tuple[int, bool]:
        """``run_once``, and whether it found events waiting to be numbered."""
        now = self._clock()
        skip = self._open_breakers(now)
        with self.storage.relaying(write=False) as queue:
            numbering = queue.events_waiting()
            if not (numbering or queue.any_due(now, skip=skip)):
                return 0, False
        batch = _Batch(lease_until_ms=now + self.settings.lease_ms)
        with self.storage.relaying() as queue:
            claimed = queue.claim(
                owner=self.owner,
                now_ms=now,
                lease_until_ms=batch.lease_until_ms,
                limit=self.settings.batch,
                skip=skip,
            )
        if claimed:
            self._send_batch(claimed, batch)
        return len(claimed), numbering

    def drain(self, *, timeout_s: float = 30) -> int:
        """Run batches until none is due (tests and one-off runs); how many were sent."""
        deadline, total = time.monotonic() + timeout_s, 0
        while time.monotonic() < deadline:
            sent = self.run_once()
            if not sent:
                return total
            total += sent
        return total

    def prune(self) -> int:
        """Drop delivered deliveries and events older than the retention period."""
        cutoff = self._clock() - self.settings.retention_ms
        with self.storage.relaying() as queue:
            queue.retention.forget_delivered(cutoff_ms=cutoff)
            streams = queue.retention.streams()
        pruned = 0
        for store_id, through in streams:  # a transaction each: writers wait on none long
            with self.storage.relaying() as queue:
                pruned += queue.retention.prune_stream(
                    store_id, through=through, cutoff_ms=cutoff, limit=_PRUNE_BATCH
                )
        with self.storage.relaying() as queue:
            queue.refresh_statistics()
        return pruned

    def _maybe_prune(self) -> None:
        now = self._clock()
        if now - self._last_prune_ms >= self.settings.prune_every_ms:
            self._last_prune_ms = now
            pruned = self.prune()
            if pruned:
                log.info("pruned %d events older than the retention period", pruned)

    # ---- sending a batch -----------------------------------------------------------------

    def _send_batch(self, claimed: Sequence[Claimed], batch: _Batch) -> None:
        lanes: defaultdict[tuple[str, str, str], list[Claimed]] = defaultdict(list)
        for delivery in claimed:  # claimed in (store, subscription, sequence) order
            lanes[(delivery.store_id, delivery.webhook_id, delivery.entity_id)].append(delivery)
        # Interleave subscriptions, so that no one receiver takes every thread first.
        by_webhook: defaultdict[str, list[list[Claimed]]] = defaultdict(list)
        for (_, webhook_id, _), lane in lanes.items():
            by_webhook[webhook_id].append(lane)
        order = [lane for group in _round_robin(list(by_webhook.values())) for lane in group]
        pending: set[Future[None]] = {
            self._pool.submit(self._send_lane, lane, batch) for lane in order
        }
        while pending:
            _, pending = wait(pending, timeout=_SETTLE_EVERY_S)
            self._settle(batch.take())
        self._settle(batch.take())

    def _settle(self, outcomes: list[Outcome]) -> None:
        if outcomes:
            with self.storage.relaying() as queue:
                queue.settle(owner=self.owner, outcomes=outcomes, now_ms=self._clock())

    def _send_lane(self, lane: list[Claimed], batch: _Batch) -> None:
        index = 0
        try:
            while index < len(lane) and self._may_send(lane[index], batch):
                outcome, unreachable = self._sender.send(lane[index])
                batch.add(outcome)
                index += 1
                if outcome.state is not DeliveryState.DELIVERED:
                    if unreachable:
                        self._trip(outcome.webhook_id, batch)
                    break
                self._reset(outcome.webhook_id)
        except Exception:  # a bug, not a receiver's fault: send the rest again later
            log.exception("sending to webhook %s failed", lane[index].webhook_id)
        for rest in lane[index:]:
            batch.add(_released(rest))

    def _may_send(self, delivery: Claimed, batch: _Batch) -> bool:
        """Not stopping, the subscription's breaker closed, and time left on the lease for
        a whole attempt (so a delivery is never sent by two relays at once)."""
        if self._stop.is_set() or delivery.webhook_id in batch.tripped:
            return False
        margin = min(2 * self.settings.timeout_ms, self.settings.lease_ms // 2)
        return self._clock() + margin < batch.lease_until_ms

    # ---- breakers ------------------------------------------------------------------------

    def _open_breakers(self, now: int) -> list[str]:
        with self._breakers_lock:
            return [w for w, breaker in self._breakers.items() if breaker.open_until_ms > now]

    def _trip(self, webhook_id: str, batch: _Batch) -> None:
        with batch.lock:
            if webhook_id in batch.tripped:
                return  # lanes failing together count as one trip
            batch.tripped.add(webhook_id)
        with self._breakers_lock:
            breaker = self._breakers[webhook_id]
            breaker.trips += 1
            pause = retry_delay_ms(
                breaker.trips,
                base_ms=self.settings.retry_base_ms,
                max_ms=min(self.settings.retry_max_ms, 300_000),
                jitter=self._rng.random(),
            )
            breaker.open_until_ms = self._clock() + pause

    def _reset(self, webhook_id: str) -> None:
        with self._breakers_lock:
            self._breakers.pop(webhook_id, None)


def _released(delivery: Claimed) -> Outcome:
    return Outcome(delivery.store_id, delivery.webhook_id, delivery.seq, delivery.entity_id, None)


def _round_robin(groups: list[list[list[Claimed]]]) -> list[list[list[Claimed]]]:
    """One lane of each subscription, then the next of each, and so on."""
    longest = max((len(group) for group in groups), default=0)
    return [
        [group[position] for group in groups if position < len(group)]
        for position in range(longest)
    ]

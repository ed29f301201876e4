"""Sending one event to one webhook: the signed POST, and what its answer means.

A ``2xx`` answer delivers the event. Anything else fails the attempt, to be retried after
``domain.webhooks.retry_delay_ms`` or, at the last attempt, parked: another status, a
redirect (never followed), a timeout, a refused connection, an answer that is not HTTP.
Timeouts and refused connections also say the receiver is unreachable, which the relay's
breaker acts on. The receiver's answer is read only a little, and never for long.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Final

import httpx

from stockroom import __version__, webhooks
from stockroom.domain.webhooks import DeliveryState, retry_delay_ms
from stockroom.storage.relay import Claimed, Outcome

__all__ = ["Sender"]

_SNIPPET_BYTES: Final = 300


class Sender:
    """POSTs events over one pool of HTTP connections; thread-safe."""

    def __init__(
        self,
        *,
        timeout_ms: int,
        max_attempts: int,
        retry_base_ms: int,
        retry_max_ms: int,
        connections: int,
        clock: Callable[[], int],
        rng: random.Random,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.timeout_ms = timeout_ms
        self.max_attempts = max_attempts
        self.retry_base_ms = retry_base_ms
        self.retry_max_ms = retry_max_ms
        self._clock = clock
        self._rng = rng
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout_ms / 1000),
            follow_redirects=False,
            transport=transport,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            headers={"user-agent": f"Stockroom-Webhooks/{__version__}"},
        )

    def close(self) -> None:
        self._http.close()

    def send(self, delivery: Claimed) -> tuple[Outcome, bool]:
        """POST one event; the outcome and whether the receiver was unreachable (timed out
        or refused the connection)."""
        body = delivery.body.encode()
        now = self._clock()
        timestamp = now // 1000
        headers = {
            "content-type": "application/json",
            webhooks.TIMESTAMP_HEADER: str(timestamp),
            webhooks.SIGNATURE_HEADER: webhooks.sign(
                delivery.secret, body=body, timestamp=timestamp
            ),
            webhooks.EVENT_ID_HEADER: delivery.event_id,
            webhooks.EVENT_TYPE_HEADER: delivery.event_type,
            webhooks.SEQUENCE_HEADER: str(delivery.seq),
            webhooks.STORE_HEADER: delivery.store_id,
        }
        status, error, unreachable = None, None, False
        try:
            status, snippet = self._post(delivery.url, body, headers)
        except httpx.TimeoutException:
            error, unreachable = f"no answer within {self.timeout_ms} ms", True
        except httpx.ConnectError as failure:
            error, unreachable = f"cannot connect: {failure}", True
        except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as failure:
            error = f"{type(failure).__name__}: {failure}"
        else:
            if 200 <= status < 300:
                return self._outcome(delivery, DeliveryState.DELIVERED, now, status), False
            error = snippet
        return self._failed(delivery, now, status, error or "failed"), unreachable

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        """The status, and for a failure what the receiver said (or where it redirected)."""
        deadline = time.monotonic() + 2 * self.timeout_ms / 1000
        with self._http.stream("POST", url, content=body, headers=headers) as response:
            if 300 <= response.status_code < 400:
                where = response.headers.get("location", "nowhere")
                return response.status_code, f"redirect to {where} not followed"
            said = b""
            for chunk in response.iter_raw():  # a little, and not for ever
                said += chunk
                if len(said) >= _SNIPPET_BYTES or time.monotonic() > deadline:
                    break
            text = said[:_SNIPPET_BYTES].decode("utf-8", "replace")
            return response.status_code, f"HTTP {response.status_code}: {text}".strip()

    def _failed(self, delivery: Claimed, now: int, status: int | None, error: str) -> Outcome:
        attempts = delivery.attempts + 1
        if attempts >= self.max_attempts:
            return self._outcome(delivery, DeliveryState.PARKED, now, status, error=error)
        delay = retry_delay_ms(
            attempts,
            base_ms=self.retry_base_ms,
            max_ms=self.retry_max_ms,
            jitter=self._rng.random(),
        )
        return self._outcome(
            delivery, DeliveryState.PENDING, now, status, error=error, next_attempt_ms=now + delay
        )

    @staticmethod
    def _outcome(
        delivery: Claimed,
        state: DeliveryState,
        now: int,
        status: int | None,
        *,
        error: str | None = None,
        next_attempt_ms: int = 0,
    ) -> Outcome:
        return Outcome(
            store_id=delivery.store_id,
            webhook_id=delivery.webhook_id,
            seq=delivery.seq,
            entity_id=delivery.entity_id,
            state=state,
            attempted_ms=now,
            status=status,
            error=error,
            next_attempt_ms=next_attempt_ms or now,
        )

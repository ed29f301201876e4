"""The guard asks the database once for what many requests miss in its cache together."""

import asyncio
import threading
import time
from collections.abc import Mapping

import pytest
from starlette.datastructures import Headers

from stockroom.api.auth import Guard
from stockroom.domain.access import Access
from stockroom.service.access import Gatekeeper


class SlowGatekeeper(Gatekeeper):
    """Answers "no key exists" after a pause, counting how often it was asked; never
    remembers the answer, so every request misses the cache."""

    def __init__(self, *, fails: bool = False) -> None:
        super().__init__(storage=None, now_ms=lambda: 0)  # type: ignore[arg-type]
        self.asked = 0
        self.fails = fails
        self._count = threading.Lock()

    def known_keys_exist(self) -> bool | None:
        return None

    def keys_exist(self) -> bool:
        with self._count:
            self.asked += 1
        time.sleep(0.05)
        if self.fails:
            raise ConnectionError("the database went away")
        return False


def headers() -> Mapping[str, str]:
    return Headers(raw=[(b"wix-site-id", b"s1")])


def test_requests_that_miss_together_share_one_lookup() -> None:
    gatekeeper = SlowGatekeeper()
    guard = Guard(gatekeeper, default_store_id="default")

    async def fifty() -> list[str]:
        calls = (guard.store_for(headers(), Access.INVENTORY_WRITE) for _ in range(50))
        return await asyncio.gather(*calls)

    assert asyncio.run(fifty()) == ["s1"] * 50
    assert gatekeeper.asked == 1

    asyncio.run(fifty())  # the next miss asks again
    assert gatekeeper.asked == 2


def test_a_failed_lookup_fails_every_request_that_waited_for_it() -> None:
    gatekeeper = SlowGatekeeper(fails=True)
    guard = Guard(gatekeeper, default_store_id="default")

    async def three() -> list[object]:
        calls = (guard.store_for(headers(), Access.INVENTORY_WRITE) for _ in range(3))
        return await asyncio.gather(*calls, return_exceptions=True)

    outcomes = asyncio.run(three())
    assert [type(outcome) for outcome in outcomes] == [ConnectionError] * 3
    assert gatekeeper.asked == 1


def test_a_caller_that_goes_away_leaves_the_lookup_to_the_others() -> None:
    gatekeeper = SlowGatekeeper()
    guard = Guard(gatekeeper, default_store_id="default")

    async def one_gives_up() -> str:
        impatient = asyncio.ensure_future(guard.store_for(headers(), Access.INVENTORY_WRITE))
        patient = asyncio.ensure_future(guard.store_for(headers(), Access.INVENTORY_WRITE))
        await asyncio.sleep(0.01)
        impatient.cancel()
        with pytest.raises(asyncio.CancelledError):
            await impatient
        return await patient

    assert asyncio.run(one_gives_up()) == "s1"
    assert gatekeeper.asked == 1

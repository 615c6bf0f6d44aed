"""CacheProbe: keys that arrive while a lookup waits are looked up together; hurry() starts the
lookup at once; a failed lookup finds nothing. The timer is stepped by the test, not slept."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from nbplayground.experimentation.cache_probe import CacheProbe


class SteppedTimer:
    """Ends a wait when the test calls tick() (the interval passed) or the wake event is set."""

    def __init__(self) -> None:
        self.ticked = asyncio.Event()

    async def __call__(self, wake: asyncio.Event, delay: float) -> bool:
        woke = asyncio.ensure_future(wake.wait())
        tick = asyncio.ensure_future(self.ticked.wait())
        done, pending = await asyncio.wait({woke, tick}, return_when=asyncio.FIRST_COMPLETED)
        for f in pending:
            f.cancel()
        self.ticked.clear()
        return woke in done

    def tick(self) -> None:
        self.ticked.set()


def test_keys_waiting_together_are_one_lookup() -> None:
    asked: list[list[str]] = []

    def find(keys: Sequence[str]) -> dict[str, Any]:
        asked.append(list(keys))
        return {k: f"exp-{k}" for k in keys if k != "b"}

    async def main() -> None:
        timer = SteppedTimer()
        probe = CacheProbe(find, timer=timer)
        first = asyncio.ensure_future(probe.find(["a", "b"]))
        second = asyncio.ensure_future(probe.find(["c"]))
        await asyncio.sleep(0)
        assert not first.done() and asked == []  # the interval has not passed
        timer.tick()
        assert await first == {"a": "exp-a"}
        assert await second == {"c": "exp-c"}
        assert asked == [["a", "b", "c"]] and probe.lookups == 1

    asyncio.run(main())


def test_hurry_looks_up_at_once_and_a_failed_lookup_finds_nothing() -> None:
    calls = 0

    def find(keys: Sequence[str]) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError("the log is gone")
        return dict.fromkeys(keys, "hit")

    async def main() -> None:
        probe = CacheProbe(find, timer=SteppedTimer())  # never ticks: only hurry() ends a wait
        pending = asyncio.ensure_future(probe.find(["x"]))
        await asyncio.sleep(0)
        probe.hurry()
        assert await pending == {"x": "hit"}
        failed = asyncio.ensure_future(probe.find(["y"]))
        await asyncio.sleep(0)
        probe.hurry()
        assert await failed == {}  # the call is sent instead
        assert probe.lookups == 2
        waiting = asyncio.ensure_future(probe.find(["z"]))
        await asyncio.sleep(0)
        await probe.close()  # a sweep that ends (or is stopped) leaves no lookup behind
        await asyncio.sleep(0)
        assert waiting.cancelled()

    asyncio.run(main())

"""CacheProbe: cache keys that turn up one by one during a sweep, looked up in the log in batches.

Each lookup opens the log (a DuckDB attach, a PostgreSQL round trip), so one per judge call
would cost more than the call's own sending. Keys wait up to `interval` seconds and are looked
up together, one lookup at a time, off the event loop; `hurry()` (a worker with nothing else to
do) starts the next lookup at once. A lookup that fails finds nothing: the calls are sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from nbplayground.experimentation.writer import Timer, wait_or_time_out

if TYPE_CHECKING:
    from nbplayground.domain import Experiment

Find = Callable[[Sequence[str]], "dict[str, Experiment]"]

log = logging.getLogger(__name__)


class CacheProbe:
    def __init__(self, find: Find, *, interval: float = 0.1,
                 timer: Timer = wait_or_time_out) -> None:
        self._find, self._interval, self._timer = find, interval, timer
        self._pending: list[tuple[list[str], asyncio.Future[dict[str, Experiment]]]] = []
        self._urgent = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.lookups = 0
        """How many times the log was asked (for tests and benches)."""

    async def find(self, keys: Sequence[str]) -> dict[str, Experiment]:
        """The logged experiment of each key that has one, from the next batched lookup."""
        fut: asyncio.Future[dict[str, Experiment]] = \
            asyncio.get_running_loop().create_future()
        self._pending.append((list(keys), fut))
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop())
        return await fut

    def hurry(self) -> None:
        """Look up what is waiting now, not at the end of the interval."""
        if self._pending:
            self._urgent.set()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for _, fut in self._pending:
            fut.cancel()

    async def _loop(self) -> None:
        try:
            while self._pending:
                if not self._urgent.is_set():
                    await self._timer(self._urgent, self._interval)
                self._urgent.clear()
                batch, self._pending = self._pending, []
                keys = sorted({k for ks, _ in batch for k in ks})
                self.lookups += 1
                try:
                    found = await asyncio.to_thread(self._find, keys)
                except Exception as e:  # not found: the calls are sent
                    log.warning("the log could not be searched for cached calls (%s); "
                                "sending them", type(e).__name__)
                    found = {}
                for ks, fut in batch:
                    if not fut.done():
                        fut.set_result({k: found[k] for k in ks if k in found})
        finally:
            self._task = None

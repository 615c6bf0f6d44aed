"""BatchWriter: outcomes go to the log in batches (one transaction each) off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

from nbplayground.experimentation.service import Outcome

Record = Callable[[list[Outcome], Any], None]
"""Writes a batch with the snapshot taken when it was cut, in one transaction (off the loop)."""

Timer = Callable[[asyncio.Event, float], Awaitable[bool]]
"""Waits until the event is set (True) or `delay` seconds have passed (False)."""


async def wait_or_time_out(wake: asyncio.Event, delay: float) -> bool:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(wake.wait(), delay)
        return True
    return False


class BatchWriter:
    """A cell counts as done once its batch is committed; a crash loses only unflushed cells.

    `snapshot` is called on the event loop each time a batch is cut (the sweep's row: status,
    counts, spend), so what is written with a batch describes exactly the cells written so far.
    Closing writes one last batch even when it is empty, so the final snapshot is kept.
    `clock` and `timer` are the flush timer's time (tests step them instead of sleeping).
    """

    def __init__(self, record: Record, *, snapshot: Callable[[], Any] = lambda: None,
                 max_rows: int = 2000, max_delay: float = 1.0,
                 clock: Callable[[], float] = time.monotonic,
                 timer: Timer = wait_or_time_out) -> None:
        self._record = record
        self._clock = clock
        self._timer = timer
        self._snapshot = snapshot
        self._pending: list[Outcome] = []
        self._max_rows = max_rows
        self._max_delay = max_delay
        self._wake = asyncio.Event()
        self._closed = False
        self._task: asyncio.Task[None] | None = None
        self._inflight: asyncio.Future[None] | None = None
        self._quiet_until = 0.0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    def put(self, outcome: Outcome) -> None:
        self._pending.append(outcome)
        if len(self._pending) >= self._max_rows:
            self._wake.set()

    def ending(self) -> None:
        """Every cell has started: write what is done now, while the last requests are in
        flight, so the closing batch is small. Timed flushes then hold off for one max_delay
        (one still running at close would delay the end by a whole transaction); a long tail
        (retries) is flushed as usual after that. Called again after that (the judge calls
        that follow a sweep's cells have all started), it does the same again."""
        now = self._clock()
        if now >= self._quiet_until:
            self._quiet_until = now + self._max_delay
            self._wake.set()

    async def _loop(self) -> None:
        while not self._closed:
            woken = await self._timer(self._wake, self._max_delay)  # a full batch, or ending()
            self._wake.clear()
            if woken or self._clock() >= self._quiet_until:
                await self.flush()

    async def flush(self, *, final: bool = False) -> None:
        if self._inflight is not None and not self._inflight.done():
            await asyncio.shield(self._inflight)
        if not self._pending and not final:
            return
        batch, self._pending = self._pending, []
        state = self._snapshot()
        # Shielded: a cancelled sweep still finishes the transaction it started, exactly once.
        self._inflight = asyncio.ensure_future(asyncio.to_thread(self._record, batch, state))
        await asyncio.shield(self._inflight)

    async def close(self) -> None:
        """Stop the timer and write what is left with the final snapshot; safe to call from a
        cancelled task."""
        self._closed = True
        if self._task is not None:  # no wake-up first: the timer must not cut one more batch
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._inflight is not None:
            await self._inflight
        await self.flush(final=True)

"""BatchWriter: outcomes go to the log in batches (one transaction each) off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable

from nbplayground.experimentation.service import Outcome

Record = Callable[[Iterable[Outcome]], None]


class BatchWriter:
    """A cell counts as done once its batch is committed; a crash loses only unflushed cells."""

    def __init__(self, record: Record, *, max_rows: int = 2000, max_delay: float = 1.0) -> None:
        self._record = record
        self._pending: list[Outcome] = []
        self._max_rows = max_rows
        self._max_delay = max_delay
        self._wake = asyncio.Event()
        self._closed = False
        self._task: asyncio.Task[None] | None = None
        self._inflight: asyncio.Future[None] | None = None
        self.written = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    def put(self, outcome: Outcome) -> None:
        self._pending.append(outcome)
        if len(self._pending) >= self._max_rows:
            self._wake.set()

    async def _loop(self) -> None:
        while not self._closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._max_delay)
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        if self._inflight is not None and not self._inflight.done():
            await asyncio.shield(self._inflight)
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        # Shielded: a cancelled sweep still finishes the transaction it started, exactly once.
        self._inflight = asyncio.ensure_future(asyncio.to_thread(self._record, batch))
        await asyncio.shield(self._inflight)
        self.written += len(batch)

    async def close(self) -> None:
        """Stop the timer and write what is left; safe to call from a cancelled task."""
        self._closed = True
        self._wake.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._inflight is not None:
            await self._inflight
        await self.flush()

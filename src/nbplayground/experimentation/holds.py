"""Budget holds from the event loop: taken off the loop, and never leaked by a cancellation."""

from __future__ import annotations

import asyncio

from nbplayground.experimentation.ports import Gate, Hold

__all__ = ["reserve"]


async def reserve(gate: Gate, user_id: str, needed: float, *, tokens: int, provider: str,
                  what: str = "this run") -> Hold:
    """gate.reserve off the event loop (it reads the ledger); a hold taken while the caller
    was cancelled is released, never leaked."""
    task = asyncio.ensure_future(asyncio.to_thread(
        gate.reserve, user_id, needed, tokens=tokens, provider=provider, what=what))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        task.add_done_callback(_release_quietly)
        raise


def _release_quietly(task: asyncio.Future[Hold]) -> None:
    if not task.cancelled() and task.exception() is None:
        task.result().release()

"""Budget holds from the event loop: taken off the loop, and never leaked by a cancellation;
a sweep's, one per provider."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from nbplayground.experimentation.ports import Gate, Hold

if TYPE_CHECKING:
    from nbplayground.experimentation.cell import Cell

__all__ = ["by_provider", "reserve", "reserve_sweep"]


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


async def reserve_sweep(gate: Gate | None, cells: list[Cell], todo: list[int],
                        ceilings: dict[int, float]) -> dict[str, Hold]:
    """Hold each provider's pre-flight maximum of the cells `todo` for the sweep's whole flight
    (BudgetExceeded if it does not fit what is left), so a concurrent sweep of the same user
    sees it as spent. A free provider's hold is empty; one refused releases those taken."""
    holds: dict[str, Hold] = {}
    if gate is None or not todo:
        return holds
    try:
        for provider, part in by_provider(cells, todo).items():
            mine = [cells[i] for i in part]
            holds[provider] = await reserve(
                gate, mine[0].user_id, sum(ceilings[i] for i in part),
                tokens=sum(c.prompt_tokens + c.max_completion for c in mine),
                provider=provider, what=f"this sweep ({len(mine)} calls)")
    except BaseException:
        for hold in holds.values():
            hold.release()
        raise
    return holds


def by_provider(cells: list[Cell], indices: list[int]) -> dict[str, list[int]]:
    """The cell indices grouped by their cells' provider, in order."""
    groups: dict[str, list[int]] = {}
    for i in indices:
        groups.setdefault(cells[i].provider, []).append(i)
    return groups

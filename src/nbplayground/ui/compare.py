"""The panel's Compare: its columns run from the shared prompt, each into its own slot."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nbplayground.ui import state
from nbplayground.ui.streaming import Slot, start

if TYPE_CHECKING:
    from nbplayground.results import Experiment
    from nbplayground.ui.ports import Facade


def start_columns(pg: Facade, slots: list[Slot], base: dict[str, Any],
                  columns: list[dict[str, Any]], poke: Callable[[], None],
                  then: Callable[[Slot], Callable[[Experiment], None] | None]) -> None:
    """Start the columns' runs into `slots` (one per column); `then(slot)` follows each."""
    for slot, column in zip(slots, columns, strict=True):
        start(pg, slot, state.column_config(base, column), poke, then(slot))

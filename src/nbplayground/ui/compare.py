"""The panel's Compare: its columns run as one zipped pg.sweep (whatever their providers), the
sweep its code shows; each column's answer streams into its own slot."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nbplayground.ui import state
from nbplayground.ui.snippet import sweep_arguments
from nbplayground.ui.streaming import Slot

if TYPE_CHECKING:
    from nbplayground.results import Experiment
    from nbplayground.ui.ports import Facade


def compare_request(base: dict[str, Any], columns: list[dict[str, Any]],
                    default_provider: str) -> tuple[Any, dict[str, Any]]:
    """(prompt, pg.sweep's keyword arguments) that run the columns from the shared prompt."""
    prompt = state.request(base)[0]
    runs = [state.request(state.column_config(base, c))[1] for c in columns]
    return prompt, sweep_arguments(runs, default_provider)


def start_columns(pg: Facade, slots: list[Slot], base: dict[str, Any],
                  columns: list[dict[str, Any]], poke: Callable[[], None],
                  then: Callable[[Slot], Callable[[Experiment], None] | None]) -> None:
    """Run the columns as one sweep into `slots` (one per column; Stop cancels the sweep);
    `then(slot)` follows each finished column. Sent afresh (refresh=True), as a Run is."""
    finished: dict[int, Experiment] = {}

    def on_token(i: int, piece: str) -> None:
        slots[i].add(piece)
        poke()

    def done(future: concurrent.futures.Future[Any]) -> None:
        failed = None if future.cancelled() else future.exception()
        results = list(future.result().results) if failed is None and not \
            future.cancelled() else [finished.get(i) for i in range(len(slots))]
        for slot, exp in zip(slots, results, strict=True):
            if exp is not None:
                follow = then(slot)
                if follow is not None and exp.status != "stopped":
                    follow(exp)
                slot.ended(exp)
            elif failed is not None:
                slot.fail(failed)
            else:
                slot.status, slot.done = "stopped", True
        poke()

    try:
        prompt, kwargs = compare_request(base, columns, pg.provider)
        future = pg.submit_sweep(prompt, on_token=on_token, on_cell=finished.__setitem__,
                                 refresh=True, **kwargs)
    except Exception as e:  # bad input (NbPlaygroundError) or a bug: shown in every column
        for slot in slots:
            slot.fail(e)
        poke()
        return
    for slot in slots:
        slot.future = future  # Stop cancels the one sweep
    future.add_done_callback(done)

"""pg.sweep keeps Python's full garbage collections out of the sweep, from the first cell made
to the last one logged (a full collection of a kernel's heap costs 60-140 ms), and gives the
collector back as it found it."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from nbplayground.facade_sweeps import Sweeps


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_while_cells_are_made_and_restored_after(
        make_pg: Any, monkeypatch: pytest.MonkeyPatch, enabled: bool) -> None:
    pg = make_pg(provider="simulated", simulated_latency=0)
    seen: list[bool] = []
    make = Sweeps._sweep

    def watched(self: Sweeps, *args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return make(self, *args, **kwargs)

    monkeypatch.setattr(Sweeps, "_sweep", watched)
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        sw = pg.sweep("Say {n}", vars=[{"n": n} for n in range(3)], progress=False)
        assert seen == [False] and sw.count("ok") == 3
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()

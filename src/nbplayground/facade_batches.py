"""The facade's batch collaborator: pg.sweep / pg.estimate / pg.retry_failed with via="batch"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from nbplayground.errors import InvalidInput

if TYPE_CHECKING:
    from nbplayground.experimentation.batch_sweep import BatchSweep
    from nbplayground.experimentation.batching import BatchRunner
    from nbplayground.experimentation.cell import Cell
    from nbplayground.experimentation.sweep import Sweep
    from nbplayground.wiring import Wiring

VIAS = ("sync", "batch")


def check_via(via: Any) -> str:
    if via not in VIAS:
        raise InvalidInput(f"via must be 'sync' (calls now) or 'batch' (OpenAI's Batch API: half "
                           f"price, answers within 24 h), not {via!r}")
    return str(via)


def as_via(cells: list[Cell], via: str) -> list[Cell]:
    """The cells sent (and priced) that way; their cache keys do not change."""
    how: Literal["sync", "batch"] = "batch" if via == "batch" else "sync"
    return [c.sent_via(how) for c in cells]


class Batches:
    """Builds the batch runner once, over the OpenAI client's key and endpoint."""

    def __init__(self, wiring: Wiring) -> None:
        self._w = wiring

    def runner(self, progress: bool = True) -> BatchRunner:
        from nbplayground.experimentation.batching import BatchRunner
        from nbplayground.progress import BatchProgress

        return BatchRunner(self._w.service, self._api(), self._w.repository,
                           progress=BatchProgress if progress else None)

    def _api(self) -> Any:
        def build() -> Any:
            from nbplayground.adapters.openai_batches import OpenAIBatchClient

            key = self._w.resolve_key()  # argument, keyring, OPENAI_API_KEY, key file
            return OpenAIBatchClient(api_key=key.reveal() if key else None,
                                     base_url=self._w.settings.base_url_for_openai())

        return self._w._once("batch_api", build)

    def submit(self, sweep: Sweep, *, max_cost: float | None, refresh: bool,
               progress: bool) -> BatchSweep:
        sweep.cells = as_via(sweep.cells, "batch")
        return self.runner(progress).submit(sweep, max_cost=max_cost, refresh=refresh)

    def retry(self, sweep: Sweep, *, progress: bool) -> BatchSweep:
        """The failed cells of `sweep` in a new batch; the rest as they are."""
        from nbplayground.experimentation.sweep import Sweep

        again = {i for i, r in enumerate(sweep.results) if r is not None and r.status == "error"}
        if not again:
            raise InvalidInput("no cell of this sweep failed: nothing to send again")
        fresh = Sweep(id=sweep.id, cells=as_via(sweep.cells, "batch"), spec=sweep.spec,
                      plan=sweep.plan, results=[None if i in again else r
                                                for i, r in enumerate(sweep.results)])
        return self.runner(progress).submit(fresh, again=again)

"""BatchSweep: the handle of a batch sweep (sw.status(), sw.wait(), sw.cancel()), a Sweep."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from nbplayground.domain.batch import BatchRecord
from nbplayground.errors import InvalidInput, ProviderError
from nbplayground.experimentation.sweep import Sweep
from nbplayground.ids import utcnow

if TYPE_CHECKING:
    import pandas as pd

    from nbplayground.domain import Experiment
    from nbplayground.experimentation.batching import BatchRunner

STATUS_COLUMNS = ["batch_id", "status", "total", "completed", "failed", "model", "endpoint",
                  "input_file_id", "output_file_id", "error_file_id", "ingested"]


class BatchSweep:
    """A sweep whose cells are answered by OpenAI's Batch API; results arrive with wait().

    Everything else is its Sweep's (`sw.to_pandas()`, `sw.results`, `sw.scores()`, ...).
    """

    def __init__(self, sweep: Sweep, runner: BatchRunner | None = None, *,
                 progress: Callable[[int], Any] | None = None) -> None:
        self.sweep = sweep
        self.runner = runner
        self.batches: list[BatchRecord] = []
        self.fresh: dict[str, Experiment] = {}
        """What this handle read from the batches' files, by cache key."""
        self.progress = progress
        """Makes the progress bar of wait(progress=True), given the number of requests."""

    def __getattr__(self, name: str) -> Any:
        if name == "sweep":  # not set yet (unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.sweep, name)

    def __len__(self) -> int:
        return len(self.sweep)

    def __repr__(self) -> str:
        return self.sweep.summary()

    def _repr_html_(self) -> str:
        return self.sweep._repr_html_()

    @property
    def id(self) -> str:
        return self.sweep.id

    @property
    def cells(self) -> list[Any]:
        return self.sweep.cells

    @property
    def results(self) -> list[Experiment | None]:
        return self.sweep.results

    @cached_property
    def by_key(self) -> dict[str, list[int]]:
        """Cache key (custom_id) -> the cells that have it (repeats of a cell have their own)."""
        out: dict[str, list[int]] = {}
        for i, c in enumerate(self.cells):
            out.setdefault(c.cache_key, []).append(i)
        return out

    def find(self, record_id: str) -> BatchRecord:
        return next(b for b in self.batches if b.id == record_id)

    def replace(self, record: BatchRecord, **changes: Any) -> BatchRecord:
        """The row with `changes`, in place of the old one in this handle."""
        new = record.model_copy(update=changes)
        self.batches = [new if b.id == record.id else b for b in self.batches]
        return new

    def fill(self) -> None:
        """Each cell's result: what was read now, else what it had (the log's, or cached)."""
        for key, exp in self.fresh.items():
            for i in self.by_key.get(key, ()):
                self.results[i] = exp
        self.sweep.spent = sum(e.metrics.cost_estimate or 0.0 for e in self.fresh.values())

    def row(self, status: str) -> dict[str, Any]:
        user = self.cells[0].user_id if self.cells else ""
        sw = self.sweep
        sw.status = status
        return {"id": sw.id, "user_id": user, "spec": {**sw.spec, "via": "batch"},
                "status": status, "total": len(sw), "done": sw.count("ok"),
                "failed": sw.count("failed"), "cached": sw.count("cached"),
                "spent": sw.spent, "updated_at": utcnow()}

    # -- the public handle --

    def status(self) -> pd.DataFrame:
        """One row per batch: OpenAI's status and request counts, and its files."""
        import pandas as pd

        return pd.DataFrame([{
            "batch_id": b.batch_id, "status": b.status, "total": b.total,
            "completed": b.completed, "failed": b.failed, "model": b.model,
            "endpoint": b.endpoint, "input_file_id": b.input_file_id,
            "output_file_id": b.output_file_id, "error_file_id": b.error_file_id,
            "ingested": b.ingested_at is not None} for b in self.batches],
            columns=STATUS_COLUMNS)

    def wait(self, poll: float = 30.0, *, progress: bool = True, timeout: float | None = None,
             sleep: Callable[[float], None] | None = None) -> BatchSweep:
        """Poll every `poll` seconds until every batch has finished and its results are in the
        log (or `timeout` seconds have passed: call it again later, or re-run the sweep)."""
        if isinstance(poll, bool) or not isinstance(poll, int | float) or poll < 0:
            raise InvalidInput(f"poll must be a number of seconds >= 0, not {poll!r}")
        runner = self._runner
        pause = sleep or runner.sleep
        runner.sleep = pause  # the retries of a busy API wait on the same clock
        bar = self.progress(sum(b.total for b in self.batches)) \
            if progress and self.progress is not None else None
        waited = 0.0
        try:
            while True:
                try:
                    done = runner.poll(self)
                except ProviderError as e:  # the API is busy or down: ask again next time
                    if not e.retryable:
                        raise
                    done = False
                if bar is not None:
                    bar(sum(b.completed + b.failed for b in self.batches))
                if done or (timeout is not None and waited >= timeout):
                    break
                pause(poll)
                waited += poll
        finally:
            if bar is not None and callable(getattr(bar, "close", None)):
                bar.close()
        runner.service.repository.add([], sweep=self.row("done" if done else "batch"))
        return self

    def code(self) -> str:
        """A Python script that writes this sweep's JSONL, uploads it and creates the batch
        with the openai SDK (the same lines pg.sweep(..., via="batch") sends)."""
        from nbplayground.experimentation.batch_files import endpoint_of
        from nbplayground.integration.batch_code import python_batch_script

        seen: dict[str, Any] = {c.cache_key: c for c in self.cells}
        lines = [(k, endpoint_of(c), c.request.model_copy(update={"stream": False}).body())
                 for k, c in seen.items()]
        return python_batch_script(self.cells[0].base_url if self.cells else None, lines)

    def cancel(self) -> BatchSweep:
        """Cancel the batches still running; what they finished is kept (read it with wait())."""
        self._runner.cancel(self)
        return self

    @property
    def _runner(self) -> BatchRunner:
        if self.runner is None:
            raise InvalidInput("this batch sweep has no runner; make it with pg.sweep(..., "
                               "via='batch')")
        return self.runner

"""A run stopped mid-stream (the panel's Stop): logged with status='stopped' and its text so far."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from nbplayground.domain import Experiment
from nbplayground.errors import NbPlaygroundError
from nbplayground.experimentation.ports import DeltaCallback
from nbplayground.ids import new_id, utcnow

if TYPE_CHECKING:
    from nbplayground.experimentation.cell import Cell
    from nbplayground.experimentation.service import ExperimentService

log = logging.getLogger(__name__)


class Partial:
    """Keeps what has streamed (the answer so far, should the run be stopped) and passes each
    piece on."""

    def __init__(self, on_delta: DeltaCallback | None) -> None:
        self.pieces: list[str] = []
        self.started = time.perf_counter()
        self._on_delta = on_delta

    def __call__(self, delta: str) -> None:
        self.pieces.append(delta)
        if self._on_delta is not None:
            self._on_delta(delta)

    @property
    def text(self) -> str:
        return "".join(self.pieces)


def stopped(service: ExperimentService, cell: Cell, partial: Partial) -> Experiment:
    """The row of a stopped run: the prompt was sent and the text so far was written, so both
    are counted (estimated: the server sends usage only at the end) and priced."""
    text = partial.text
    metrics = service.costs.metrics(
        provider=cell.provider, model=cell.request.model, prompt_tokens=cell.prompt_tokens,
        completion_tokens=service.tokenizer.count_text(text, cell.request.model) if text else 0,
        generation_time_ms=(time.perf_counter() - partial.started) * 1000,
        usage_estimated=True, at=utcnow())
    return service._experiment(cell, new_id(), status="stopped", response=text,
                               error="stopped by the user", error_type="Cancelled",
                               metrics=metrics, timestamp=utcnow())


def log_stopped(service: ExperimentService, cell: Cell, partial: Partial) -> None:
    """Log the stopped run on the way out of the cancelled task; a log that refuses it must not
    turn the stop into an error (the person asked to stop, and did)."""
    from nbplayground.experimentation.service import Outcome

    try:
        service.record([Outcome(stopped(service, cell, partial), [], cell.images)])
    except NbPlaygroundError as e:
        log.warning("nbplayground: the stopped run could not be logged: %s", e)

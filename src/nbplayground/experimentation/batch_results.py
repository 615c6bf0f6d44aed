"""A batch result line as the same experiments / api_requests rows a synchronous cell writes.

Ids are derived from (batch row, custom_id): reading the same file again after a crash writes
nothing twice (the log skips ids it holds).
"""

from __future__ import annotations

import uuid

from nbplayground.domain import APIRequest, ResponseMetrics
from nbplayground.domain.batch import BatchRecord
from nbplayground.errors import ProviderError, RequestTimedOut
from nbplayground.experimentation.answers import answer_fields, tool_calls_of
from nbplayground.experimentation.batch_ports import BatchLine
from nbplayground.experimentation.cell import Cell
from nbplayground.experimentation.service import ExperimentService, Outcome
from nbplayground.ids import utcnow

_NAMESPACE = uuid.UUID("8f0a7c4e-2b1d-4f7e-9c55-6a2d1e0b5c31")


def line_ids(batch: BatchRecord, custom_id: str) -> tuple[str, str]:
    """(experiment id, api_requests id) of a line of `batch`: the same each time it is read."""
    exp = uuid.uuid5(_NAMESPACE, f"{batch.id}/{custom_id}")
    return str(exp), str(uuid.uuid5(exp, "request"))


def outcome_of(service: ExperimentService, cell: Cell, line: BatchLine, batch: BatchRecord
               ) -> Outcome:
    """The experiment of one line (ok, or its own error) and its one api_requests row."""
    exp_id, request_id = line_ids(batch, line.custom_id)
    at = utcnow()
    error = None if line.result is not None else line.error or missing(batch)
    request = APIRequest(id=request_id, experiment_id=exp_id, user_id=cell.user_id,
                         model=cell.request.model, provider=cell.provider, attempt=0,
                         status_code=line.status_code, request_id=line.request_id,
                         error=None if error is None else str(error))
    result = line.result
    if error is not None or result is None:
        err = error or missing(batch)
        exp = service._experiment(
            cell, exp_id, status="error", error=str(err), error_type=type(err).__name__,
            metrics=ResponseMetrics(), timestamp=at)
        return Outcome(exp, [request], cell.images)
    requested, answered = cell.request.model, result.response_model or cell.request.model

    def priced_by(model: str) -> ResponseMetrics:
        return service.costs.metrics(
            provider=cell.provider, model=model, prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens, cached_tokens=result.cached_tokens,
            reasoning_tokens=result.reasoning_tokens, usage_estimated=result.usage_estimated,
            price_as=cell.price_as, messages=cell.request.messages, response=result.text,
            at=at, tier="batch")

    metrics = priced_by(answered)
    if metrics.cost_estimate is None and answered != requested \
            and answered.startswith(requested + "-"):
        metrics = priced_by(requested)  # OpenAI's dated snapshot of the requested model
    fields = answer_fields(cell, result, list(tool_calls_of(result, 0)))
    exp = service._experiment(
        cell, exp_id, response=result.text, metrics=metrics, finish_reason=result.finish_reason,
        timestamp=at, **fields)
    return Outcome(exp, [request], cell.images)


def missing(batch: BatchRecord) -> ProviderError:
    """A cell the batch's files say nothing of (it expired, was cancelled, or failed)."""
    return RequestTimedOut(f"batch {batch.batch_id or batch.id} ended {batch.status} without "
                           "answering this request; pg.retry_failed(sw) sends it again")

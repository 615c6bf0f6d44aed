"""One request through the one retry loop; every attempt becomes an api_requests row."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from nbplayground.domain import APIRequest, ChatRequest, ChatResult
from nbplayground.errors import NbPlaygroundError, ProviderError, RateLimited
from nbplayground.experimentation.cell import Cell
from nbplayground.experimentation.ports import DeltaCallback, Throttle

if TYPE_CHECKING:
    from nbplayground.experimentation.service import ExperimentService


async def send(service: ExperimentService, cell: Cell, request: ChatRequest, exp_id: str,
               requests: list[APIRequest], on_delta: DeltaCallback | None,
               limiter: Throttle | None) -> ChatResult | NbPlaygroundError:
    """One request through the retry loop; each attempt is an api_requests row."""
    client = service.clients(cell.provider)
    budget_tokens = cell.prompt_tokens + cell.max_completion
    attempt = 0
    while True:
        if limiter is not None:
            await limiter.acquire(budget_tokens)
        t0 = time.perf_counter()
        try:
            result = await client.complete(request, on_delta=on_delta)
        except ProviderError as e:
            latency = (time.perf_counter() - t0) * 1000
            requests.append(service._attempt(cell, exp_id, len(requests), e.status_code,
                                          latency, e.request_id, str(e), e.retry_after))
            if e.retryable and service.retry.allows(
                    attempt, rate_limited=isinstance(e, RateLimited)):
                delay = service.retry.delay(attempt, e.retry_after)
                if limiter is not None and isinstance(e, RateLimited):
                    limiter.pause(delay)
                await asyncio.sleep(delay)
                attempt += 1
                continue
            return e
        latency = (time.perf_counter() - t0) * 1000
        requests.append(service._attempt(cell, exp_id, len(requests), result.status_code,
                                      result.latency_ms or latency, result.request_id))
        if limiter is not None and result.rate_limit:
            limiter.observe(result.rate_limit)
        return result

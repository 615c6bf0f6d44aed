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
    fell_back = False
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
            if cell.flex_fallback and not fell_back and flex_unavailable(request, e):
                # Flex has no capacity now: the same request at the default tier, at once.
                fell_back = True
                request = at_default_tier(request)
                continue
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
        return result.model_copy(update={"service_tier": "default"}) if fell_back else result


def flex_unavailable(request: ChatRequest, e: ProviderError) -> bool:
    """OpenAI's 429 "Resource Unavailable" of a flex request (not a rate limit of the key)."""
    text = str(e).lower()
    return request.parameters.service_tier == "flex" and isinstance(e, RateLimited) and (
        "resource unavailable" in text or "resource_unavailable" in text)


def at_default_tier(request: ChatRequest) -> ChatRequest:
    parameters = request.parameters.model_copy(update={"service_tier": "default"})
    return request.model_copy(update={"parameters": parameters})

"""A run stopped mid-stream (the panel's Stop) is logged as status='stopped' with its text."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nbplayground.analytics import CostEstimator
from nbplayground.events import EventBus, TokenUsageUpdated
from nbplayground.experimentation import ExperimentService
from tests.fakes import FakeExperimentRepository, FakePriceTable, FakeTokenizer


class StallingClient:
    """Streams a few words, then waits for an end that never comes (until cancelled)."""

    provider, base_url = "fake", None

    def __init__(self) -> None:
        self.streamed = asyncio.Event()

    def models(self) -> list[str]:
        return ["fake-model"]

    async def complete(self, request: Any, *, on_delta: Any = None) -> Any:
        for word in ("Once ", "upon ", "a "):
            on_delta(word)
        self.streamed.set()
        await asyncio.Event().wait()


def test_a_cancelled_streaming_run_is_logged_as_stopped_with_its_partial_answer() -> None:
    repo, bus, client = FakeExperimentRepository(), EventBus(), StallingClient()
    events: list[Any] = []
    bus.subscribe(TokenUsageUpdated, events.append)
    service = ExperimentService(lambda p: client, repo,  # type: ignore[arg-type,return-value]
                                CostEstimator(FakeTokenizer(), FakePriceTable()),
                                FakeTokenizer(), bus)
    cell = service.prepare(user_id="alice", prompt="Tell me a story", model="gpt-4o-mini",
                           provider="fake", max_tokens=100)
    seen: list[str] = []

    async def run_then_stop() -> None:
        task = asyncio.ensure_future(service.run_experiment(cell, on_delta=seen.append))
        await client.streamed.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run_then_stop())
    assert seen == ["Once ", "upon ", "a "]  # the caller still got every piece
    [exp] = repo.list()
    assert (exp.status, exp.response, exp.error_type) == ("stopped", "Once upon a ", "Cancelled")
    assert exp.prompt == "Tell me a story" and exp.parameters.max_tokens == 100
    m = exp.metrics
    assert m.usage_estimated and m.prompt_tokens == cell.prompt_tokens
    assert m.completion_tokens == 3  # FakeTokenizer: one per word
    assert m.cost_estimate == pytest.approx(cell.prompt_tokens / 1000 + 2 * 3 / 1000)
    # What was sent and written is billed: it is in the ledger like any other spend.
    assert [e.experiment_id for e in events] == [exp.id]
    assert [u["experiment_id"] for u in repo.usage] == [exp.id]

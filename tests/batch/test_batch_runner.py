"""BatchRunner with fakes of its ports: busy Files/Batches calls retried on an injected clock,
results written a chunk per transaction, and faults while waiting."""

from __future__ import annotations

import pytest

from nbplayground.analytics import CostEstimator
from nbplayground.errors import BadRequest, RateLimited, ServerFailed
from nbplayground.events import EventBus
from nbplayground.experimentation import ExperimentService, RetryPolicy, batching
from nbplayground.experimentation.batching import BatchRunner
from nbplayground.experimentation.sweep import Sweep
from tests.fakes import (
    FakeBatchApi,
    FakeChatClient,
    FakeExperimentRepository,
    FakePriceTable,
    FakeTokenizer,
)


class World:
    def __init__(self) -> None:
        self.repo = FakeExperimentRepository()
        self.api = FakeBatchApi()
        self.slept: list[float] = []
        client = FakeChatClient(provider="openai")
        self.service = ExperimentService(
            lambda provider: client, self.repo,
            CostEstimator(FakeTokenizer(), FakePriceTable()), FakeTokenizer(), EventBus(),
            retry=RetryPolicy(max_retries=2, max_rate_limit_retries=3))
        self.runner = BatchRunner(self.service, self.api, self.repo, sleep=self.slept.append)

    def sweep(self, n: int) -> Sweep:
        cells = [self.service.prepare(user_id="alice", prompt=f"question {i}",
                                      model="gpt-4o-mini", provider="openai",
                                      max_tokens=10).sent_via("batch").in_sweep("sw-1")
                 for i in range(n)]
        return Sweep(id="sw-1", cells=cells)


@pytest.fixture
def world() -> World:
    return World()


def test_busy_calls_are_retried_on_the_injected_clock(world: World) -> None:
    world.api.errors = [RateLimited("busy", retry_after=7.0), ServerFailed("oops")]
    handle = world.runner.submit(world.sweep(3))
    assert world.api.calls[:3] == ["upload", "upload", "upload"]
    assert 7.0 <= world.slept[0] <= 7.0 * 1.25 and len(world.slept) == 2
    [record] = world.repo.batches()
    assert record.batch_id == handle.batches[0].batch_id and record.status == "validating"
    assert record.max_cost == pytest.approx(3 * world.service.max_cost(handle.cells[0]))


def test_results_are_written_a_chunk_per_transaction(world: World,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batching, "CHUNK", 2)
    handle = world.runner.submit(world.sweep(5))
    before = world.repo.batches_written
    world.api.finish(handle.batches[0].batch_id or "")
    handle.wait(poll=0, progress=False)
    assert world.repo.batches_written - before == 4  # 2 + 2 + 1, then the sweep's last row
    assert [r.response for r in handle.results] == [
        f"answer to {c.cache_key}" for c in handle.cells]
    assert {e.via for e in world.repo.experiments.values()} == {"batch"}
    assert len(world.repo.usage) == 5
    assert world.repo.batches()[0].ingested_at is not None


def test_a_busy_api_while_waiting_is_asked_again_a_refusal_is_raised(world: World) -> None:
    handle = world.runner.submit(world.sweep(2))
    world.api.errors = [ServerFailed("down"), ServerFailed("down"), ServerFailed("down")]
    slept: list[float] = []
    handle.wait(poll=1, timeout=1, progress=False, sleep=slept.append)
    assert slept.count(1) == 1 and world.api.errors == []  # retried, then polled again
    world.api.errors = [BadRequest("no such batch")]
    with pytest.raises(BadRequest):
        handle.wait(poll=1, progress=False, sleep=slept.append)


def test_refused_before_anything_is_sent(world: World) -> None:
    from nbplayground import BudgetExceeded, InvalidInput

    with pytest.raises(BudgetExceeded, match="batch rates"):
        world.runner.submit(world.sweep(3), max_cost=1e-9)
    def weather(city: str) -> str:
        """The weather in a city."""
        return "sunny"

    cell = world.service.prepare(user_id="alice", prompt="hi", model="gpt-4o-mini",
                                 provider="openai", tools=[weather])
    with pytest.raises(InvalidInput, match="run_tools=False"):
        world.runner.submit(Sweep(id="sw-2", cells=[cell.sent_via("batch")]))
    assert world.api.calls == [] and world.repo.batches() == []

"""ExperimentService with fakes: validation before sending, retries, logging and events."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nbplayground.analytics import CostEstimator
from nbplayground.errors import (
    AuthenticationFailed,
    ContextWindowExceeded,
    InvalidInput,
    InvalidParameter,
    RateLimited,
    ServerFailed,
)
from nbplayground.events import APIRequestLogged, EventBus, ExperimentExecuted, TokenUsageUpdated
from nbplayground.experimentation import ExperimentService, RetryPolicy
from tests.fakes import FakeChatClient, FakeExperimentRepository, FakePriceTable, FakeTokenizer


class World:
    def __init__(self) -> None:
        self.client = FakeChatClient()
        self.repo = FakeExperimentRepository()
        self.bus = EventBus()
        self.events: list[Any] = []
        self.bus.subscribe(object, self.events.append)  # type: ignore[type-abstract]
        self.service = ExperimentService(
            lambda provider: self.client, self.repo,
            CostEstimator(FakeTokenizer(), FakePriceTable()), FakeTokenizer(), self.bus,
            retry=RetryPolicy(max_retries=3, base_delay=0.001, max_delay=0.05))

    def run(self, prompt: Any = "hello there", model: str = "gpt-4o-mini", **kw: Any) -> Any:
        cell = self.service.prepare(user_id="alice", prompt=prompt, model=model,
                                    provider="fake", **kw)
        return asyncio.run(self.service.run_experiment(cell))


@pytest.fixture
def world() -> World:
    return World()


def test_a_run_is_logged_with_its_metrics_and_events(world: World) -> None:
    world.client.enqueue("a short answer")
    exp = world.run(temperature=0.3, max_tokens=20)
    assert exp.ok and exp.response == "a short answer"
    assert exp.metrics.prompt_tokens == 10 and exp.metrics.completion_tokens == 3
    assert exp.metrics.cost_estimate == pytest.approx(10 / 1000 + 2 * 3 / 1000)
    assert world.repo.get(exp.id) == exp
    assert exp.request_body == {"model": "gpt-4o-mini",
                                "messages": [{"role": "user", "content": "hello there"}],
                                "temperature": 0.3, "max_tokens": 20, "top_p": 1.0,
                                "frequency_penalty": 0.0, "presence_penalty": 0.0}
    kinds = [type(e) for e in world.events]
    assert kinds == [APIRequestLogged, ExperimentExecuted, TokenUsageUpdated]


@pytest.mark.parametrize(("params", "needle"), [
    ({"temperature": 3}, "temperature must be between 0 and 2 for gpt-4o-mini"),
    ({"top_p": -0.1}, "top_p must be between 0 and 1"),
    ({"max_tokens": 0}, "max_tokens must be between 1 and 16384"),
    ({"presence_penalty": 2.5}, "presence_penalty must be between -2 and 2"),
    ({"stop": ["a", "b", "c", "d", "e"]}, "at most 4"),
    ({"seed": 1.5}, "seed must be a whole number"),
])
def test_bad_parameters_are_refused_before_any_request(world: World, params: dict[str, Any],
                                                        needle: str) -> None:
    with pytest.raises(InvalidParameter, match=needle):
        world.run(**params)
    assert world.client.history == []


def test_reasoning_models_refuse_temperature_and_take_max_completion_tokens(world: World) -> None:
    with pytest.raises(InvalidParameter, match="o4-mini does not accept temperature"):
        world.run(model="o4-mini", temperature=0.5)
    exp = world.run(model="o4-mini", max_tokens=100, reasoning_effort="low")
    assert exp.request_body["max_completion_tokens"] == 100
    assert "max_tokens" not in exp.request_body and "temperature" not in exp.request_body


def test_unknown_models_are_allowed_with_permissive_defaults(world: World) -> None:
    exp = world.run(model="llama3.2:1b", temperature=1.9)
    assert exp.ok and exp.parameters.temperature == 1.9


def test_prompt_over_the_context_window_is_refused_with_numbers(world: World) -> None:
    with pytest.raises(ContextWindowExceeded, match="8192"):
        world.run(model="gpt-4", prompt="word " * 8000, max_tokens=500)
    assert world.client.history == []


@pytest.mark.parametrize("prompt", ["", "   ", "nul\x00byte", 42, [], [{"role": "user"}]])
def test_bad_prompts_are_refused(world: World, prompt: Any) -> None:
    with pytest.raises(InvalidInput):
        world.run(prompt=prompt)


def test_retryable_faults_are_retried_and_every_attempt_logged(world: World) -> None:
    world.client.enqueue(RateLimited("429", status_code=429, retry_after=0.01),
                         ServerFailed("500", status_code=500), "finally")
    exp = world.run()
    assert exp.ok and exp.response == "finally"
    attempts = [r for r in world.repo.api_requests if r.experiment_id == exp.id]
    assert [(r.attempt, r.status_code) for r in attempts] == [(0, 429), (1, 500), (2, 200)]


def test_a_fatal_fault_is_an_error_row_not_an_exception(world: World) -> None:
    world.client.enqueue(AuthenticationFailed("refused", status_code=401))
    exp = world.run()
    assert exp.status == "error" and exp.error_type == "AuthenticationFailed"
    assert world.repo.get(exp.id) is not None
    assert len(world.client.history) == 1  # not retried


def test_retries_give_up_after_the_policy(world: World) -> None:
    world.client.enqueue(*[ServerFailed("down", status_code=503)] * 10)
    exp = world.run()
    assert exp.status == "error"
    assert len(world.client.history) == 4  # 1 + max_retries


def test_unpriced_models_cost_none_not_zero(world: World) -> None:
    exp = world.run(model="unpriced-model")
    assert exp.metrics.cost_estimate is None


def test_conversations_and_system_messages(world: World) -> None:
    exp = world.run(prompt=[{"role": "user", "content": "hi"},
                            {"role": "assistant", "content": "hello"},
                            {"role": "user", "content": "again"}], system="be brief")
    assert [m.role for m in exp.messages] == ["system", "user", "assistant", "user"]
    assert exp.prompt == "again" and exp.system == "be brief"


def test_rate_limits_get_more_patience_than_failures(world: World) -> None:
    world.client.enqueue(*[RateLimited("429", status_code=429, retry_after=0.001)] * 6, "late")
    assert world.run().response == "late"
    world.client.enqueue(*[RateLimited("429", status_code=429, retry_after=0.001)] * 20)
    exp = world.run()
    assert exp.status == "error" and exp.error_type == "RateLimited"
    assert len(world.client.history) == 7 + 9  # 1 + 8 retries for the second run


def test_retry_after_is_a_floor_with_jitter() -> None:
    policy = RetryPolicy()
    delays = {policy.delay(0, 1.0) for _ in range(50)}
    assert all(1.0 <= d <= 1.25 for d in delays) and len(delays) > 1

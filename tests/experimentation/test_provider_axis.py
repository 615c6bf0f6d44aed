"""provider= as a sweep axis: the grid pairs or crosses it, and the runner gives each cell its own
provider's client, budget hold and rate limiter (fakes; the real pair is in tests/adapters)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nbplayground.analytics import CostEstimator
from nbplayground.errors import InvalidInput
from nbplayground.events import EventBus
from nbplayground.experimentation import ExperimentService, RetryPolicy
from nbplayground.experimentation.grid import expand
from nbplayground.experimentation.sweep import Sweep, SweepRunner
from nbplayground.experimentation.throttle import Limiters, RateLimiter
from tests.fakes import FakeChatClient, FakeExperimentRepository, FakePriceTable, FakeTokenizer


def test_zip_pairs_each_provider_with_its_model() -> None:
    cells = expand("p", ["smollm2", "gpt-4o"], system=None, repeats=1, params={},
                   mode="zip", provider=["local", "simulated"])
    assert [(c.provider, c.model) for c in cells] == [("local", "smollm2"),
                                                       ("simulated", "gpt-4o")]


def test_cross_crosses_providers_with_models_and_one_provider_is_not_an_axis() -> None:
    cells = expand("p", ["m1", "m2"], system=None, repeats=2, params={"temperature": [0, 1]},
                   provider=["openai", "simulated"])
    assert len(cells) == 2 * 2 * 2 * 2
    assert {(c.provider, c.model) for c in cells} == {
        (p, m) for p in ("openai", "simulated") for m in ("m1", "m2")}
    assert {c.provider for c in expand("p", "m", system=None, repeats=1, params={},
                                       provider="local")} == {"local"}
    assert {c.provider for c in expand("p", "m", system=None, repeats=1, params={})} == {None}


def test_no_model_leaves_each_provider_its_default() -> None:
    cells = expand("p", None, system=None, repeats=1, params={}, mode="zip",
                   provider=["local", "simulated"])
    assert [(c.provider, c.model) for c in cells] == [("local", None), ("simulated", None)]


@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"provider": ["local", "simulated", "openai"], "model": ["a", "b"], "mode": "zip"},
     "same length"),
    ({"provider": []}, "provider must be a provider name or a list"),
    ({"provider": [3]}, "provider must be a provider name or a list"),
])
def test_bad_provider_axes_are_refused(kwargs: dict[str, Any], needle: str) -> None:
    kwargs.setdefault("model", "m")
    with pytest.raises(InvalidInput, match=needle):
        expand("p", system=None, repeats=1, params={}, **kwargs)


class RecordingGate:
    """A Gate that holds nothing but records what it was asked, per provider."""

    def __init__(self, rpm: dict[str, int]) -> None:
        self.rpm = rpm
        self.asked: list[tuple[str, int]] = []
        self.open: list[Any] = []

    def reserve(self, user_id: str, needed: float, *, tokens: int = 0,
                provider: str = "openai", what: str = "this run") -> Any:
        gate = self

        class Held:
            rpm = gate.rpm.get(provider)
            settled = 0.0

            def settle(self, usd: float, tokens: int = 0) -> None:
                self.settled += usd

            def release(self) -> None:
                gate.open.remove(self)

        self.asked.append((provider, tokens))
        hold = Held()
        self.open.append(hold)
        return hold

    def check(self, *args: Any, **kwargs: Any) -> None:
        return None


class SpyLimiters(Limiters):
    def __init__(self) -> None:
        super().__init__()
        self.made: list[tuple[float | None, RateLimiter]] = []

    def new(self, rpm: float | None = None, tpm: float | None = None) -> RateLimiter:
        limiter = super().new(rpm, tpm)
        self.made.append((rpm, limiter))
        return limiter


class Mixed:
    def __init__(self) -> None:
        self.clients = {"local": FakeChatClient("local", latency=0.001),
                        "openai": FakeChatClient("openai", "http://127.0.0.1:9/v1",
                                                 latency=0.001)}
        self.gate = RecordingGate({"openai": 120})
        self.limiters = SpyLimiters()
        self.repo = FakeExperimentRepository()
        self.service = ExperimentService(
            self.clients.__getitem__, self.repo,
            CostEstimator(FakeTokenizer(), FakePriceTable()), FakeTokenizer(), EventBus(),
            retry=RetryPolicy(max_retries=0), gate=self.gate, limiters=self.limiters)
        self.sent: list[tuple[str, int]] = []
        execute = self.service.execute

        async def spy(cell: Any, **kwargs: Any) -> Any:
            self.sent.append((cell.provider, id(kwargs["limiter"])))
            return await execute(cell, **kwargs)

        self.service.execute = spy  # type: ignore[method-assign]

    def sweep(self, providers: list[str]) -> Sweep:
        cells = [self.service.prepare(user_id="alice", prompt=f"p{i}", model="gpt-4o-mini",
                                      provider=p, index=i) for i, p in enumerate(providers)]
        return asyncio.run(SweepRunner(self.service).run(
            Sweep(id="sw-mixed", cells=[c.in_sweep("sw-mixed") for c in cells]),
            concurrency=4))


def test_each_cell_goes_to_its_own_providers_client() -> None:
    world = Mixed()
    sw = world.sweep(["local", "openai"] * 4)
    assert sw.count("ok") == 8 and sw.status == "done"
    assert [r.provider for r in sw.results] == ["local", "openai"] * 4  # type: ignore[union-attr]
    assert len(world.clients["local"].history) == len(world.clients["openai"].history) == 4
    # The local model answers one at a time; the other provider's cells go on beside it.
    assert world.clients["local"].max_in_flight == 1
    assert world.clients["openai"].max_in_flight > 1
    assert {e.provider for e in world.repo.experiments.values()} == {"local", "openai"}
    openai_row = next(e for e in world.repo.experiments.values() if e.provider == "openai")
    assert openai_row.base_url == "http://127.0.0.1:9/v1"


def test_each_provider_has_its_own_hold_and_rate_limiter() -> None:
    world = Mixed()
    world.sweep(["local", "openai", "openai"])
    assert [p for p, _ in world.gate.asked] == ["local", "openai"]
    assert world.gate.open == []  # every hold released
    # The plan's rpm limits the provider it was given for, not the local model.
    assert sorted((rpm or 0) for rpm, _ in world.limiters.made) == [0, 120]
    by_provider: dict[str, set[int]] = {}
    for provider, limiter in world.sent:
        by_provider.setdefault(provider, set()).add(limiter)
    assert len(by_provider["openai"]) == len(by_provider["local"]) == 1
    assert by_provider["openai"] != by_provider["local"]

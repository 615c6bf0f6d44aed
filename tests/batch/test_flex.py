"""service_tier="flex" on synchronous runs: flex rates, a client timeout long enough for flex,
and a 429 "Resource Unavailable" retried with backoff or (flex_fallback=True) sent again at the
default tier."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nbplayground import InvalidInput
from nbplayground.adapters.genai_price_table import GenaiPriceTable
from nbplayground.adapters.openai_chat import FLEX_TIMEOUT, OpenAIChatClient
from nbplayground.analytics import CostEstimator
from nbplayground.configuration import Endpoint
from nbplayground.domain import ChatRequest, Message, ModelParameters
from nbplayground.errors import RequestTimedOut
from tests.conftest import TEST_KEY
from tests.fakes import FakeTokenizer
from tests.support.openai_stub import CHAT_PATH, OpenAIStub, error_body

UNAVAILABLE = error_body("Resource Unavailable: flex processing has no capacity right now.",
                         "rate_limit_error", "resource_unavailable")


def standard(exp: Any) -> float:
    m = exp.metrics
    cost = CostEstimator(FakeTokenizer(), GenaiPriceTable()).cost(
        "openai", exp.model, m.prompt_tokens, m.completion_tokens, m.cached_tokens)
    assert cost is not None
    return cost


def test_a_flex_run_is_priced_at_flex_rates(make_pg: Any, stub: OpenAIStub) -> None:
    pg = make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))
    exp = pg.run("Say hi", model="gpt-5-mini", service_tier="flex", max_tokens=40)
    assert stub.requests[-1].body["service_tier"] == "flex"
    assert exp.ok and exp.metrics.price_source == "genai-prices flex rate"
    assert exp.metrics.cost_estimate == pytest.approx(standard(exp) / 2)
    plain = pg.run("Say hi", model="gpt-5-mini", max_tokens=40)
    assert plain.metrics.price_source is None
    assert plain.metrics.cost_estimate == pytest.approx(standard(plain))
    est = pg.estimate(["Say hello"], model="gpt-5-mini", service_tier="flex", max_tokens=40)
    full = pg.estimate(["Say hello"], model="gpt-5-mini", max_tokens=40)
    assert est.max_cost == pytest.approx(full.max_cost / 2)


@pytest.mark.parametrize(("api", "stream"), [("chat", False), ("chat", True),
                                             ("responses", False), ("responses", True)])
def test_flex_requests_wait_longer_than_the_client_timeout(stub: OpenAIStub, api: str,
                                                           stream: bool) -> None:
    assert FLEX_TIMEOUT == 900.0
    client = OpenAIChatClient(api_key=TEST_KEY, base_url=stub.base_url,
                              tokenizer=FakeTokenizer(), timeout=0.3)

    def ask(**fields: Any) -> Any:
        request = ChatRequest(model="gpt-4o-mini", messages=(Message(role="user", content="hi"),),
                              parameters=ModelParameters(max_tokens=5, api=api, **fields),
                              stream=stream)
        stub.stall_next(0.6)  # longer than the client's timeout, far shorter than flex's

        async def once() -> Any:
            try:
                return await client.complete(request)
            finally:
                await client.aclose()

        return asyncio.run(once())

    with pytest.raises(RequestTimedOut):
        ask()
    assert ask(service_tier="flex").text.startswith("Echo: hi")


def test_resource_unavailable_is_retried_at_flex_or_sent_at_the_default_tier(
        make_pg: Any, stub: OpenAIStub) -> None:
    pg = make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))
    stub.fail_next(429, headers={"retry-after-ms": "1"}, body=UNAVAILABLE, times=2)
    waited = pg.run("Say hi", model="gpt-4o-mini", service_tier="flex", max_tokens=5)
    assert waited.ok
    assert [r.body["service_tier"] for r in stub.requests if r.path == CHAT_PATH] == ["flex"] * 3
    assert waited.metrics.price_source is not None  # still flex: half the standard rate
    stub.reset()
    stub.fail_next(429, headers={"retry-after-ms": "60000"}, body=UNAVAILABLE)
    moved = pg.run("Say hi again", model="gpt-4o-mini", service_tier="flex", max_tokens=5,
                   flex_fallback=True)
    assert moved.ok
    assert [r.body["service_tier"] for r in stub.requests if r.path == CHAT_PATH] == [
        "flex", "default"]  # at once: the retry-after of a minute was not waited
    assert moved.metrics.price_source is None  # billed at the default tier
    assert moved.request_body["service_tier"] == "default"  # the body that was answered
    assert pg.get(moved.id).request_body == moved.request_body
    assert moved.metrics.cost_estimate == pytest.approx(standard(moved))
    with pytest.raises(InvalidInput, match="flex_fallback"):
        pg.run("Say hi", service_tier="flex", flex_fallback="yes")


def test_a_flex_sweep_falls_back_cell_by_cell(make_pg: Any, stub: OpenAIStub) -> None:
    pg = make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))
    stub.fail_next(429, headers={"retry-after-ms": "60000"}, body=UNAVAILABLE)
    sw = pg.sweep(["a", "b", "c"], service_tier="flex", flex_fallback=True, max_tokens=5,
                  concurrency=1, progress=False)
    assert sw.count("ok") == 3
    tiers = [r.body["service_tier"] for r in stub.requests if r.path == CHAT_PATH]
    assert tiers == ["flex", "default", "flex", "flex"]
    assert [e.metrics.price_source is None for e in sw.results] == [True, False, False]

"""The simulated provider on both APIs: the same answer, reasoning tokens for reasoning models."""

from __future__ import annotations

import asyncio
from typing import Any

from nbplayground.adapters.simulated_chat import SimulatedChatClient
from nbplayground.adapters.tiktoken_tokenizer import TiktokenTokenizer
from nbplayground.domain import ChatRequest, ChatResult, Message, ModelParameters

TOKENIZER = TiktokenTokenizer()


def run(model: str, api: str = "chat", **params: Any) -> ChatResult:
    request = ChatRequest(model=model, messages=(Message(role="user", content="Tell me"),),
                          parameters=ModelParameters(**params), api=api)  # type: ignore[arg-type]
    client = SimulatedChatClient(TOKENIZER, latency=0.0)
    return asyncio.run(client.complete(request))


def test_the_answer_does_not_depend_on_the_api() -> None:
    chat, responses = run("gpt-4o-mini", temperature=0.0), run("gpt-4o-mini", "responses",
                                                               temperature=0.0)
    assert chat.text == responses.text and chat.completion_tokens == responses.completion_tokens
    assert chat.reasoning_tokens == 0


def test_a_reasoning_model_bills_reasoning_tokens_as_output() -> None:
    result = run("o4-mini", "responses", reasoning_effort="medium")
    assert 32 <= result.reasoning_tokens <= 96
    visible = TOKENIZER.count_text(result.text, "o4-mini")
    assert result.completion_tokens == visible + result.reasoning_tokens
    high = run("o4-mini", "responses", reasoning_effort="high")
    assert high.reasoning_tokens > 0 and run("o4-mini", reasoning_effort="minimal"
                                             ).reasoning_tokens == 0


def test_reasoning_comes_out_of_max_tokens_first() -> None:
    starved = run("o4-mini", "responses", reasoning_effort="xhigh", max_tokens=20)
    assert (starved.text, starved.finish_reason, starved.reasoning_tokens) == ("", "length", 20)
    assert starved.completion_tokens == 20

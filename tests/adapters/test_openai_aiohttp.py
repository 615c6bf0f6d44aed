"""The plain-answer lane on the SDK's aiohttp session (openai_aiohttp.py): used by default, the
same faults and errors as the httpx2 path, and the httpx2 path kept where the lane cannot go."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nbplayground.adapters.openai_aiohttp import AiohttpLane
from nbplayground.adapters.openai_chat import OpenAIChatClient
from nbplayground.adapters.openai_transport import http_client, lane_of, post
from nbplayground.adapters.tiktoken_tokenizer import TiktokenTokenizer
from nbplayground.domain import ChatRequest, Message, ModelParameters
from nbplayground.errors import ConnectionFailed, RateLimited, RequestTimedOut, ServerFailed
from tests.conftest import TEST_KEY
from tests.support.openai_stub import OpenAIStub

TOKENIZER = TiktokenTokenizer()


def request(prompt: str = "Say hi") -> ChatRequest:
    return ChatRequest(model="gpt-4o-mini", messages=[Message(role="user", content=prompt)],
                       parameters=ModelParameters(max_tokens=16))


def complete(stub: OpenAIStub, req: ChatRequest, *, timeout: float = 10) -> tuple[Any, bool]:
    """The result, and whether the client's http client had the lane."""
    async def go() -> tuple[Any, bool]:
        client = OpenAIChatClient(api_key=TEST_KEY, base_url=stub.base_url,
                                  tokenizer=TOKENIZER, timeout=timeout)
        try:
            result = await client.complete(req)
            return result, lane_of(client._http) is not None
        finally:
            await client.aclose()

    return asyncio.run(go())


def test_the_sdks_aiohttp_client_gets_the_lane(stub: OpenAIStub) -> None:
    result, laned = complete(stub, request("lane"))
    assert laned and result.text and result.prompt_tokens > 0
    assert stub.requests[-1].body["messages"][0]["content"] == "lane"


@pytest.mark.parametrize(("fault", "error"), [
    (lambda s: s.fail_next(429, headers={"retry-after-ms": "1500"}), RateLimited),
    (lambda s: s.fail_next(500), ServerFailed),
    (lambda s: s.cut_stream_next(), ConnectionFailed),  # half a body, then the socket closes
])
def test_faults_through_the_lane_are_the_same_typed_errors(
        stub: OpenAIStub, fault: Any, error: type) -> None:
    fault(stub)
    with pytest.raises(error) as info:
        complete(stub, request("fault"))
    assert TEST_KEY not in str(info.value)
    if error is RateLimited:
        assert info.value.retry_after == pytest.approx(1.5)
        assert info.value.request_id == stub.requests[-1].request_id


def test_a_stalled_answer_times_out_through_the_lane(stub: OpenAIStub) -> None:
    stub.stall_next(30.0)  # ended by stop() at teardown; only the client's timeout ends it
    with pytest.raises(RequestTimedOut):
        complete(stub, request(), timeout=0.3)


def test_a_client_with_a_proxy_keeps_the_httpx2_path(stub: OpenAIStub) -> None:
    async def go() -> Any:
        import openai

        proxied = openai.DefaultAioHttpClient(timeout=10, proxy="http://127.0.0.1:9")
        plain = http_client(10)
        try:
            assert AiohttpLane.of(proxied) is None and AiohttpLane.of(plain) is not None
            # the httpx2 path still answers (a client with no lane: the SDK's httpx one)
            httpx_client = openai.DefaultAsyncHttpxClient(timeout=10)
            assert lane_of(httpx_client) is None
            body = {"model": "gpt-4o-mini", "max_tokens": 4,
                    "messages": [{"role": "user", "content": "httpx path"}]}
            answer = await post(httpx_client, f"{stub.base_url}/chat/completions",
                                {"Authorization": f"Bearer {TEST_KEY}"}, body)
            await httpx_client.aclose()
            return answer
        finally:
            await proxied.aclose()
            await plain.aclose()

    answer = asyncio.run(go())
    assert answer.status_code == 200 and b"chat.completion" in answer.content

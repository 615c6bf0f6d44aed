"""OpenAIChatClient over real HTTP against the loopback OpenAI-compatible stub."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from nbplayground.adapters.openai_chat import OpenAIChatClient, retry_after_seconds
from nbplayground.adapters.openai_reading import read_chat
from nbplayground.adapters.tiktoken_tokenizer import TiktokenTokenizer
from nbplayground.domain import ChatRequest, Message, ModelParameters
from nbplayground.errors import (
    AuthenticationFailed,
    BadRequest,
    ConnectionFailed,
    MalformedResponse,
    ModelNotFound,
    RateLimited,
    RequestTimedOut,
    ServerFailed,
)
from tests.conftest import TEST_KEY
from tests.support.openai_stub import OpenAIStub

TOKENIZER = TiktokenTokenizer()


def request(prompt: str = "Say hi", *, stream: bool = False, **params: Any) -> ChatRequest:
    return ChatRequest(model="gpt-4o-mini", messages=(Message(role="user", content=prompt),),
                       parameters=ModelParameters(**params), stream=stream)


def call(stub: OpenAIStub, req: ChatRequest, *, key: str = TEST_KEY, timeout: float = 10,
         deltas: list[str] | None = None) -> Any:
    async def go() -> Any:
        client = OpenAIChatClient(api_key=key, base_url=stub.base_url, tokenizer=TOKENIZER,
                                  timeout=timeout)
        try:
            return await client.complete(req, on_delta=deltas.append if deltas is not None
                                         else None)
        finally:
            await client.aclose()

    return asyncio.run(go())


def test_plain_answer_carries_the_servers_usage_and_request_id(stub: OpenAIStub) -> None:
    result = call(stub, request("Say hi", max_tokens=50, temperature=0.5))
    assert result.text.startswith("Echo: Say hi")
    assert result.prompt_tokens == 2  # the stub counts words
    assert result.completion_tokens == len(result.text.split())
    assert not result.usage_estimated
    assert result.request_id == stub.requests[-1].request_id
    assert result.rate_limit["x-ratelimit-remaining-requests"]
    body = stub.requests[-1].body
    assert body == {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hi"}],
                    "temperature": 0.5, "max_tokens": 50}


def test_streamed_answer_arrives_in_pieces_with_usage(stub: OpenAIStub) -> None:
    deltas: list[str] = []
    result = call(stub, request("Stream this", stream=True), deltas=deltas)
    assert len(deltas) > 3
    assert "".join(deltas) == result.text
    assert result.finish_reason == "stop"
    assert not result.usage_estimated
    assert stub.requests[-1].body["stream_options"] == {"include_usage": True}


def test_stream_without_usage_is_counted_with_tiktoken_and_marked(stub: OpenAIStub) -> None:
    stub.stream_usage = False
    result = call(stub, request("No usage here", stream=True), deltas=[])
    assert result.usage_estimated
    assert result.completion_tokens == TOKENIZER.count_text(result.text, "gpt-4o-mini")


def test_server_rejecting_stream_options_falls_back(stub: OpenAIStub) -> None:
    stub.reject_stream_options = True
    result = call(stub, request("fallback", stream=True), deltas=[])
    assert result.text.startswith("Echo: fallback")
    assert result.usage_estimated
    assert "stream_options" not in stub.requests[-1].body


def test_max_tokens_cut_reports_length(stub: OpenAIStub) -> None:
    result = call(stub, request("one two three four five six", max_tokens=3))
    assert result.finish_reason == "length"
    assert result.completion_tokens == 3


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (lambda s: s.fail_next(429, headers={"retry-after-ms": "1500"}), RateLimited),
        (lambda s: s.fail_next(500), ServerFailed),
        (lambda s: s.malformed_next(), MalformedResponse),
        (lambda s: s.cut_stream_next(after_chunks=3), ConnectionFailed),
    ],
)
def test_faults_become_typed_errors(stub: OpenAIStub, fault: Any, error: type) -> None:
    fault(stub)
    stream = error is ConnectionFailed
    with pytest.raises(error) as info:
        call(stub, request("fault", stream=stream), deltas=[] if stream else None)
    if error is RateLimited:
        assert info.value.retry_after == pytest.approx(1.5)
        assert info.value.retryable
    if error is ConnectionFailed:
        assert info.value.partial_text  # what arrived before the cut is kept


def test_plain_answers_are_sent_with_the_sdks_own_headers(stub: OpenAIStub) -> None:
    import openai

    call(stub, request("headers"))
    headers = stub.requests[-1].headers
    assert headers["user-agent"] == f"AsyncOpenAI/Python {openai.__version__}"
    assert headers["x-stainless-lang"] == "python"
    assert headers["x-stainless-async"] == "async:asyncio"
    assert headers["content-type"] == "application/json"
    assert headers["authorization"] == f"Bearer {TEST_KEY}"
    assert "openai-organization" not in headers  # the SDK's Omit() is not sent as text


@pytest.mark.parametrize(("status", "body", "error", "words"), [
    (400, None, BadRequest, "Injected failure (HTTP 400)"),
    (403, None, AuthenticationFailed, "refused the API key (403)"),
    (409, None, BadRequest, "answered 409"),
    (422, None, BadRequest, "rejected the request (422)"),
    (503, b"<html>upstream gone</html>", ServerFailed, "upstream gone"),
    (502, b"<html>" + b"x" * 20_000, ServerFailed, "<html>xxx"),
])
def test_error_statuses_become_the_errors_the_sdk_would_raise(
        stub: OpenAIStub, status: int, body: bytes | None, error: type, words: str) -> None:
    stub.fail_next(status, body=body)
    with pytest.raises(error) as info:
        call(stub, request())
    assert words in str(info.value)
    assert len(str(info.value)) < 500  # a proxy's whole page is not an error message
    assert info.value.status_code == status
    assert info.value.request_id == stub.requests[-1].request_id


@pytest.mark.parametrize("stream", [False, True])
def test_a_refused_connection_is_not_called_a_timeout(stream: bool) -> None:
    async def go() -> None:
        client = OpenAIChatClient(api_key=TEST_KEY, base_url="http://127.0.0.1:1/v1",
                                  tokenizer=TOKENIZER, timeout=10)
        try:
            await client.complete(request(stream=stream), on_delta=(lambda _: None))
        finally:
            await client.aclose()

    with pytest.raises(ConnectionFailed) as info:
        asyncio.run(go())
    assert "could not reach http://127.0.0.1:1/v1" in str(info.value)
    assert TEST_KEY not in str(info.value)


def test_timeout_is_typed_and_retryable(stub: OpenAIStub) -> None:
    stub.stall_next(30.0)  # ended by stop() at teardown; only the client's timeout ends it
    with pytest.raises(RequestTimedOut) as info:
        call(stub, request(), timeout=0.3)
    assert info.value.retryable


def test_wrong_key_is_refused_in_plain_words_without_the_key(stub: OpenAIStub) -> None:
    wrong = "sk-wrong-KEY-9876543210zyxwvutsrq"
    with pytest.raises(AuthenticationFailed) as info:
        call(stub, request(), key=wrong)
    text = str(info.value)
    assert "refused the API key" in text
    assert wrong not in text and wrong[-4:] not in text and "sk-" not in text


def test_unknown_model_is_model_not_found(stub: OpenAIStub) -> None:
    stub.strict_models = True
    with pytest.raises(ModelNotFound):
        call(stub, ChatRequest(model="no-such-model",
                               messages=(Message(role="user", content="x"),)))


def test_models_lists_the_endpoints_models(stub: OpenAIStub) -> None:
    client = OpenAIChatClient(api_key=TEST_KEY, base_url=stub.base_url, tokenizer=TOKENIZER)
    assert "gpt-4o-mini" in client.models()


def test_client_repr_never_shows_the_key() -> None:
    client = OpenAIChatClient(api_key=TEST_KEY, base_url="http://127.0.0.1:1/v1",
                              tokenizer=TOKENIZER)
    assert TEST_KEY not in repr(client) and TEST_KEY not in str(vars(client).keys())


def test_retry_after_parsing() -> None:
    assert retry_after_seconds({"retry-after-ms": "250"}) == pytest.approx(0.25)
    assert retry_after_seconds({"retry-after": "2"}) == 2.0
    assert retry_after_seconds({}) is None


def chat_completion(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10,
                  "prompt_tokens_details": {"cached_tokens": 4}}}
    body.update(overrides)
    return body


def test_answers_are_read_from_the_json_with_usage_and_cached_tokens() -> None:
    reading = read_chat(json.dumps(chat_completion()).encode())
    assert (reading.text, reading.finish_reason, reading.model, reading.usage) == (
        "Hello", "stop", "gpt-4o-mini-2024-07-18", (9, 1, 4, 0))
    no_usage = chat_completion(usage=None)
    assert read_chat(json.dumps(no_usage).encode()).usage is None  # counted by tiktoken later
    refusal = chat_completion(choices=[{"message": {"role": "assistant", "content": None,
                                                    "refusal": "no"}, "finish_reason": "stop"}])
    assert read_chat(json.dumps(refusal).encode()).text == ""
    assert read_chat(json.dumps(refusal).encode()).refusal == "no"
    details_null = chat_completion(usage={"prompt_tokens": 2, "completion_tokens": 3,
                                          "prompt_tokens_details": None})
    assert read_chat(json.dumps(details_null).encode()).usage == (2, 3, 0, 0)


@pytest.mark.parametrize("body", [
    b"<html>502 Bad Gateway</html>",
    b"[1, 2]",
    json.dumps(chat_completion(choices=[])).encode(),
    json.dumps(chat_completion(choices=["text"])).encode(),
    json.dumps(chat_completion(choices=[{"message": {"content": 7}}])).encode(),
    json.dumps(chat_completion(model=["a"])).encode(),
    json.dumps(chat_completion(usage={"prompt_tokens": -1, "completion_tokens": 2})).encode(),
    json.dumps(chat_completion(usage={"prompt_tokens": "9", "completion_tokens": 2})).encode(),
    json.dumps(chat_completion(usage={"prompt_tokens": True, "completion_tokens": 2})).encode(),
])
def test_anything_but_a_chat_completion_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedResponse):
        read_chat(body)

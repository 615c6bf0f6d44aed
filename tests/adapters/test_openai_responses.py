"""OpenAIChatClient on the Responses API, over real HTTP against the loopback stub."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from pydantic import Field

from nbplayground.adapters.openai_chat import OpenAIChatClient
from nbplayground.adapters.openai_responses import read_response, sdk_kwargs
from nbplayground.adapters.tiktoken_tokenizer import TiktokenTokenizer
from nbplayground.domain import ChatRequest, Message, ModelParameters
from nbplayground.errors import (
    ApiNotSupported,
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
WHERE = "http://127.0.0.1:9/v1"


class Wider(ChatRequest):
    """A request with body fields the field table may not have yet (tools, formats, include):
    the adapter sends request.body(), whatever is in it."""

    extra: dict[str, Any] = Field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {**super().body(), **self.extra}


def request(prompt: str = "Say hi", *, model: str = "gpt-4o-mini", stream: bool = False,
            api: str = "responses", extra: dict[str, Any] | None = None,
            **params: Any) -> ChatRequest:
    return Wider(model=model, messages=(Message(role="user", content=prompt),),
                 parameters=ModelParameters(**params), stream=stream, api=api,  # type: ignore[arg-type]
                 extra=extra or {})


def call(stub: OpenAIStub, req: ChatRequest, *, timeout: float = 10,
         deltas: list[str] | None = None) -> Any:
    async def go() -> Any:
        client = OpenAIChatClient(api_key=TEST_KEY, base_url=stub.base_url, tokenizer=TOKENIZER,
                                  timeout=timeout)
        try:
            return await client.complete(req, on_delta=deltas.append if deltas is not None
                                         else None)
        finally:
            await client.aclose()

    return asyncio.run(go())


@pytest.mark.parametrize("stream", [False, True])
def test_an_answer_arrives_with_the_servers_usage_and_the_exact_body(
        stub: OpenAIStub, stream: bool) -> None:
    stub.cached_tokens = 2
    req = request("Say hi to the world", stream=stream, max_tokens=50, temperature=0.5)
    deltas: list[str] = []
    result = call(stub, req, deltas=deltas if stream else None)
    assert result.text.startswith("Echo: Say hi to the world")
    assert (result.prompt_tokens, result.cached_tokens) == (5, 2)
    assert result.completion_tokens == len(result.text.split())
    assert result.finish_reason == "stop"
    assert result.response_model == "gpt-4o-mini"
    assert not result.usage_estimated and result.reasoning_tokens == 0
    assert result.request_id == stub.requests[-1].request_id
    assert result.rate_limit["x-ratelimit-remaining-requests"]
    seen = stub.requests[-1]
    assert seen.path == "/v1/responses"
    assert seen.body == ({**req.body(), "stream": True} if stream else req.body())
    assert seen.body["max_output_tokens"] == 50 and "messages" not in seen.body
    if stream:
        assert len(deltas) > 3 and "".join(deltas) == result.text


@pytest.mark.parametrize("stream", [False, True])
def test_reasoning_tokens_are_counted_as_output(stub: OpenAIStub, stream: bool) -> None:
    req = request("think", model="o4-mini", stream=stream, reasoning_effort="high")
    result = call(stub, req, deltas=[] if stream else None)
    assert stub.requests[-1].body["reasoning"] == {"effort": "high"}
    assert result.reasoning_tokens == 16  # the stub's 8 per request, doubled for "high"
    assert result.completion_tokens == len(result.text.split()) + 16


@pytest.mark.parametrize("stream", [False, True])
def test_max_output_tokens_cut_is_a_length_finish(stub: OpenAIStub, stream: bool) -> None:
    result = call(stub, request("one two three four", stream=stream, max_tokens=3),
                  deltas=[] if stream else None)
    assert result.finish_reason == "length"
    assert result.text == "Echo: one two"
    assert result.completion_tokens == 3


def test_reasoning_that_uses_the_whole_limit_leaves_no_text(stub: OpenAIStub) -> None:
    result = call(stub, request("x", model="o4-mini", max_tokens=5))
    assert (result.text, result.finish_reason, result.reasoning_tokens) == ("", "length", 5)


@pytest.mark.parametrize("stream", [False, True])
def test_a_refusal_is_its_own_field_not_the_text(stub: OpenAIStub, stream: bool) -> None:
    stub.refuse_with = "I can't help with that."
    deltas: list[str] = []
    result = call(stub, request("bad idea", stream=stream), deltas=deltas if stream else None)
    assert result.refusal == "I can't help with that."
    assert result.text == "" and deltas == []
    assert result.finish_reason == "stop"


@pytest.mark.parametrize("api", ["chat", "responses"])
@pytest.mark.parametrize("stream", [False, True])
def test_tool_calls_come_back_as_plain_data_on_both_apis(
        stub: OpenAIStub, api: str, stream: bool) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"},
                                               "days": {"type": "integer"}},
              "required": ["city", "days"]}
    tool: dict[str, Any] = {"type": "function", "name": "get_weather", "parameters": schema}
    if api == "chat":
        tool = {"type": "function", "function": {"name": "get_weather", "parameters": schema}}
    result = call(stub, request("please call get_weather", api=api, stream=stream,
                                extra={"tools": [tool]}), deltas=[] if stream else None)
    assert result.finish_reason == "tool_calls"
    assert result.tool_calls == ({"id": "call_stub0", "name": "get_weather",
                                  "arguments": json.dumps({"city": "city example", "days": 1})},)
    assert result.text == ""


@pytest.mark.parametrize("api", ["chat", "responses"])
@pytest.mark.parametrize("stream", [False, True])
def test_logprobs_come_back_per_token_on_both_apis(
        stub: OpenAIStub, api: str, stream: bool) -> None:
    extra: dict[str, Any] = {"top_logprobs": 2}
    extra |= ({"logprobs": True} if api == "chat"
              else {"include": ["message.output_text.logprobs"]})
    result = call(stub, request("probabilities", api=api, stream=stream, extra=extra),
                  deltas=[] if stream else None)
    assert result.logprobs is not None
    assert "".join(p["token"] for p in result.logprobs) == result.text
    first = result.logprobs[0]
    assert first["logprob"] == pytest.approx(-0.05)
    assert [t["token"] for t in first["top_logprobs"]] == ["Echo:", " beta"]
    assert call(stub, request("none asked", api=api)).logprobs is None


def test_a_json_schema_answer_is_the_schemas_instance(stub: OpenAIStub) -> None:
    fmt = {"type": "json_schema", "name": "person", "strict": True,
           "schema": {"type": "object", "properties": {"name": {"type": "string"},
                                                       "age": {"type": "integer"}}}}
    result = call(stub, request("who", extra={"text": {"format": fmt}}))
    assert json.loads(result.text) == {"name": "name example", "age": 1}


@pytest.mark.parametrize(
    ("fault", "error", "stream"),
    [
        (lambda s: s.fail_next(429, headers={"retry-after-ms": "1500"}), RateLimited, False),
        (lambda s: s.fail_next(429, headers={"retry-after": "2"}), RateLimited, True),
        (lambda s: s.fail_next(500), ServerFailed, False),
        (lambda s: s.fail_next(500), ServerFailed, True),
        (lambda s: s.malformed_next(), MalformedResponse, False),
        (lambda s: s.malformed_next(), MalformedResponse, True),
        (lambda s: s.cut_stream_next(after_chunks=6), ConnectionFailed, True),
        (lambda s: s.cut_stream_next(), ConnectionFailed, False),
        (lambda s: s.fail_response_next("server_error"), ServerFailed, False),
        (lambda s: s.fail_response_next("server_error"), ServerFailed, True),
        (lambda s: s.fail_response_next("rate_limit_exceeded"), RateLimited, True),
        (lambda s: s.fail_response_next("invalid_prompt"), BadRequest, False),
    ],
)
def test_faults_on_the_responses_path_become_typed_errors(
        stub: OpenAIStub, fault: Any, error: type, stream: bool) -> None:
    fault(stub)
    with pytest.raises(error) as info:
        call(stub, request("fault on the responses path", stream=stream),
             deltas=[] if stream else None)
    assert stub.requests[-1].path == "/v1/responses"
    assert info.value.request_id == stub.requests[-1].request_id or error is ConnectionFailed
    if error is RateLimited and info.value.status_code == 429:
        assert info.value.retry_after == pytest.approx(1.5 if not stream else 2.0)
    if error is ConnectionFailed and stream:
        assert info.value.partial_text == "Echo: fault"  # the two deltas before the cut
    if error is BadRequest:
        assert not info.value.retryable and "invalid_prompt" in str(info.value)


def test_a_stall_past_the_timeout_is_a_retryable_timeout(stub: OpenAIStub) -> None:
    stub.stall_next(2.0)
    with pytest.raises(RequestTimedOut) as info:
        call(stub, request(), timeout=0.3)
    assert info.value.retryable


@pytest.mark.parametrize("stream", [False, True])
def test_a_server_without_the_responses_api_says_to_use_chat(
        stub: OpenAIStub, stream: bool) -> None:
    stub.responses_api = False
    with pytest.raises(ApiNotSupported) as info:
        call(stub, request(stream=stream), deltas=[] if stream else None)
    assert 'api="chat"' in str(info.value)
    assert not info.value.retryable and info.value.status_code == 404
    assert isinstance(info.value, BadRequest)
    assert call(stub, request(api="chat")).text.startswith("Echo: Say hi")  # chat still works


def test_an_unknown_model_on_the_responses_api_is_still_model_not_found(
        stub: OpenAIStub) -> None:
    stub.strict_models = True
    with pytest.raises(ModelNotFound):
        call(stub, request(model="no-such-model"))


def test_fields_this_sdk_has_no_parameter_for_still_reach_the_wire(stub: OpenAIStub) -> None:
    assert sdk_kwargs({"model": "m", "future_field": 1}) == {
        "model": "m", "extra_body": {"future_field": 1}}
    call(stub, request(stream=True, extra={"future_field": {"x": 1}}), deltas=[])
    assert stub.requests[-1].body["future_field"] == {"x": 1}


def response_object(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "resp_1", "object": "response", "status": "completed", "model": "gpt-5-mini",
        "output": [{"type": "reasoning", "id": "rs_1", "summary": []},
                   {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                    "content": [{"type": "output_text", "text": "Hel", "annotations": []},
                                {"type": "output_text", "text": "lo", "annotations": []}]}],
        "usage": {"input_tokens": 9, "input_tokens_details": {"cached_tokens": 4},
                  "output_tokens": 30, "output_tokens_details": {"reasoning_tokens": 28},
                  "total_tokens": 39}}
    body.update(overrides)
    return body


def test_a_response_object_is_read_with_every_count() -> None:
    reading = read_response(response_object(), where=WHERE, api_key=None)
    assert (reading.text, reading.finish_reason, reading.model) == ("Hello", "stop", "gpt-5-mini")
    assert reading.usage == (9, 30, 4, 28)
    filtered = response_object(status="incomplete",
                               incomplete_details={"reason": "content_filter"})
    assert read_response(filtered, where=WHERE, api_key=None).finish_reason == "content_filter"
    assert read_response(response_object(usage=None), where=WHERE, api_key=None).usage is None


@pytest.mark.parametrize("data", [
    [1, 2],
    {"object": "response"},
    response_object(output="text"),
    response_object(model=["a"]),
    response_object(usage={"input_tokens": -1, "output_tokens": 2}),
    response_object(usage={"input_tokens": "9", "output_tokens": 2}),
])
def test_anything_but_a_response_is_malformed(data: Any) -> None:
    with pytest.raises(MalformedResponse):
        read_response(data, where=WHERE, api_key=None)


def test_a_failed_response_never_shows_the_key() -> None:
    key = "sk-secret-abcdefghijklmnop1234"
    failed = response_object(status="failed",
                             error={"code": "server_error", "message": f"bad key {key}"})
    with pytest.raises(ServerFailed) as info:
        read_response(failed, where=WHERE, api_key=key)
    assert key not in str(info.value) and info.value.retryable

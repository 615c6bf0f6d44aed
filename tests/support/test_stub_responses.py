"""The stub's /v1/responses and its new chat answers, checked against openai-python's own types."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from openai import OpenAI
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter

from tests.support.openai_stub import OpenAIStub
from tests.support.stub_answers import example

KEY = "sk-test-1234567890abcd"
EVENTS: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)
WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


@pytest.fixture
def stub() -> Iterator[OpenAIStub]:
    with OpenAIStub(api_key=KEY) as server:
        yield server
        assert server.errors == []


@pytest.fixture
def client(stub: OpenAIStub) -> Iterator[OpenAI]:
    with OpenAI(base_url=stub.base_url, api_key=KEY, max_retries=0) as sdk:
        yield sdk


def raw_response(client: OpenAI, **body: Any) -> dict[str, Any]:
    raw = client.responses.with_raw_response.create(**body)
    data: dict[str, Any] = json.loads(raw.http_response.content)
    Response.model_validate(data)  # strict shape check, not the SDK's lenient construct()
    return data


def stream_events(client: OpenAI, **body: Any) -> list[dict[str, Any]]:
    raw = client.responses.with_raw_response.create(stream=True, **body)
    events = []
    for line in raw.http_response.iter_lines():
        if line.startswith("data: "):
            event = json.loads(line.removeprefix("data: "))
            EVENTS.validate_python(event)
            events.append(event)
    return events


def test_a_plain_response_is_a_real_response_object(stub: OpenAIStub, client: OpenAI) -> None:
    stub.cached_tokens = 1
    data = raw_response(client, model="gpt-4o-mini", input="hello there",
                        instructions="Be brief.")
    assert data["object"] == "response" and data["status"] == "completed"
    assert data["id"].startswith("resp_")
    [message] = data["output"]
    assert message["type"] == "message" and message["role"] == "assistant"
    assert message["content"][0]["text"].startswith("Echo: hello there alpha")
    usage = data["usage"]
    assert (usage["input_tokens"], usage["input_tokens_details"]["cached_tokens"]) == (4, 1)
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert stub.requests[-1].path == "/v1/responses"


def test_a_reasoning_model_answers_with_a_reasoning_item(client: OpenAI) -> None:
    data = raw_response(client, model="o4-mini", input="why", reasoning={"effort": "low"})
    assert [item["type"] for item in data["output"]] == ["reasoning", "message"]
    assert data["usage"]["output_tokens_details"]["reasoning_tokens"] == 4


def test_max_output_tokens_makes_an_incomplete_response(client: OpenAI) -> None:
    data = raw_response(client, model="gpt-4o-mini", input="a b c d", max_output_tokens=2)
    assert data["status"] == "incomplete"
    assert data["incomplete_details"] == {"reason": "max_output_tokens"}
    assert data["output"][0]["content"][0]["text"] == "Echo: a"


def test_the_stream_sends_the_real_event_names_in_order(client: OpenAI) -> None:
    events = stream_events(client, model="gpt-4o-mini", input="one two")
    kinds = [e["type"] for e in events]
    assert kinds[:5] == ["response.created", "response.in_progress",
                         "response.output_item.added", "response.content_part.added",
                         "response.output_text.delta"]
    assert kinds[-4:] == ["response.output_text.done", "response.content_part.done",
                          "response.output_item.done", "response.completed"]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert text == events[-1]["response"]["output"][0]["content"][0]["text"]


def test_the_sdk_reads_the_stream_into_its_typed_events(client: OpenAI) -> None:
    with client.responses.stream(model="o4-mini", input="typed please") as stream:
        final = stream.get_final_response()
    assert final.output_text.startswith("Echo: typed please")
    assert final.usage is not None and final.usage.output_tokens_details.reasoning_tokens == 8


def test_a_failed_response_streams_response_failed(stub: OpenAIStub, client: OpenAI) -> None:
    stub.fail_response_next("server_error", "it broke")
    events = stream_events(client, model="gpt-4o-mini", input="x")
    assert [e["type"] for e in events][-1] == "response.failed"
    assert events[-1]["response"]["error"] == {"code": "server_error", "message": "it broke"}
    stub.fail_response_next("server_error")
    assert raw_response(client, model="gpt-4o-mini", input="x")["status"] == "failed"
    assert raw_response(client, model="gpt-4o-mini", input="x")["status"] == "completed"


def test_tool_calls_and_their_outputs_on_the_responses_api(client: OpenAI) -> None:
    tools = [{"type": "function", "name": "get_weather", "parameters": WEATHER}]
    data = raw_response(client, model="gpt-4o-mini", input="call get_weather", tools=tools)
    [call] = data["output"]
    assert call["type"] == "function_call" and call["name"] == "get_weather"
    assert json.loads(call["arguments"]) == {"city": "city example"}
    follow_up = [{"role": "user", "content": "call get_weather"}, call,
                 {"type": "function_call_output", "call_id": call["call_id"], "output": "sunny"}]
    again = raw_response(client, model="gpt-4o-mini", input=follow_up, tools=tools)
    assert again["output"][0]["content"][0]["text"] == "Tool result: sunny"
    events = stream_events(client, model="gpt-4o-mini", input="call get_weather", tools=tools)
    assert "response.function_call_arguments.done" in [e["type"] for e in events]
    none = raw_response(client, model="gpt-4o-mini", input="call get_weather", tools=tools,
                        tool_choice="none")
    assert none["output"][0]["type"] == "message"


def test_chat_tool_calls_and_a_tool_message_reply(client: OpenAI) -> None:
    tools: Any = [{"type": "function", "function": {"name": "get_weather",
                                                    "parameters": WEATHER}}]
    messages: Any = [{"role": "user", "content": "weather please"}]
    forced = client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, tools=tools,
        tool_choice={"type": "function", "function": {"name": "get_weather"}})
    ChatCompletion.model_validate(forced.model_dump())
    choice = forced.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    assert choice.message.tool_calls is not None
    [call] = choice.message.tool_calls
    messages += [choice.message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": "rain"}]
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=tools)
    assert reply.choices[0].message.content == "Tool result: rain"


def test_chat_streams_tool_calls_logprobs_and_reasoning_usage(client: OpenAI) -> None:
    tools: Any = [{"type": "function", "function": {"name": "lookup", "parameters": {}}}]
    chunks = list(client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "lookup it"}], tools=tools,
        stream=True))
    calls = [c.choices[0].delta.tool_calls for c in chunks if c.choices
             and c.choices[0].delta.tool_calls]
    assert calls[0][0].function.name == "lookup"  # type: ignore[union-attr]
    probs = list(client.chat.completions.create(
        model="o4-mini", messages=[{"role": "user", "content": "p"}], logprobs=True,
        top_logprobs=3, stream=True, stream_options={"include_usage": True}))
    for chunk in probs:
        ChatCompletionChunk.model_validate(chunk.model_dump())
    tokens = [c.choices[0].logprobs.content[0] for c in probs  # type: ignore[index]
              if c.choices and c.choices[0].logprobs]
    assert len(tokens[0].top_logprobs) == 3
    usage = probs[-1].usage
    assert usage is not None and usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 8


def test_chat_json_schema_and_refusal(stub: OpenAIStub, client: OpenAI) -> None:
    schema = {"type": "object", "properties": {"tags": {"type": "array",
                                                        "items": {"type": "string"}}}}
    answer = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "tags"}],
        response_format={"type": "json_schema", "json_schema": {"name": "t", "schema": schema}})
    assert json.loads(answer.choices[0].message.content or "") == {"tags": ["tags example"]}
    stub.refuse_with = "No."
    refused = client.chat.completions.create(model="gpt-4o-mini",
                                             messages=[{"role": "user", "content": "x"}])
    assert refused.choices[0].message.refusal == "No."
    assert refused.choices[0].message.content is None


def test_without_the_responses_api_the_route_is_a_404_like_llama_cpp(
        stub: OpenAIStub, client: OpenAI) -> None:
    stub.responses_api = False
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="gpt-4o-mini", input="x")
    assert stub.requests[-1].status == 404


def test_schema_examples_follow_refs_enums_and_nullable_branches() -> None:
    schema = {"type": "object", "$defs": {"Pet": {"type": "object", "properties": {
        "kind": {"enum": ["cat", "dog"]}, "age": {"anyOf": [{"type": "null"},
                                                            {"type": "integer"}]}}}},
        "properties": {"pet": {"$ref": "#/$defs/Pet"}, "ok": {"type": "boolean"},
                       "w": {"type": ["number", "null"]}, "c": {"const": 3}}}
    assert example(schema, schema) == {"pet": {"kind": "cat", "age": 1}, "ok": True, "w": 1.5,
                                       "c": 3}

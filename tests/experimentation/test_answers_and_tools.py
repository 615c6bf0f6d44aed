"""Structured answers, tool loops and logprobs through ExperimentService, with fakes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel

from nbplayground.domain import ChatResult
from nbplayground.errors import InvalidParameter
from tests.experimentation.test_service import World


class City(BaseModel):
    name: str
    population: int


def untyped(city):  # type: ignore[no-untyped-def]
    """No hints."""
    return city


@pytest.fixture
def world() -> World:
    return World()


def call(id_: str, name: str, **args: Any) -> dict[str, Any]:
    return {"id": id_, "name": name, "arguments": json.dumps(args)}


def test_a_pydantic_answer_is_parsed_into_the_class(world: World) -> None:
    world.client.enqueue('{"name": "Paris", "population": 2100000}')
    exp = world.run(response_format=City)
    assert exp.ok and exp.parsed == City(name="Paris", population=2_100_000)
    body = world.client.history[0].body()
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["strict"] is True
    assert world.repo.get(exp.id) == exp


@pytest.mark.parametrize(("answer", "why"), [
    ("Paris, I think", "not JSON"),
    ('{"name": "Paris"}', "does not validate as City at population"),
    ('{"name": "Paris", "population": "many"}', "population"),
])
def test_an_answer_that_does_not_validate_is_an_error_row(world: World, answer: str,
                                                          why: str) -> None:
    world.client.enqueue(answer)
    exp = world.run(response_format=City)
    assert exp.status == "error" and why in (exp.error or "")
    assert exp.error_type == "AnswerInvalid" and exp.response == answer
    assert world.repo.get(exp.id).status == "error"


def test_a_json_schema_dict_is_checked_and_parsed_as_a_dict(world: World) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    world.client.enqueue('{"n": 3}', '{"n": "three"}')
    assert world.run(response_format=schema).parsed == {"n": 3}
    bad = world.run(response_format=schema)
    assert bad.status == "error" and "at n" in (bad.error or "")


def test_the_tool_loop_calls_the_users_function_and_sends_the_result_back(world: World
                                                                          ) -> None:
    seen: list[tuple[str, str]] = []

    def get_weather(city: str, unit: str = "c") -> str:
        """The weather now.

        Args:
            city: which city
        """
        seen.append((city, unit))
        return f"sunny in {city}"

    world.client.enqueue(
        ChatResult(text="", tool_calls=(call("c1", "get_weather", city="Oslo"),),
                   prompt_tokens=10, completion_tokens=5, finish_reason="tool_calls"),
        ChatResult(text="It is sunny in Oslo.", prompt_tokens=30, completion_tokens=6,
                   finish_reason="stop"))
    exp = world.run("Weather in Oslo?", tools=[get_weather])
    assert exp.ok and exp.response == "It is sunny in Oslo."
    assert seen == [("Oslo", "c")]
    assert [(c.name, c.arguments, c.result) for c in exp.tool_calls] == [
        ("get_weather", {"city": "Oslo"}, "sunny in Oslo")]
    assert (exp.metrics.prompt_tokens, exp.metrics.completion_tokens) == (40, 11)
    second = world.client.history[1].body()["messages"]
    assert second[-2]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert second[-1] == {"role": "tool", "tool_call_id": "c1", "content": "sunny in Oslo"}
    assert len(world.repo.requests(exp.id)) == 2  # every round trip is its own row


def test_a_tool_that_raises_or_gets_bad_arguments_is_an_error_result_not_a_crash(
        world: World) -> None:
    def divide(a: int, b: int) -> float:
        """Divide."""
        return a / b

    world.client.enqueue(
        ChatResult(text="", tool_calls=(call("c1", "divide", a=1, b=0),
                                        call("c2", "divide", a="x", b=1),
                                        call("c3", "rm_rf", path="/"))),
        ChatResult(text="I could not divide.", finish_reason="stop"))
    exp = world.run("1/0?", tools=[divide])
    assert exp.ok
    errors = [c.error for c in exp.tool_calls]
    assert "ZeroDivisionError" in errors[0]
    assert "invalid arguments for divide" in errors[1]
    assert "no callable tool 'rm_rf'" in errors[2]
    back = world.client.history[1].body()["messages"][-3:]
    assert all(m["content"].startswith("error: ") for m in back)


def test_rounds_stop_at_max_tool_rounds_and_run_tools_false_only_records(world: World) -> None:
    def ping() -> str:
        """Ping."""
        return "pong"

    asks = ChatResult(text="", tool_calls=(call("c", "ping"),))
    world.client.enqueue(asks, asks, asks)
    exp = world.run("loop", tools=[ping], max_tool_rounds=2)
    assert len(world.client.history) == 3 and len(exp.tool_calls) == 3
    assert [c.result for c in exp.tool_calls] == ["pong", "pong", None]
    world.client.enqueue(asks)
    quiet = world.run("loop", tools=[ping], run_tools=False)
    assert len(world.client.history) == 4
    assert [(c.name, c.result) for c in quiet.tool_calls] == [("ping", None)]


def test_logprobs_and_reasoning_tokens_reach_the_experiment(world: World) -> None:
    world.client.enqueue(ChatResult(
        text="Hi", prompt_tokens=3, completion_tokens=9, reasoning_tokens=7,
        logprobs=({"token": "Hi", "logprob": -0.2, "top": [["Hi", -0.2], ["Hello", -1.9]]},)))
    exp = world.run(logprobs=True, top_logprobs=2)
    assert exp.metrics.reasoning_tokens == 7
    assert exp.token_logprobs is not None and exp.token_logprobs[0].top[1] == ("Hello", -1.9)
    assert world.repo.get(exp.id).token_logprobs == exp.token_logprobs


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"response_format": 42}, "response_format must be a pydantic model class"),
    ({"tools": [lambda x: x]}, "name"),
    ({"tools": [print]}, "cannot be described"),
    ({"tools": [untyped]}, "argument 'city' has no type hint"),
    ({"tool_choice": "nope", "tools": [{"name": "f", "parameters": {}}]}, "tool_choice"),
    ({"top_logprobs": 2}, "needs logprobs=True"),
    ({"api": "graphql"}, "api must be one of"),
    ({"max_tool_rounds": 0}, "max_tool_rounds"),
])
def test_bad_input_is_refused_before_anything_is_sent(world: World, kwargs: dict[str, Any],
                                                      match: str) -> None:
    with pytest.raises(InvalidParameter, match=match):
        world.run(**kwargs)
    assert world.client.history == []


def test_auto_picks_responses_for_responses_only_models(world: World) -> None:
    world.client.enqueue("ok", "ok")
    world.run(model="o3-pro")
    world.run(model="gpt-4o-mini")
    assert [r.api for r in world.client.history] == ["responses", "chat"]
    assert "input" in world.client.history[0].body()
    with pytest.raises(InvalidParameter, match="served only by the Responses API"):
        world.run(model="gpt-5-pro", api="chat")
    with pytest.raises(InvalidParameter, match="does not take stop; use api='chat'"):
        world.run(model="gpt-4o-mini", api="responses", stop=["\n"])


def png(width: int = 64, height: int = 32, colour: str = "red") -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


def test_images_go_as_content_parts_on_both_apis_and_are_counted(world: World,
                                                                 tmp_path: Any) -> None:
    path = tmp_path / "chart.png"
    path.write_bytes(png(1024, 1024))
    world.client.enqueue("a red square", "a red square")
    plain = world.service.prepare(user_id="alice", prompt="What is this?", model="gpt-4o-mini",
                                  provider="fake")
    cell = world.service.prepare(user_id="alice", prompt="What is this?", model="gpt-4o-mini",
                                 provider="fake", images=[path, "https://example.invalid/a.jpg"])
    # 1024x1024 -> 768x768: four 512-tiles = 85 + 4*170; a URL of unknown size counts the same
    assert cell.prompt_tokens - plain.prompt_tokens == 2 * (85 + 4 * 170)
    parts = cell.request.body()["messages"][-1]["content"]
    assert parts[0] == {"type": "text", "text": "What is this?"}
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert parts[2] == {"type": "image_url", "image_url": {"url": "https://example.invalid/a.jpg"}}
    exp = world.run("What is this?", images=[path, path])
    assert [i.media_type for i in exp.images] == ["image/png", "image/png"]
    assert list(world.repo.attachments) == [exp.images[0].sha256]  # the bytes once per hash
    responses = world.service.prepare(user_id="alice", prompt="What?", model="o3-pro",
                                      provider="fake", images=[png()])
    item = responses.request.body()["input"][-1]["content"]
    assert item[0]["type"] == "input_text" and item[1]["type"] == "input_image"


@pytest.mark.parametrize(("images", "match"), [
    (["/no/such/file.png"], "no image file at"),
    ([b"not an image"], "is not an image"),
    ([42], "must be a path, a URL or bytes"),
])
def test_bad_images_are_refused_before_sending(world: World, images: Any, match: str) -> None:
    from nbplayground.errors import InvalidInput

    with pytest.raises(InvalidInput, match=match):
        world.run(images=images)
    assert world.client.history == []


def test_sweeps_take_the_new_fields_as_axes_and_lists_as_single_values() -> None:
    from nbplayground.experimentation.grid import expand

    tools = [{"name": "f", "parameters": {}}]
    cells = expand("p", ["gpt-5", "gpt-5-mini"], system=None, repeats=1, params={
        "reasoning_effort": ["low", "high"], "verbosity": "low", "tools": tools,
        "images": ["a.png", "b.png"], "service_tier": ["flex", "default"]})
    assert len(cells) == 2 * 2 * 2
    assert all(c.params["tools"] == tools and c.params["images"] == ["a.png", "b.png"]
               for c in cells)
    assert {(c.params["reasoning_effort"], c.params["service_tier"]) for c in cells} == {
        ("low", "flex"), ("low", "default"), ("high", "flex"), ("high", "default")}

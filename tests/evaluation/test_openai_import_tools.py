"""Tool turns in an imported eval's conversations (item_reference) and templates: an assistant
turn's tool_calls and the tool results reach Chat Completions as tool_calls / tool messages and
the Responses API as function_call / function_call_output items (the loopback stub)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from nbplayground import InvalidInput
from nbplayground.configuration import Endpoint
from nbplayground.errors import ConfigurationError
from nbplayground.evaluation.openai_import import InvalidExport, import_eval
from tests.conftest import TEST_KEY
from tests.support.openai_stub import CHAT_PATH, OpenAIStub

T = Path(__file__).parents[1] / "fixtures" / "openai_evals" / "tools"
EVAL = json.loads((T / "eval.json").read_text())
REF = json.loads((T / "run_item_reference.json").read_text())
TPL = json.loads((T / "run_template_responses.json").read_text())
CALLS_17_18 = [{"id": "call_17", "type": "function",
                "function": {"name": "lookup_order", "arguments": '{"order": 17}'}},
               {"id": "call_18", "type": "function",
                "function": {"name": "lookup_order", "arguments": '{"order": 18}'}}]


@pytest.fixture
def pg(make_pg: Any, stub: OpenAIStub) -> Any:
    return make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))


def _bodies(stub: OpenAIStub, path: str) -> list[dict[str, Any]]:
    return [r.body for r in stub.requests if r.path.endswith(path)]


def test_an_items_tool_turns_go_to_chat_as_tool_calls_and_tool_messages(
        pg: Any, stub: OpenAIStub) -> None:
    ev = pg.import_openai_eval(EVAL, run=REF)
    sw = ev.run(model="gpt-4o-mini", progress=False)
    assert sw.count("ok") == 2
    chat = sorted(_bodies(stub, CHAT_PATH), key=lambda b: len(b["messages"]))
    responses_style, chat_style = chat
    assert chat_style["messages"][1:5] == [
        {"role": "user", "content": "Where are orders 17 and 18?"},
        {"role": "assistant", "content": None, "tool_calls": CALLS_17_18},
        {"role": "tool", "tool_call_id": "call_17", "content": '{"status": "shipped"}'},
        {"role": "tool", "tool_call_id": "call_18", "content": '{"status": "packed"}'}]
    # Responses' items in an item become Chat's shapes on Chat Completions.
    assert responses_style["messages"][1:3] == [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_23", "type": "function",
             "function": {"name": "lookup_order", "arguments": '{"order": 23}'}}]},
        {"role": "tool", "tool_call_id": "call_23", "content": '{"status": "returned"}'}]
    # The log keeps the turns whole: a row read back has the same messages.
    for exp in sw.experiments:
        assert pg.get(exp.id).messages == exp.messages


def test_the_same_items_on_the_responses_api_are_function_call_items(
        pg: Any, stub: OpenAIStub) -> None:
    ev = pg.import_openai_eval(EVAL, run=REF)
    ev.run(model="gpt-4o-mini", api="responses", progress=False)
    bodies = sorted(_bodies(stub, "/responses"), key=lambda b: len(b["input"]))
    assert bodies[1]["input"][2:5] == [
        {"type": "function_call", "call_id": "call_17", "name": "lookup_order",
         "arguments": '{"order": 17}'},
        {"type": "function_call", "call_id": "call_18", "name": "lookup_order",
         "arguments": '{"order": 18}'},
        {"type": "function_call_output", "call_id": "call_17",
         "output": '{"status": "shipped"}'}]
    assert bodies[0]["input"][1:3] == [
        {"type": "function_call", "call_id": "call_23", "name": "lookup_order",
         "arguments": '{"order": 23}'},
        {"type": "function_call_output", "call_id": "call_23",
         "output": '{"status": "returned"}'}]


def test_a_template_with_a_call_and_its_result_is_filled_per_item_on_both_apis(
        pg: Any, stub: OpenAIStub) -> None:
    ev = pg.import_openai_eval(EVAL, run=TPL)
    assert ev.prompt is not None
    assert [t.get("role") for t in ev.prompt.messages] == [
        "developer", "user", "assistant", "tool", "user"]
    ev.run(model="gpt-4.1-mini", progress=False)  # the run's own API: Responses
    outputs = sorted(b["input"][3]["output"] for b in _bodies(stub, "/responses"))
    assert outputs == ['{"status": "returned"}', '{"status": "shipped"}']
    assert _bodies(stub, "/responses")[0]["input"][2] == {
        "type": "function_call", "call_id": "call_17", "name": "lookup_order",
        "arguments": '{"order": 17}'}
    ev.run(model="gpt-4.1-mini", api="chat", progress=False)
    sent = _bodies(stub, CHAT_PATH)[0]["messages"]
    assert [m["role"] for m in sent] == ["developer", "user", "assistant", "tool", "user"]
    assert sent[2]["tool_calls"][0]["function"] == {"name": "lookup_order",
                                                    "arguments": '{"order": 17}'}
    assert sent[3]["tool_call_id"] == "call_17"


@pytest.mark.parametrize(("turn", "where", "says"), [
    ({"role": "tool", "content": "x"}, "run.data_source.input_messages.template[2].tool_call_id",
     "call's id"),
    ({"type": "function_call", "call_id": "c1", "arguments": "{}"},
     "run.data_source.input_messages.template[2].function.name", "names its function"),
    ({"type": "function_call_output", "call_id": "c1", "output": "{{item.colour}}"},
     "run.data_source.input_messages.template[2].content", "item.colour"),
])
def test_a_malformed_tool_turn_in_a_template_is_refused_naming_it(
        turn: dict[str, Any], where: str, says: str) -> None:
    run = copy.deepcopy(TPL)
    run["data_source"]["input_messages"]["template"][2] = turn
    with pytest.raises(InvalidExport) as caught:
        import_eval(EVAL, run, sweep=lambda *a, **k: None)
    assert caught.value.where == where and says in str(caught.value)


def test_saved_and_plain_conversations_take_tool_turns_and_the_local_model_refuses(
        pg: Any, stub: OpenAIStub, make_pg: Any) -> None:
    turns = [{"role": "user", "content": "Weather in {city}?"},
             {"role": "assistant", "content": "", "tool_calls": [
                 {"id": "c1", "type": "function",
                  "function": {"name": "weather", "arguments": {"city": "Paris"}}}]},
             {"role": "tool", "tool_call_id": "c1", "content": "sunny in {city}"},
             {"role": "user", "content": "Shorter?"}]
    v = pg.prompts.save("weather", messages=turns, model="gpt-4o-mini")
    assert v.messages[1]["tool_calls"] == [{"id": "c1", "name": "weather",
                                            "arguments": '{"city": "Paris"}'}]
    assert v.fields == ["city"]  # the result is a template; the arguments are JSON
    other = copy.deepcopy(turns)
    other[1]["tool_calls"][0]["function"]["arguments"] = '{"city": "Rome"}'
    pg.prompts.save("weather", messages=other, model="gpt-4o-mini")
    assert '+  [call c1] weather({"city": "Rome"})' in pg.prompts.diff("weather", 1, 2)
    pg.run(v, vars={"city": "Paris"})
    assert stub.requests[-1].body["messages"][2] == {
        "role": "tool", "tool_call_id": "c1", "content": "sunny in Paris"}
    pg.run([{"role": "user", "content": "Weather in Oslo?"},  # no vars=: a plain list too
            {"type": "function_call", "call_id": "c2", "name": "weather", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c2", "output": "snow"},
            {"role": "user", "content": "Shorter?"}], model="gpt-4o-mini")
    sent = stub.requests[-1].body["messages"]
    assert sent[1]["tool_calls"][0]["id"] == "c2" and sent[2] == {
        "role": "tool", "tool_call_id": "c2", "content": "snow"}
    with pytest.raises(InvalidInput, match=r"history\[0\]\.tool_call_id: must be the call's"):
        pg.run(pg.prompts.save("h", messages=[{"placeholder": "history"}]),
               vars={"history": [{"role": "tool", "content": "x"}]}, model="gpt-4o-mini")
    local = make_pg(provider="local")
    with pytest.raises(ConfigurationError, match="no tool calls or tool results"):
        local.run(v, vars={"city": "Paris"})

"""Importing conversations (fixtures under openai_evals/conversations, written from
openai-python's eval types): templates with assistant turns and images, item_reference to a
whole conversation, {{sample.output_tools}} and {{sample.choices}} in graders, and a jsonl
run's pre-generated samples graded as a baseline without sending anything."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest

from nbplayground.evaluation import Judge
from nbplayground.evaluation.openai_import import ImportedEval, InvalidExport, import_eval
from nbplayground.evaluation.openai_import.criteria import InputStringCheck
from nbplayground.evaluation.templates import Answer
from nbplayground.experimentation.conversations import render_turns
from tests.evaluation.test_openai_import import RecordingSweep

F = Path(__file__).parents[1] / "fixtures" / "openai_evals" / "conversations"
EVAL = json.loads((F / "eval.json").read_text())


def load(run: Any, **kw: Any) -> ImportedEval:
    kw.setdefault("sweep", RecordingSweep())
    return import_eval(EVAL, run, **kw)


def test_a_template_with_assistant_turns_and_an_image_is_a_conversation() -> None:
    ev = load(F / "run_template.json")
    p = ev.prompt
    assert p is not None and p.system is None
    assert [t["role"] for t in p.messages] == ["developer", "user", "assistant", "user"]
    assert p.messages[2] == {"role": "assistant", "content": "Order 5 shipped on Monday."}
    assert p.messages[3]["content"] == [
        {"type": "text", "text": "{question} (see the chart)"},
        {"type": "image", "url": "{chart}", "detail": "low"}]
    assert p.fields == ["question", "chart"] and p.template == "{question} (see the chart)"
    assert p.params["tools"][0]["function"]["name"] == "lookup_order"
    sent = render_turns(p.messages, ev.data.iloc[0].to_dict())
    assert sent[3].wire("chat")["content"][1] == {
        "type": "image_url", "image_url": {"url": "https://example.com/charts/17.png",
                                           "detail": "low"}}
    assert sent[3].wire("responses")["content"][0] == {
        "type": "input_text", "text": "Where is order 17? (see the chart)"}


def test_audio_in_a_template_is_read_from_the_item() -> None:
    run = json.loads((F / "run_template.json").read_text())
    run["data_source"]["input_messages"]["template"][3]["content"][1] = {
        "type": "input_audio", "input_audio": {"data": "{{item.question}}", "format": "mp3"}}
    p = load(run).prompt
    assert p is not None and p.messages[3]["content"][1] == {
        "type": "audio", "data": "{question}", "format": "mp3"}


def test_an_item_reference_to_a_conversation_sends_the_items_own_messages() -> None:
    ev = load(F / "run_item_reference.json")
    p = ev.prompt
    assert p is not None and p.messages == ({"placeholder": "conversation"},)
    first, second = (render_turns(p.messages, row) for row in ev.data.to_dict("records"))
    assert [m.role for m in first] == ["developer", "user", "assistant", "user"]
    assert first[3].content == "It is 17. Where is it?"  # an input_text part, as text
    assert [m.as_dict() for m in second] == EVAL_ITEMS_SECOND


EVAL_ITEMS_SECOND = [{"role": "system", "content": "You are a support agent."},
                     {"role": "user", "content": "I want to return order 23."}]


def test_graders_read_the_answers_tool_calls_and_choices() -> None:
    ev = load(F / "run_template.json")
    tool, _, judge = ev.scorers
    assert isinstance(tool, InputStringCheck)
    assert tool.input == "{sample.output_tools.0.function.name}"
    assert tool.reference == "{expected_tool}"
    called = Answer("", row={"expected_tool": "lookup_order"}, tool_calls=(
        {"id": "c1", "name": "lookup_order", "arguments": {"order": 17}},))
    assert tool.grade(called).passed
    assert not tool.grade(Answer("", row={"expected_tool": "lookup_order"}, tool_calls=(
        {"id": "c1", "name": "cancel_order", "arguments": {}},))).passed
    assert isinstance(judge, Judge)
    rubric = judge._template.render(Answer("On its way.", row={"question": "Q?"},
                                           tool_calls=called.tool_calls))
    assert "Answer: On its way." in rubric
    assert ('Tools called: [{"id": "c1", "type": "function", "function": {"name": '
            '"lookup_order", "arguments": "{\\"order\\": 17}"}}]') in rubric


def test_an_unknown_sample_name_is_refused_where_it_is() -> None:
    doc = copy.deepcopy(EVAL)
    doc["testing_criteria"][0]["input"] = "{{sample.output_audio}}"
    with pytest.raises(InvalidExport, match=r"^testing_criteria\[0\]\.input: .*output_tools"):
        import_eval(doc, F / "run_template.json", sweep=RecordingSweep())


@pytest.mark.parametrize(("run", "items"), [
    (F / "run_jsonl.json", None),
    (F / "run_completions_no_model.json", F / "samples.jsonl")])
def test_pre_generated_samples_are_a_baseline_graded_without_sending(
        run: Path, items: Path | None) -> None:
    sweep = RecordingSweep()
    ev = load(run, items=items, sweep=sweep)
    assert ev.prompt is None and len(ev.data) == 2
    b = ev.baseline
    assert b is not None and list(b["model"]) == ["gpt-4o-mini-2024-07-18"] * 2
    assert list(b["response"]) == ["", "Yes, you can Return it within 30 days."]
    assert list(b["right tool"]) == [1.0, 0.0]
    assert list(b["mentions"]) == [0.0, 1.0]
    assert all(math.isnan(x) for x in b["helpful"])  # a judge would send: not scored
    assert list(b["passed"]) == [False, False]
    rates = ev.pass_rates(by="model").set_index("model")
    assert rates.loc["gpt-4o-mini-2024-07-18 (baseline)", "right tool"] == 0.5
    assert sweep.calls == []


def test_a_sample_without_an_answer_is_refused_naming_its_row() -> None:
    run = json.loads((F / "run_jsonl.json").read_text())
    run["data_source"]["source"]["content"][1]["sample"] = {"model": "m"}
    with pytest.raises(InvalidExport, match=r"^run\.data_source\.source\.content\[1\]\.sample"):
        load(run)

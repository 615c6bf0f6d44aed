"""Importing exported OpenAI evals (fixtures written from openai-python's types): items, the
prompt, graders as scorers, templates, the baseline, and malformed exports refused."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from nbplayground.domain.prompts import PromptVersion
from nbplayground.evaluation import Judge, Label
from nbplayground.evaluation.openai_import import (
    ImportedEval,
    InvalidExport,
    UntrustedCode,
    UntrustedPython,
    import_eval,
)
from nbplayground.evaluation.openai_import.mustache import convert
from nbplayground.evaluation.scorers import Similarity, StringCheck
from nbplayground.evaluation.templates import Answer

F = Path(__file__).parents[1] / "fixtures" / "openai_evals"
EVAL = json.loads((F / "eval.json").read_text())
RUN = json.loads((F / "run.json").read_text())


class RecordingSweep:
    """A fake pg.sweep: records what it was asked, sends nothing."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, dict[str, Any]]] = []

    def __call__(self, prompts: Any, **kwargs: Any) -> str:
        self.calls.append((prompts, kwargs))
        return "swept"


def load(eval_json: Any = None, run: Any = RUN, **kw: Any) -> ImportedEval:
    kw.setdefault("sweep", RecordingSweep())
    return import_eval(EVAL if eval_json is None else eval_json, run, **kw)


def test_items_prompt_and_sampling_params_come_from_the_run() -> None:
    ev = load(F / "eval.json", F / "run.json")  # paths, as a user passes them
    assert list(ev.data["country"]) == ["France", "Japan", "Côte d'Ivoire"]
    assert ev.data["meta"][1] == {"region": "Asia", "aliases": ["Tōkyō"]}
    p = ev.prompt
    assert isinstance(p, PromptVersion)
    assert p.template == "What is the capital of {country} ({meta.region})?"
    # the developer message is the system message; its literal braces survive formatting
    assert p.system is not None
    assert p.system.format() == 'Answer with the name of the city only, as {"city": ...} never.'
    assert p.model == "gpt-4o-mini"
    # OpenAI's examples echo max_completions_tokens: it is the token limit all the same
    assert p.params == {"api": "chat", "temperature": 0.2, "top_p": 1.0, "seed": 42,
                        "max_tokens": 16}
    assert ev.eval_id == EVAL["id"] and ev.run_id == RUN["id"] and ev.name == "Capitals"


def test_a_json_string_works_like_a_dict() -> None:
    ev = load(json.dumps(EVAL), json.dumps(RUN))
    assert len(ev.data) == 3 and [s.name for s in ev.scorers] == [
        g["name"] for g in EVAL["testing_criteria"]]


def test_graders_map_one_to_one_onto_scorers() -> None:
    exact, mentions, close, judge, tone, code = load().scorers
    assert isinstance(exact, StringCheck) and exact.operation == "eq"
    assert exact.reference == "{capital}" and exact.name == "exact capital"
    assert isinstance(mentions, StringCheck) and mentions.operation == "ilike"
    assert isinstance(close, Similarity) and close.metric == "fuzzy_match"
    assert close.threshold == 0.8
    assert isinstance(judge, Judge)
    assert judge.prompt == ("Country: {country} (region {meta.region})\nExpected: {capital}\n"
                            "Answer: {answer}")
    assert judge.system is not None and judge.system.startswith("You grade answers")
    assert judge.range == (1.0, 7.0) and judge.threshold == 5.0
    assert judge.model == "gpt-4o-mini-2024-07-18"
    assert judge.params == {"temperature": 0.0, "seed": 7, "max_tokens": 512}
    assert isinstance(tone, Label) and tone.labels == ("terse", "chatty", "rude")
    assert tone.passing == ("terse", "chatty") and tone.system == \
        "Classify the tone of the answer."
    assert isinstance(code, UntrustedPython) and "def grade" in code.source
    assert code.threshold == 1.0 and not code.trusted


def test_the_mapped_scorers_grade_as_the_graders_would() -> None:
    exact, mentions, close, judge, _, code = load().scorers
    row = {"country": "Japan", "capital": "Tokyo", "meta": {"region": "Asia"}}
    assert exact.grade(Answer("Tokyo", row)).passed
    assert not exact.grade(Answer("tokyo", row)).passed
    assert mentions.grade(Answer("It is TOKYO.", row)).passed
    assert close.grade(Answer("Tokio", row)).passed
    assert "region Asia" in judge.request_prompt(Answer("Tokyo", row))
    graded = code.grade(Answer("Tokyo", row))  # untrusted: never run, says why
    assert graded.score is None and "trust_python=True" in (graded.reason or "")


@pytest.mark.parametrize(("op", "name"), [("eq", "exact"), ("ne", "ne"), ("like", "like"),
                                          ("ilike", "ilike")])
def test_every_string_check_operation(op: str, name: str) -> None:
    ev = copy.deepcopy(EVAL)
    ev["testing_criteria"] = [{"type": "string_check", "name": "c", "operation": op,
                               "input": "{{sample.output_text}}",
                               "reference": "{{item.capital}}"}]
    (sc,) = load(ev).scorers
    assert isinstance(sc, StringCheck) and sc.operation == op
    row = {"capital": "Paris"}
    expected = {"eq": False, "ne": True, "like": True, "ilike": True}[op]
    assert sc.grade(Answer("paris, Paris", row)).passed is expected


def test_a_grader_on_a_json_field_reads_that_field() -> None:
    ev = copy.deepcopy(EVAL)
    ev["testing_criteria"] = [
        {"type": "string_check", "name": "city", "operation": "eq",
         "input": "{{ sample.output_json.city }}", "reference": "{{item.capital}}"},
        {"type": "text_similarity", "name": "sim", "evaluation_metric": "rouge_l",
         "pass_threshold": 0.5, "input": "{{sample.output_json.city}}",
         "reference": "{{item.capital}}"}]
    city, sim = load(ev).scorers
    assert city.grade(Answer('{"city": "Paris"}', {"capital": "Paris"})).passed
    assert not city.grade(Answer('{"city": "Lyon"}', {"capital": "Paris"})).passed
    assert sim.grade(Answer('{"city": "Paris"}', {"capital": "Paris"})).score == 1.0


def test_templates_map_onto_scorer_templates() -> None:
    assert convert("{{item.a.b}} {{ item.c[0] }} {{item.d['e']}}", "x", sample=False
                   ).text == "{a.b} {c.0} {d.e}"
    assert convert("{{sample.output_json.x.y}}|{{sample.output_text}}|{literal}", "x",
                   sample=True).text == "{answer.x.y}|{answer}|{{literal}}"
    with pytest.raises(InvalidExport, match="cannot read the model's answer"):
        convert("{{sample.output_text}}", "run.x", sample=False)
    assert convert("{{sample.output_tools}} {{sample.choices[0].message.content}}", "g",
                   sample=True).text == ("{sample.output_tools} "
                                         "{sample.choices.0.message.content}")
    with pytest.raises(InvalidExport, match="output_tools"):
        convert("{{sample.output_audio}}", "g", sample=True)
    with pytest.raises(InvalidExport, match="item or sample namespace"):
        convert("{{ctx.x}}", "g", sample=True)


def test_a_responses_run_with_a_file_of_items() -> None:
    ev = load(run=F / "run_responses.json", items=F / "items.jsonl")
    assert list(ev.data["capital"]) == ["Lima", "Nairobi", "Oslo", "Sucre"]
    p = ev.prompt
    assert p is not None and p.system == "You are a geography assistant."
    assert p.params["api"] == "responses" and p.params["max_tokens"] == 64
    assert p.params["response_format"]["schema"]["required"] == ["city"]
    assert p.params["response_format"]["name"] == "capital"
    assert p.params["tools"][0]["name"] == "lookup_city"


def test_a_chat_json_schema_response_format() -> None:
    run = copy.deepcopy(RUN)
    run["data_source"]["sampling_params"]["response_format"] = {
        "type": "json_schema", "json_schema": {"name": "city", "strict": True, "schema": {
            "type": "object", "properties": {"city": {"type": "string"}}}}}
    p = load(run=run).prompt
    assert p is not None and p.params["response_format"]["name"] == "city"
    assert p.params["response_format"]["strict"] is True


def test_an_item_reference_prompt() -> None:
    run = copy.deepcopy(RUN)
    run["data_source"]["input_messages"] = {"type": "item_reference",
                                            "item_reference": "item.country"}
    p = load(run=run).prompt
    assert p is not None and p.template == "{country}" and p.system is None


def test_run_sweeps_the_items_with_the_exports_parameters() -> None:
    sweep = RecordingSweep()
    ev = load(sweep=sweep, trust_python=True)
    assert ev.run(model=["m1", "m2"], temperature=0.0, judge_model="local-judge") == "swept"
    ((prompt, kw),) = sweep.calls
    assert prompt is ev.prompt  # the version: its model, system and fields are defaults
    assert kw["model"] == ["m1", "m2"] and kw["temperature"] == 0.0
    assert kw["vars"] is ev.data
    judges = [s for s in kw["scorers"] if isinstance(s, Judge | Label)]
    assert {j.model for j in judges} == {"local-judge"}


def test_an_untrusted_python_grader_stops_the_run_before_anything_is_sent() -> None:
    sweep = RecordingSweep()
    ev = load(sweep=sweep)
    assert ev.untrusted == ["capital in answer (python)"]
    with pytest.raises(UntrustedCode, match="capital in answer") as caught:
        ev.run(model="m")
    assert caught.value.grader == "capital in answer (python)" and sweep.calls == []


def test_the_baseline_from_output_items() -> None:
    ev = load(output_items=F / "output_items.json")
    b = ev.baseline
    assert b is not None
    assert list(b["datasource_item_id"]) == [0, 1, 2]
    assert list(b["response"]) == ["Paris", "Tokyo", "Abidjan"]
    # OpenAI names a result by the criterion's id ("<name>-<uuid>"): here, the grader's name
    assert list(b["exact capital"]) == [1.0, 1.0, 0.0]
    assert list(b["passed"]) == [True, True, False]
    rates = ev.pass_rates()
    assert rates["model"].tolist() == ["gpt-4o-mini-2024-07-18 (baseline)"]
    assert rates["passed"][0] == pytest.approx(2 / 3)


def broken(path: list[Any], value: Any, doc: dict[str, Any] | None = None) -> dict[str, Any]:
    out = copy.deepcopy(EVAL if doc is None else doc)
    target = out
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return out


@pytest.mark.parametrize(("doc", "where", "says"), [
    (broken(["testing_criteria", 2, "type"], "regex_check"), "testing_criteria[2].type",
     "unknown grader type 'regex_check'"),
    (broken(["testing_criteria"], KeyError), "testing_criteria", "no testing_criteria"),
    (broken(["testing_criteria", 1, "reference"], "{{item.capitol}}"),
     "testing_criteria[1].reference", "item.capitol"),
    (broken(["testing_criteria", 3, "input", 1, "content", "text"], "{{item.meta.zone}}"),
     "testing_criteria[3].input[1].content", "item.meta.zone"),
    (broken(["testing_criteria", 0], {"type": "multi", "name": "m", "graders": {},
                                      "calculate_output": "a"}),
     "testing_criteria[0].type", "multi grader"),
    (broken(["testing_criteria", 0, "operation"], "contains"),
     "testing_criteria[0].operation", "eq"),
    (broken(["testing_criteria", 2, "pass_threshold"], KeyError),
     "testing_criteria[2].pass_threshold", "required"),
    (broken(["testing_criteria", 1, "name"], "exact capital"), "testing_criteria[1].name",
     "two graders"),
    (broken(["testing_criteria", 4, "passing_labels"], ["polite"]), "testing_criteria[4]",
     "passing"),
])
def test_a_malformed_eval_is_refused_naming_the_field(doc: dict[str, Any], where: str,
                                                      says: str) -> None:
    sweep = RecordingSweep()
    with pytest.raises(InvalidExport) as caught:
        load(doc, sweep=sweep)
    assert caught.value.where == where and says in str(caught.value)
    assert str(caught.value).startswith(where)
    assert sweep.calls == []


@pytest.mark.parametrize(("run", "where", "says"), [
    (broken(["data_source", "input_messages", "template", 1, "content", "text"],
            "Capital of {{item.nation}}?", RUN),
     "run.data_source.input_messages.template[1].content", "item.nation"),
    (broken(["data_source", "type"], "batch", RUN), "run.data_source.type", "completions"),
    (broken(["data_source", "source"], {"type": "file_id", "id": "file-9"}, RUN),
     "run.data_source.source.id", "items="),
    (broken(["data_source", "input_messages", "template", 1, "content"],
            [{"type": "input_text", "text": "Look:"}, {"type": "input_video", "url": "v"}],
            RUN),
     "run.data_source.input_messages.template[1].content[1]", "input_video"),
    (broken(["data_source", "input_messages", "template", 1, "content"],
            {"type": "input_image", "image_url": "{{item.flag}}"}, RUN),
     "run.data_source.input_messages.template[1].content.image_url", "item.flag"),
    (broken(["data_source", "input_messages"],
            {"type": "item_reference", "item_reference": "item.meta"}, RUN),
     "run.data_source.input_messages.item_reference", "holds dict"),
    (broken(["data_source", "source", "content", 1, "item", "capital"], 7, RUN),
     "run.data_source.source.content[1]", "not of type 'string'"),
    (broken(["data_source", "sampling_params", "tools"], [{"type": "web_search"}], RUN),
     "run.data_source.sampling_params.tools[0].type", "web_search"),
])
def test_a_malformed_run_is_refused_naming_the_field(run: dict[str, Any], where: str,
                                                     says: str) -> None:
    with pytest.raises(InvalidExport) as caught:
        load(run=run)
    assert caught.value.where == where and says in str(caught.value)


def test_bad_items_name_their_line(tmp_path: Path) -> None:
    bad = tmp_path / "items.jsonl"
    bad.write_text('{"item": {"country": "Peru", "capital": "Lima", "meta": {"region": "x"}}}'
                   '\n[1, 2]\n')
    with pytest.raises(InvalidExport, match=r"^items line 2: each line is"):
        load(items=bad)
    bad.write_text('{"item": {"country": "Peru", "meta": {"region": "x"}}}\n')
    with pytest.raises(InvalidExport, match=r"^items\[0\]: 'capital' is a required property"):
        load(items=bad)
    with pytest.raises(InvalidExport, match="not a file"):
        load(items=str(tmp_path / "missing.jsonl"))


def test_without_items_the_templates_are_checked_against_the_item_schema() -> None:
    ev = load(run=None)
    assert ev.prompt is None and ev.data.empty
    with pytest.raises(InvalidExport, match="no prompt"):
        ev.run(model="m")
    with pytest.raises(InvalidExport, match=r"item\.capitol"):
        load(broken(["testing_criteria", 0, "reference"], "{{item.capitol}}"), run=None)

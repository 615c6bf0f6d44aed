"""pg.import_openai_eval from cells: an exported eval run on other models through the sweep
engine (simulated provider, the DuckDB log), with and without trust_python."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from nbplayground import InvalidInput
from nbplayground.evaluation.openai_import import UntrustedCode

F = Path(__file__).parents[1] / "fixtures" / "openai_evals"
EVAL = json.loads((F / "eval.json").read_text())
NAMES = [g["name"] for g in EVAL["testing_criteria"]]


def with_python(source: str) -> dict[str, Any]:
    doc = copy.deepcopy(EVAL)
    doc["testing_criteria"][5]["source"] = source
    return doc


def test_an_imported_eval_runs_on_other_models_and_is_scored(make_pg: Any) -> None:
    pg = make_pg(provider="simulated", simulated_latency=0)
    # the grader reads a nested item field and the sample; the simulated answers say no city
    source = ("def grade(sample, item):\n"
              "    ok = item['meta']['region'] in ('Europe', 'Asia', 'Africa')\n"
              "    return 1.0 if ok and sample['choices'][0]['message']['content'] == "
              "sample['output_text'] else 0.0\n")
    ev = pg.import_openai_eval(with_python(source), run=F / "run.json",
                               output_items=F / "output_items.json", trust_python=True)
    sw = ev.run(model=["gpt-4o-mini", "gpt-4.1-nano"], judge_model="gpt-4o-mini",
                progress=False)
    wide = sw.to_pandas()
    assert len(wide) == 6
    assert set(wide["prompt"]) == {"What is the capital of France (Europe)?",
                                   "What is the capital of Japan (Asia)?",
                                   "What is the capital of Côte d'Ivoire (Africa)?"}
    assert set(wide["seed"]) == {42} and set(wide["max_tokens"]) == {16}
    assert set(wide["prompt_name"]) == {"Capitals"} and set(wide["prompt_version"]) == {1}
    scores = sw.scores()
    assert len(scores) == 6 * len(NAMES) and set(scores["scorer"]) == set(NAMES)
    assert scores["score"].notna().all()  # every grader scored every cell, judges too
    assert (wide["capital in answer (python)"] == 1.0).all()
    assert ev._runner.pid is None  # the sweep's worker is gone with the sweep
    rates = ev.pass_rates(sw)
    assert rates["model"].tolist() == ["gpt-4o-mini-2024-07-18 (baseline)", "gpt-4o-mini",
                                       "gpt-4.1-nano"]
    assert rates.set_index("model").loc["gpt-4o-mini", "capital in answer (python)"] == 1.0


def test_without_trust_the_run_is_refused_and_nothing_is_sent(make_pg: Any) -> None:
    pg = make_pg(provider="simulated", simulated_latency=0)
    ev = pg.import_openai_eval(F / "eval.json", run=F / "run.json")
    with pytest.raises(UntrustedCode, match="trust_python=True"):
        ev.run(model="gpt-4o-mini", judge_model="gpt-4o-mini", progress=False)
    assert pg.history().empty


def test_a_grader_that_hangs_on_one_item_scores_0_there_and_the_sweep_goes_on(
        make_pg: Any) -> None:
    pg = make_pg(provider="simulated", simulated_latency=0)
    source = ("def grade(sample, item):\n"
              "    while item['country'] == 'Japan':\n"
              "        pass\n"
              "    return 1.0\n")
    doc = with_python(source)
    doc["testing_criteria"] = doc["testing_criteria"][5:]
    ev = pg.import_openai_eval(doc, run=F / "run.json", trust_python=True,
                               python_timeout=1.5)
    sw = ev.run(model="gpt-4o-mini", progress=False)
    got = sw.scores().merge(sw.to_pandas()[["experiment_id", "prompt"]], on="experiment_id")
    japan = got[got["prompt"].str.contains("Japan")]
    rest = got[~got["prompt"].str.contains("Japan")]
    assert japan["score"].tolist() == [0.0]
    assert japan["reason"].tolist() == ["the grader did not answer within 1.5 s"]
    assert rest["score"].tolist() == [1.0, 1.0]


@pytest.mark.parametrize("kwargs", [{"trust_python": "yes"}, {"python_timeout": 0},
                                    {"python_timeout": float("inf")}])
def test_bad_arguments_are_refused(make_pg: Any, kwargs: dict[str, Any]) -> None:
    pg = make_pg(provider="simulated", simulated_latency=0)
    with pytest.raises(InvalidInput):
        pg.import_openai_eval(F / "eval.json", **kwargs)


def test_versions_of_the_imported_prompt_are_compared_on_the_same_items(make_pg: Any) -> None:
    pg = make_pg(provider="simulated", simulated_latency=0)
    doc = copy.deepcopy(EVAL)
    doc["testing_criteria"] = doc["testing_criteria"][:3]
    ev = pg.import_openai_eval(doc, run=F / "run.json")
    v1 = ev.prompt
    assert pg.prompts.get("Capitals") == v1  # the import saved it: version 1
    v2 = pg.prompts.save("Capitals", v1.template, "Name the city. One word.", v1.model,
                         **v1.params)
    assert v2.version == 2
    sw = ev.run(prompt=pg.prompts.versions("Capitals"), progress=False)
    wide = sw.to_pandas()
    assert sorted(wide["prompt_version"].tolist()) == [1, 1, 1, 2, 2, 2]
    assert set(wide["system"]) == {v1.system, "Name the city. One word."}
    assert len(sw.scores()) == 6 * 3
    again = pg.import_openai_eval(doc, run=F / "run.json")
    assert again.prompt.version == 1  # the same content: the same version


C = F / "conversations"


def test_an_eval_of_conversations_runs_and_is_compared_with_its_logged_answers(
        make_pg: Any) -> None:
    pg = make_pg(provider="simulated", simulated_latency=0)
    ev = pg.import_openai_eval(C / "eval.json", run=C / "run_item_reference.json")
    assert ev.prompt is not None and pg.prompts.get("Support agent").messages == (
        {"placeholder": "conversation"},)
    sw = ev.run(model="gpt-4o-mini", judge_model="gpt-4o-mini", progress=False)
    logged = pg.history(sweep=sw.id).sort_values("prompt")
    sent = [json.loads(m) for m in logged["messages"]]
    assert sorted(len(m) for m in sent) == [2, 4]  # each item's own conversation
    assert {m[-1]["content"] for m in sent} == {"It is 17. Where is it?",
                                               "I want to return order 23."}
    assert len(sw.scores()) == 2 * 3 and sw.scores()["score"].notna().all()
    # the same eval's logged answers, graded where they are, beside the new run
    base = pg.import_openai_eval(C / "eval.json", run=C / "run_jsonl.json")
    rates = base.pass_rates(sw, by="model")
    assert rates["model"].tolist() == ["gpt-4o-mini-2024-07-18 (baseline)", "gpt-4o-mini"]
    assert rates.set_index("model").loc["gpt-4o-mini-2024-07-18 (baseline)",
                                        "right tool"] == 0.5


def test_a_template_with_turns_and_an_image_is_sent_as_those_turns(make_pg: Any) -> None:
    pg = make_pg(provider="simulated", simulated_latency=0)
    ev = pg.import_openai_eval(C / "eval.json", run=C / "run_template.json")
    sw = ev.run(model="gpt-4o-mini", judge_model="gpt-4o-mini", progress=False)
    sent = [json.loads(m) for m in pg.history(sweep=sw.id)["messages"]]
    assert {tuple(t["role"] for t in m) for m in sent} == {
        ("developer", "user", "assistant", "user")}
    last = {m[-1]["parts"][1]["url"] for m in sent}
    assert last == {"https://example.com/charts/17.png", "https://example.com/charts/23.png"}

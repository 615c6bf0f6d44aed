"""What is prepared once for many answers gives what preparing each answer would: a template's
renderer, a plan's bound graders, a judge's cells made from its prepared request."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from nbplayground import NbPlaygroundError, Playground
from nbplayground import scorers as s
from nbplayground.evaluation import Answer, Grade, ScoringPlan, Template
from nbplayground.experimentation.judge_cells import JudgeCells, judge_cell
from tests.factories import make_experiment

ROW = {"capital": "Paris", "meta": {"lang": "fr"}, "n": 3, "none": None}


@pytest.mark.parametrize("text", ["{capital}", "{answer}", "{answer.city}", "{meta.lang}",
                                  "{n}", "{none}", "{meta}", "Say {capital}.", "plain",
                                  "{missing}", "{answer.nothing}"])
@pytest.mark.parametrize("answer", ['{"city": "Lyon"}', "not json"])
def test_a_templates_renderer_renders_as_render_does(text: str, answer: str) -> None:
    template, a = Template.parse(text), Answer(answer, ROW)

    def outcome(fn: Any) -> Any:
        try:
            return fn(a)
        except ValueError as e:
            return ("error", str(e))

    assert outcome(template.renderer()) == outcome(template.render)


def test_a_plans_scores_are_each_scorers_own_grades() -> None:
    def short(answer: str, row: Any) -> bool:
        return len(answer) < 6

    scorers = [s.contains("{capital}"), s.icontains("{capital}"), s.exact("{capital}"),
               s.exact("{capital}", case=False, name="same"), s.ne("{capital}"),
               s.regex(r"^[A-Z]"), s.json_valid(),
               s.json_schema({"type": "object", "required": ["city"]}),
               s.similarity("{capital}", metric="fuzzy_match"), s.python(short),
               s.cost(max_usd=1.0), s.latency(max_ms=10_000),
               s.contains("{answer.city}", name="city")]
    plan = ScoringPlan(scorers, [ROW])
    for text in ("Paris", "paris!", "Lyon", '{"city": "Paris"}', ""):
        exp = make_experiment(response=text)
        got = plan.score(0, exp, "sw-1")
        for sc, scorer in zip(got, scorers, strict=True):
            try:
                want = scorer.grade(plan.answer(0, exp))
            except Exception as e:  # the plan scores a raising scorer as an error
                want = Grade(None, False, f"{type(e).__name__}: {e}")
            assert (sc.scorer, sc.kind, sc.sweep_id) == (scorer.name, scorer.kind, "sw-1")
            assert (sc.score, sc.passed, sc.reason) == (want.score, want.passed, want.reason)


def test_a_judges_cells_are_the_cells_a_full_preparation_makes(tmp_path: Path) -> None:
    pg = Playground(db=tmp_path / "log.duckdb", user="u", provider="simulated")
    service = pg._w.service
    made = JudgeCells(service)
    judges = [s.judge("Is {answer} right?", model="gpt-4o-mini"),
              s.judge("Rate it", model="gpt-4.1-mini", system="Be strict.", temperature=0.3),
              s.judge("Rate it", model="gpt-4o-mini", max_tokens=None),
              s.label("Which?", labels=["a", "b"], passing=["a"], model="gpt-4o-mini"),
              s.judge("Rate it", model="gpt-4o-mini", api="responses", system="Be fair.")]
    for judge in judges:
        # (the cache key is made from the template's key text around the turns: quotes,
        # backslashes and non-ASCII in the turns must give the key a full dump gives)
        for prompt in ("short", "word " * 3000, "ünïcode\n\n" + judge.prompt,
                       'say "turns" \\ {"messages": []} 🎉'):
            cell = made.cell(judge, prompt, "u", "simulated", 7)
            assert cell == judge_cell(service, judge, prompt, "u", "simulated", 7)
            assert cell.cache_key == judge_cell(service, judge, prompt, "u", "simulated",
                                                7).cache_key
    for bad in ("nul \x00 byte", "   ", "word " * 200_000):  # refused as a full preparation is
        with pytest.raises(NbPlaygroundError) as full:
            judge_cell(service, judges[0], bad, "u", "simulated", 1)
        with pytest.raises(type(full.value), match="^" + re.escape(str(full.value))):
            made.cell(judges[0], bad, "u", "simulated", 1)

"""The scorers grade answers as OpenAI's graders would, and refuse bad input before a request."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel

from nbplayground import NbPlaygroundError
from nbplayground import scorers as s
from nbplayground.domain import ResponseMetrics
from nbplayground.evaluation import Answer, ScoringPlan, Template
from tests.factories import make_experiment
from tests.fakes import FakeEmbedder

ROW = {"capital": "Paris", "country": "France", "n": 3}


def grade(scorer: Any, text: str, row: dict[str, Any] | None = None, **kw: Any) -> Any:
    return scorer.grade(Answer(text, row if row is not None else ROW, **kw))


@pytest.mark.parametrize(("scorer", "text", "passed"), [
    (s.exact("{capital}"), "Paris", True),
    (s.exact("{capital}"), "Paris\n", True),
    (s.exact("{capital}"), "paris", False),
    (s.exact("{capital}", case=False), "PARIS", True),
    (s.exact("{capital}", case=False), "Paris.", False),
    (s.ne("{capital}"), "Lyon", True),
    (s.ne("{capital}"), "Paris", False),
    (s.contains("{capital}"), "It is Paris.", True),
    (s.contains("{capital}"), "It is paris.", False),
    (s.like("{capital}"), "It is Paris.", True),
    (s.icontains("{capital}"), "it is PARIS", True),
    (s.ilike("{capital}"), "it is Lyon", False),
    (s.regex(r"^[A-Z][a-z]+$"), "Paris", True),
    (s.regex(r"^[A-Z][a-z]+$"), "Paris is", False),
    (s.regex(r"^paris$", ignore_case=True), "PARIS", True),
    (s.json_valid(), '{"a": 1}', True),
    (s.json_valid(), "not json", False),
])
def test_string_checks(scorer: Any, text: str, passed: bool) -> None:
    g = grade(scorer, text)
    assert g.passed is passed
    assert g.score == (1.0 if passed else 0.0)
    assert (g.reason is None) is passed


@pytest.mark.parametrize(("scorer", "text", "reason"), [
    (s.exact("{capital}"), "Lyon is lovely", "the answer is not 'Paris'"),
    (s.ne("{capital}"), " Paris ", "the answer equals 'Paris'"),
    (s.contains("{capital}"), "It is Lyon.", "the answer does not contain 'Paris'"),
    (s.icontains("{capital}"), "it is LYON", "the answer does not contain (ignoring case) 'Paris'"),
    (s.exact("{capital}", case=False), "LYON", "the answer is not 'Paris' (ignoring case)"),
    (s.regex(r"^[A-Z]\w+$"), "lyon", r"the answer does not match '^[A-Z]\\w+$'"),
    (s.contains("x" * 80), "y", f"the answer does not contain '{'x' * 59}…'"),
])
def test_a_failed_check_says_what_was_wanted_not_the_answer_again(scorer: Any, text: str,
                                                                   reason: str) -> None:
    """Reports and badges show the answer beside the reason: the reason names the reference
    (clipped at 60 characters), and repeating the answer would only lengthen every row."""
    assert grade(scorer, text).reason == reason


def test_a_field_of_the_json_answer_fills_a_template() -> None:
    t = Template.parse("Is {answer.city} ({answer.tags.1}) the capital of {country}?")
    assert t.columns == {"country"}
    assert t.render(Answer('{"city": "Lyon", "tags": ["a", 2]}', ROW)) == \
        "Is Lyon (2) the capital of France?"
    with pytest.raises(ValueError, match="no field"):
        t.render(Answer('{"town": "Lyon"}', ROW))
    judge = s.judge("Is {answer.city} right?", model="m")
    (score,) = ScoringPlan([s.exact("{capital}")], [ROW]).score(
        0, make_experiment(response='{"city": "Paris"}'))
    assert not score.passed
    bad = ScoringPlan([judge], [ROW]).judge_prompt(judge, 0, make_experiment(response="Paris"))
    assert not isinstance(bad, str)
    assert "not JSON" in (bad.reason or "")


class City(BaseModel):
    city: str
    population: int


def test_json_schema_from_a_model_or_a_dict() -> None:
    for scorer in (s.json_schema(City), s.json_schema({
            "type": "object", "properties": {"city": {"type": "string"},
                                             "population": {"type": "integer"}},
            "required": ["city", "population"]})):
        assert grade(scorer, '{"city": "Paris", "population": 2100000}').passed
        bad = grade(scorer, '{"city": "Paris"}')
        assert not bad.passed
        assert "population" in bad.reason
        assert not grade(scorer, "Paris").passed


@pytest.mark.parametrize("metric", ["fuzzy_match", "bleu", "gleu", "rouge_1", "rouge_2",
                                    "rouge_3", "rouge_4", "rouge_5", "rouge_l"])
def test_similarity_metrics_are_one_for_equal_texts_and_lower_otherwise(metric: str) -> None:
    ref = "the cat sat on the mat today"
    same = grade(s.similarity(ref, metric=metric, threshold=0.99), ref)
    assert same.score == pytest.approx(1.0)
    assert same.passed
    other = grade(s.similarity(ref, metric=metric, threshold=0.99), "a dog ran in the park")
    assert 0.0 <= other.score < 0.6
    assert not other.passed
    assert metric in other.reason


def test_fuzzy_match_is_rapidfuzz_ratio() -> None:
    g = grade(s.similarity("{capital}", threshold=0.8), "Pariss")
    assert g.score == pytest.approx(10 / 11)
    assert g.passed


def test_python_cost_and_latency() -> None:
    assert grade(s.python(lambda a, row: len(a) == row["n"]), "abc").passed
    assert grade(s.python(lambda a, row: 0.4), "x").passed is False
    assert grade(s.python(lambda a, row: 0.4, threshold=0.3), "x").passed is True
    assert grade(s.cost(max_usd=0.01), "x", cost=0.001).passed
    assert grade(s.cost(max_usd=0.01), "x", cost=0.02).score == 0.02
    assert not grade(s.cost(max_usd=0.01), "x", cost=None).passed
    assert grade(s.latency(max_ms=100), "x", latency_ms=99).passed
    assert not grade(s.latency(max_ms=100), "x", latency_ms=101).passed


@pytest.mark.parametrize("make", [
    lambda: s.similarity("x", metric="levenshtein"),
    lambda: s.similarity("x", threshold=1.5),
    lambda: s.similarity("x", threshold=-0.1),
    lambda: s.python("not a function"),
    lambda: s.judge("Is {answer} right?"),
    lambda: s.label("Tone?", labels=["a", "b"], passing=["a"]),
    lambda: s.label("Tone?", labels=["a", "b"], passing=["c"], model="m"),
    lambda: s.judge("x", model="m", range=(1, 0)),
    lambda: s.judge("x", model="m", range=(0, 1), threshold=2),
    lambda: s.regex("("),
    lambda: s.exact("{capital!r}"),
    lambda: s.exact("{capital"),
    lambda: s.json_schema(42),
    lambda: s.cost(max_usd=0),
    lambda: s.exact("x", weight=-1),
    lambda: ScoringPlan([s.exact("{capitol}")], [ROW]),
    lambda: ScoringPlan([s.exact("{capital}")], []),
    lambda: ScoringPlan([s.exact("a"), s.contains("b", name="exact")], []),
    lambda: ScoringPlan(["exact"], []),
])
def test_bad_input_is_a_typed_error_saying_what_to_change(make: Any) -> None:
    with pytest.raises(NbPlaygroundError) as info:
        make()
    assert len(str(info.value)) > 20


def test_cosine_without_embeddings_is_refused_when_the_plan_is_made() -> None:
    scorer = s.similarity("{capital}", metric="cosine")
    with pytest.raises(s.MetricUnavailable, match="embeddings"):
        ScoringPlan([scorer], [ROW])

    plan = ScoringPlan([scorer], [ROW], embedder=FakeEmbedder())
    (score,) = plan.score(0, make_experiment(response="Paris"))
    assert score.score == pytest.approx(1.0)


def test_a_scorer_that_raises_gives_an_error_score_and_the_rest_go_on() -> None:
    def boom(answer: str, row: Any) -> bool:
        raise RuntimeError("no such thing")

    plan = ScoringPlan([s.python(boom), s.exact("{capital}")], [ROW, {"capital": 5}])
    first, second = plan.score(0, make_experiment(response="Paris"), sweep_id="sw-1")
    assert (first.scorer, first.score, first.passed) == ("boom", None, False)
    assert "no such thing" in first.reason
    assert second.passed
    assert second.sweep_id == "sw-1"
    assert plan.score(1, make_experiment(response="5"))[1].passed  # a number renders as text


def test_a_failed_call_fails_every_scorer_with_its_error() -> None:
    exp = make_experiment(response="", status="error", error="429 too many requests",
                          metrics=ResponseMetrics())
    scores = ScoringPlan([s.contains("x"), s.json_valid()], [ROW]).score(0, exp)
    assert all(not x.passed and x.score is None and "429" in x.reason for x in scores)


def test_judge_prompt_and_strict_verdicts() -> None:
    judge = s.judge("Is {answer} the capital of {country}?", model="gpt-4o-mini",
                    range=(0, 10), threshold=7)
    plan = ScoringPlan([judge], [ROW])
    prompt = plan.judge_prompt(judge, 0, make_experiment(response="Paris"))
    assert isinstance(prompt, str)
    assert prompt.startswith("Is Paris the capital of France?")
    fmt = judge.request_params()["response_format"]
    assert fmt["type"] == "json_schema" and fmt["strict"] is True
    assert fmt["schema"]["properties"]["score"] == {"type": "number", "minimum": 0,
                                                    "maximum": 10}
    assert judge.read({"score": 8, "reason": "right"}).passed
    assert judge.read({"score": 6, "reason": "meh"}).passed is False
    for bad in (None, {"score": 11, "reason": "x"}, {"grade": 9}, {"score": "high"}):
        g = judge.read(bad)
        assert (g.score, g.passed) == (None, False)
        assert g.reason


def test_a_judge_verdict_is_read_from_the_parsed_answer_never_from_prose() -> None:
    judge = s.judge("Is {answer} right?", model="gpt-4o-mini")
    plan = ScoringPlan([judge], [ROW])
    exp = make_experiment(response="Paris")
    prose = make_experiment(response='{"score": 1, "reason": "the text says so"}')
    assert plan.judged(judge, exp, prose).score is None  # nothing parsed: not read
    parsed = make_experiment(response="ignored", parsed={"score": 0.75, "reason": "ok"})
    sc = plan.judged(judge, exp, parsed)
    assert (sc.score, sc.passed, sc.judge_experiment_id) == (0.75, True, parsed.id)


def test_a_judge_is_visible_and_editable() -> None:
    judge = s.judge("Is {answer} right?", model="gpt-4o-mini", temperature=0.3)
    shown = repr(judge)
    assert "Is {answer} right?" in shown and "gpt-4o-mini" in shown and "0.3" in shown
    other = judge.replace(model="gpt-4.1-nano", params={"seed": 1})
    assert (other.model, other.params, other.prompt) == ("gpt-4.1-nano", {"seed": 1},
                                                         judge.prompt)
    assert other.request_params()["temperature"] == 0.0  # the defaults stay
    with pytest.raises(NbPlaygroundError):
        judge.replace(range=(1, 0))


def test_label_verdicts() -> None:
    tone = s.label("Tone of {answer}?", labels=["polite", "rude"], passing=["polite"],
                   model="gpt-4o-mini")
    assert tone.read({"label": "polite", "reason": "kind"}).passed
    assert tone.read({"label": "rude", "reason": "curt"}).score == 0.0
    assert tone.read({"label": "angry", "reason": "x"}).score is None
    schema = tone.request_params()["response_format"]["schema"]
    assert schema["properties"]["label"]["enum"] == ["polite", "rude"]
    assert "polite, rude" in tone.request_prompt(Answer("Thanks!", {}))


@pytest.mark.parametrize("text", ["", "   ", "Paris", "  \n\n  the answer", "\t\r\nx\ny",
                                  "\ufeff{}", "{\"a\": 1", "[1, 2,", "tru", "NaN", "-", "'a'",
                                  "1 2", "\n{\"a\": 1}x", "é", "\u00a0{}", "{\"a\": 1}"])
def test_an_answer_is_found_not_json_with_json_s_own_words(text: str) -> None:
    """Prose is told from JSON without json.loads raising (a third of a sweep's scoring):
    the reason must still be exactly what json says."""
    try:
        json.loads(text)
        want = None
    except ValueError as e:
        want = f"the answer is not JSON ({e})"
    assert Answer(text).not_json() == want


@pytest.mark.parametrize("verdict", [
    {"score": 7, "reason": "ok"}, {"score": 7.5, "reason": ""}, {"score": 0, "reason": "x"},
    {"score": 10, "reason": "x"}, {"score": 11, "reason": "x"}, {"score": -1, "reason": "x"},
    {"score": "7", "reason": "x"}, {"score": True, "reason": "x"}, {"score": 7},
    {"reason": "x"}, {"score": 7, "reason": 3}, {"score": 7, "reason": "x", "extra": 1},
    {"label": "polite", "reason": "x"}, {"label": "rude", "reason": ""},
    {"label": "meh", "reason": "x"}, {"label": 1, "reason": "x"}, {"label": "rude"},
    [7, "x"], "7", None])
def test_a_verdict_passes_the_pydantic_check_exactly_when_it_follows_the_json_schema(
        verdict: Any) -> None:
    """The judge's answer is checked by its schema as a pydantic model (fast); the request
    still carries the JSON schema: the two must agree on every answer."""
    import jsonschema
    from pydantic import ValidationError

    for judge in (s.judge("Rate {answer}", model="gpt-4o-mini", range=(0, 10)),
                  s.label("Tone of {answer}", labels=["polite", "rude"], passing=["polite"],
                          model="gpt-4o-mini")):
        follows = jsonschema.Draft202012Validator(judge.answer_schema()).is_valid(verdict)
        try:
            judge.verdict_model().model_validate(verdict)
            passes = True
        except ValidationError:
            passes = False
        assert passes == follows, (judge.kind, verdict)

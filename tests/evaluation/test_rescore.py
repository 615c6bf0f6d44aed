"""pg.score against the loopback server: only judge calls the log lacks are sent; judges read
their verdict through response_format; labels in a sweep; max_cost stops judges; bad input."""

from __future__ import annotations

from typing import Any

import pytest

from nbplayground import scorers as s
from nbplayground.configuration import Endpoint
from nbplayground.errors import BudgetExceeded, InvalidInput, NbPlaygroundError
from nbplayground.evaluation import InvalidScorer
from tests.conftest import TEST_KEY
from tests.support.openai_stub import CHAT_PATH, OpenAIStub

VARS = [{"country": "France", "capital": "Paris"}, {"country": "Japan", "capital": "Tokyo"}]
PROMPT = "Capital of {country}? One word."


def judge(rubric: str = "Is {answer} the capital of {country}?") -> s.Scorer:
    return s.judge(rubric, model="gpt-4o-mini", range=(0, 10), threshold=5)


@pytest.fixture
def pg(make_pg: Any, stub: OpenAIStub) -> Any:
    return make_pg(user="u", provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))


def test_rescoring_sends_only_the_judge_calls_not_made_before(pg: Any, stub: OpenAIStub
                                                               ) -> None:
    sw = pg.sweep(PROMPT, vars=VARS, scorers=[judge()], progress=False)
    assert stub.count(CHAT_PATH) == 2 + 2  # two cells, one judge call each
    judged = [r.body for r in stub.requests if r.path == CHAT_PATH][2:]
    for body in judged:  # the verdict is asked for as a strict JSON schema
        fmt = body["response_format"]
        assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
        assert set(fmt["json_schema"]["schema"]["properties"]) == {"score", "reason"}
    assert sw.scores()["score"].tolist() == [5.0, 5.0]  # the stub answers mid-range

    again = pg.score(sw, scorers=[judge(), s.contains("{capital}")], progress=False)
    assert stub.count(CHAT_PATH) == 4  # the same verdicts come from the log
    assert sorted(again.scores()["scorer"]) == ["contains", "contains", "judge", "judge"]
    assert {"judge", "contains", "passed"} <= set(again.to_pandas().columns)

    other = pg.score(sw, scorers=[judge("Is {answer} a city? Be strict.")], progress=False)
    assert stub.count(CHAT_PATH) == 6  # a changed rubric is a new judge call per cell
    assert other.scores()["judge_experiment_id"].notna().all()
    logged = pg.repository.scores(sweep_id=sw.id)
    assert sorted(logged["scorer"]) == ["contains", "contains", "judge", "judge"]  # replaced

    by_id = pg.score(pg.history(sweep=sw.id), scorers=[s.regex("^Echo")], progress=False)
    assert by_id["passed"].all() and stub.count(CHAT_PATH) == 6


def test_a_label_in_a_sweep_reads_its_label_from_the_schema(pg: Any, stub: OpenAIStub) -> None:
    tone = s.label("Tone of {answer}?", labels=["polite", "rude"], passing=["polite"],
                   model="gpt-4o-mini")
    sw = pg.sweep(PROMPT, vars=VARS, scorers=[tone], progress=False)
    body = [r for r in stub.requests if r.path == CHAT_PATH][-1].body
    assert body["response_format"]["json_schema"]["schema"]["properties"]["label"]["enum"] \
        == ["polite", "rude"]
    got = sw.scores()
    assert got["passed"].all() and got["reason"].str.startswith("polite").all()


def test_max_cost_stops_the_judges_and_records_it(pg: Any, stub: OpenAIStub) -> None:
    pricey = s.judge("Is {answer} the capital of {country}? " + "Think hard. " * 50,
                     model="gpt-4o", max_tokens=4000)
    with pytest.raises(BudgetExceeded, match="judge calls were not sent") as caught:
        pg.sweep(PROMPT, vars=VARS, model="gpt-4o-mini", max_tokens=8,
                 scorers=[s.contains("{capital}"), pricey], max_cost=0.0005, progress=False)
    assert stub.count(CHAT_PATH) == 2  # the cells, and no judge call
    sw = caught.value.sweep  # type: ignore[attr-defined]
    assert sw.status == "budget" and sw.count("all") == 2
    logged = pg.repository.scores(sweep_id=sw.id)
    judged = logged[logged["scorer"] == "judge"]
    assert len(judged) == 2 and judged["score"].isna().all()
    assert judged["reason"].str.contains("max_cost").all()
    assert pg.repository.sweep(sw.id)["status"] == "budget"


def _bad_inputs() -> list[Any]:
    return [
        lambda: s.exact("{capitol}"),  # a column vars lacks: refused by the sweep
        lambda: s.similarity("{capital}", metric="levenshtein"),
        lambda: s.similarity("{capital}", threshold=1.5),
        lambda: s.judge("Is {answer} right?", range=(0, 10), threshold=11, model="m"),
        lambda: s.judge("Is {answer} right?"),
        lambda: s.label("Tone?", labels=["a", "b"], passing=["a"]),
        lambda: s.python("not a function"),  # type: ignore[arg-type]
        lambda: s.tool_called(""),
    ]


@pytest.mark.parametrize("make", _bad_inputs())
def test_bad_scorers_are_refused_before_any_request(pg: Any, stub: OpenAIStub,
                                                    make: Any) -> None:
    with pytest.raises(NbPlaygroundError):
        pg.sweep(PROMPT, vars=VARS, scorers=[make()], progress=False)
    assert stub.count(CHAT_PATH) == 0


def test_score_refuses_bad_targets_before_any_request(pg: Any, stub: OpenAIStub) -> None:
    sw = pg.sweep(PROMPT, vars=VARS, progress=False)
    sent = stub.count(CHAT_PATH)
    with pytest.raises(InvalidScorer, match="scorers"):
        pg.score(sw, scorers=[])
    with pytest.raises(InvalidScorer, match="capitol"):
        pg.score(sw, scorers=[judge("Is {answer} the capital of {capitol}?")])
    with pytest.raises(InvalidInput, match="experiments or their ids"):
        pg.score([3], scorers=[s.regex("x")])
    with pytest.raises(InvalidInput, match="no experiment"):
        pg.score(["nope"], scorers=[s.regex("x")])
    with pytest.raises(InvalidInput, match="one row per experiment"):
        pg.score([e.id for e in sw.experiments], scorers=[s.regex("x")], vars=VARS[:1])
    with pytest.raises(NbPlaygroundError, match="temperature"):
        pg.score(sw, scorers=[s.judge("Is {answer} right?", model="gpt-4o-mini",
                                      temperature=9)])
    assert stub.count(CHAT_PATH) == sent


def test_tool_called_scores_the_tools_a_model_called(pg: Any) -> None:
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return "sunny"

    sw = pg.sweep("Call get_weather for the capital of {country}.", vars=VARS,
                  tools=[get_weather], run_tools=False,
                  scorers=[s.tool_called("get_weather"), s.tool_called("get_time")],
                  progress=False)
    wide = sw.to_pandas()
    assert wide["tool_called_get_weather"].tolist() == [1.0, 1.0]
    assert wide["tool_called_get_time"].tolist() == [0.0, 0.0]
    reasons = sw.scores().dropna(subset=["reason"])["reason"]
    assert reasons.str.contains("called get_weather").all()

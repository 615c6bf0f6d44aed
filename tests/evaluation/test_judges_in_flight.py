"""Judges in the sweep's own flight, against the loopback server: each answer's judge call is
sent by the same workers as the cells, while the cells still go out (the order and overlap the
server recorded prove it); a verdict in the log is not asked again; the budget's hold."""

from __future__ import annotations

from typing import Any

import pytest

from nbplayground import scorers as s
from nbplayground.configuration import Endpoint
from nbplayground.errors import BudgetExceeded
from tests.conftest import TEST_KEY
from tests.support.openai_stub import CHAT_PATH, OpenAIStub

PROMPT = "Capital of {country}? One word."
COUNTRIES = ["France", "Japan", "Peru", "Chad", "Fiji", "Oman", "Mali", "Laos", "Cuba", "Iran"]


def judge() -> s.Scorer:
    return s.judge("Is {answer} the capital of {country}?", model="gpt-4o-mini",
                   range=(0, 10), threshold=5)


def rows(n: int) -> list[dict[str, str]]:
    return [{"country": c} for c in COUNTRIES[:n]]


@pytest.fixture
def pg(make_pg: Any, stub: OpenAIStub) -> Any:
    return make_pg(user="u", provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))


def is_judge(body: dict[str, Any]) -> bool:
    return "response_format" in body


def test_one_worker_sends_each_answers_judge_call_before_the_next_cell(pg: Any,
                                                                       stub: OpenAIStub) -> None:
    sw = pg.sweep(PROMPT, vars=rows(4), scorers=[judge()], concurrency=1, refresh=True,
                  progress=False)
    kinds = [is_judge(r.body) for r in stub.requests if r.path == CHAT_PATH]
    assert kinds == [False, True] * 4  # not four cells, then four judge calls
    assert sw.scores()["score"].notna().all() and len(sw.scores()) == 4


def test_judge_calls_go_out_while_cells_are_still_being_sent(pg: Any, stub: OpenAIStub) -> None:
    pg.sweep(PROMPT, vars=rows(10), scorers=[judge()], concurrency=3, refresh=True,
             progress=False)
    chat = [r for r in stub.requests if r.path == CHAT_PATH]
    cells = [r for r in chat if not is_judge(r.body)]
    judged = [r for r in chat if is_judge(r.body)]
    assert len(cells) == len(judged) == 10
    assert min(r.started for r in judged) < max(r.started for r in cells)
    assert stub.max_in_flight() <= 3  # one pool for both


def test_a_verdict_in_the_log_is_not_asked_again_for_the_same_answer(pg: Any,
                                                                     stub: OpenAIStub) -> None:
    first = pg.sweep(PROMPT, vars=rows(3), scorers=[judge()], temperature=0.0, progress=False)
    assert stub.count(CHAT_PATH) == 6
    # New cells (another temperature) whose answers are the same: their verdicts are logged.
    again = pg.sweep(PROMPT, vars=rows(3), scorers=[judge()], temperature=0.5, progress=False)
    assert stub.count(CHAT_PATH) == 9  # three cells, no judge call
    assert again.id != first.id
    assert set(again.scores()["judge_experiment_id"]) == set(
        first.scores()["judge_experiment_id"])
    logged = pg.repository.scores(sweep_id=again.id)
    assert len(logged) == 3 and logged["score"].notna().all()


def test_a_sweep_from_the_log_sends_only_its_new_judges_calls(pg: Any, stub: OpenAIStub
                                                              ) -> None:
    pg.sweep(PROMPT, vars=rows(3), progress=False)
    sw = pg.sweep(PROMPT, vars=rows(3), scorers=[judge()], progress=False)
    assert stub.count(CHAT_PATH) == 3 + 3
    assert sw.count("cached") == 3 and len(sw.scores()) == 3
    judges = pg.repository.sweep(f"{sw.id}-judges")
    assert judges is not None and (judges["status"], judges["done"]) == ("done", 3)


def test_judges_the_budget_cannot_hold_are_not_sent_and_the_cells_are_kept(
        pg: Any, stub: OpenAIStub) -> None:
    plain = pg.estimate(PROMPT, vars=rows(2), model="gpt-4o-mini", max_tokens=8)
    pg.set_limits(daily_usd=plain.max_cost * 1.01)  # the cells fit; their judges do not
    with pytest.raises(BudgetExceeded, match="2 of 2 judge calls were not sent") as caught:
        pg.sweep(PROMPT, vars=rows(2), model="gpt-4o-mini", max_tokens=8,
                 scorers=[judge()], progress=False)
    assert stub.count(CHAT_PATH) == 2
    sw = caught.value.sweep  # type: ignore[attr-defined]
    logged = pg.repository.scores(sweep_id=sw.id)
    assert len(logged) == 2 and logged["reason"].str.contains("budget").all()
    assert pg.repository.sweep(sw.id)["status"] == "budget"
    assert pg.budget()["in_flight"] == 0.0  # every hold released

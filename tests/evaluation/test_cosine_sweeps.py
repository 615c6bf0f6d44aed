"""Cosine in real sweeps against the loopback server: embeddings through /v1/embeddings, cached
in the log (a text is never sent twice, across restarts), priced and booked; faults become
error scores; the simulated provider embeds offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nbplayground import Playground
from nbplayground import scorers as s
from nbplayground.configuration import Endpoint
from tests.conftest import TEST_KEY
from tests.support.openai_stub import CHAT_PATH, OpenAIStub
from tests.support.stub_embeddings import PATH

VARS = [{"country": "France", "capital": "Echo: Capital of France?"},
        {"country": "Japan", "capital": "Tokyo"}]
PROMPT = "Capital of {country}?"


def cosine(name: str = "cosine") -> s.Scorer:
    return s.similarity("{capital}", metric="cosine", threshold=0.5, name=name)


@pytest.fixture
def pg(make_pg: Any, stub: OpenAIStub) -> Any:
    stub.filler_words = 0  # the answer is "Echo: Capital of France?": one reference matches
    return make_pg(user="u", provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))


def embedded(stub: OpenAIStub) -> list[str]:
    return [t for r in stub.requests if r.path == PATH for t in r.body["input"]]


def test_a_cosine_sweep_embeds_each_text_once_and_books_the_calls(
        pg: Any, stub: OpenAIStub, make_pg: Any) -> None:
    sw = pg.sweep(PROMPT, vars=VARS, scorers=[cosine()], progress=False)
    frame = sw.to_pandas()
    assert frame["cosine"].iloc[0] == pytest.approx(1.0) and frame["passed"].iloc[0]
    assert frame["cosine"].iloc[1] < 0.5 and not frame["passed"].iloc[1]
    texts = embedded(stub)
    assert sorted(texts) == sorted({"Echo: Capital of France?", "Echo: Capital of Japan?",
                                    "Tokyo"})  # the answer equal to its reference: once
    assert pg.repository.query("SELECT count(*) AS n FROM embeddings")["n"][0] == 3
    usage = pg.repository.query("SELECT model, provider, prompt_tokens, cost FROM usage "
                                "WHERE experiment_id LIKE 'emb-%'")
    assert set(usage["model"]) == {"text-embedding-3-small"}
    assert usage["prompt_tokens"].sum() == 9  # the stub counts words
    assert usage["cost"].sum() == pytest.approx(9 * 0.02 / 1e6)
    calls = pg.repository.query("SELECT count(*) AS n FROM api_requests "
                                "WHERE experiment_id LIKE 'emb-%'")["n"][0]
    assert calls == stub.count(PATH)
    assert "text-embedding-3-small" in set(pg.usage(by="model")["model"])  # in the ledger

    sent = stub.count(PATH)
    again = pg.sweep(PROMPT, vars=VARS, scorers=[cosine()], progress=False, refresh=True)
    assert stub.count(PATH) == sent  # the same answers: every vector from the log
    assert again.to_pandas()["cosine"].tolist() == pytest.approx(frame["cosine"].tolist())
    restarted = make_pg(user="u", provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))
    rescored = restarted.score(sw, scorers=[cosine("c2")], progress=False)
    assert stub.count(PATH) == sent
    assert rescored.to_pandas()["c2"].tolist() == pytest.approx(frame["cosine"].tolist())


def test_embedding_faults_are_error_scores_and_scoring_again_fills_them(
        pg: Any, stub: OpenAIStub) -> None:
    sw = pg.sweep(PROMPT, vars=VARS, progress=False)
    chats = stub.count(CHAT_PATH)
    stub.fail_next(500, times=100)
    broken = pg.score(sw, scorers=[cosine()], progress=False)
    scores = broken.scores()
    assert scores["score"].isna().all() and not scores["passed"].any()
    assert all("ServerFailed" in r for r in scores["reason"])
    stub.clear_faults()
    fixed = pg.score(sw, scorers=[cosine()], progress=False)
    assert fixed.scores()["score"].notna().all()
    assert stub.count(CHAT_PATH) == chats  # scoring never re-sends a cell
    assert len(pg.repository.scores(sweep_id=sw.id)) == 2  # the error scores replaced


def test_a_429_with_retry_after_during_a_sweep_is_retried(pg: Any, stub: OpenAIStub) -> None:
    sw = pg.sweep(PROMPT, vars=VARS[:1], progress=False)
    stub.fail_next(429, headers={"retry-after": "0"})
    scored = pg.score(sw, scorers=[cosine()], progress=False)
    assert scored.scores()["passed"].all()
    assert [r.status for r in stub.requests if r.path == PATH] == [429, 200]


def test_the_simulated_provider_embeds_offline_and_says_so(tmp_path: Path) -> None:
    with Playground(db=tmp_path / "log.duckdb", user="u", provider="simulated",
                    simulated_latency=0) as pg:
        sw = pg.sweep(PROMPT, vars=VARS, scorers=[cosine()], progress=False)
        assert sw.scores()["score"].between(0, 1).all()
        models = pg.repository.query("SELECT DISTINCT model FROM embeddings")["model"]
        assert models.tolist() == ["simulated-trigram-256"]
        spent = pg.repository.query("SELECT sum(cost) AS c FROM usage WHERE provider = "
                                    "'simulated' AND experiment_id LIKE 'emb-%'")["c"][0]
        assert spent > 0  # what text-embedding-3-small would have cost (a would-cost)

"""A compatible server's answers are recorded and priced as the model that wrote them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from nbplayground.configuration import Endpoint
from nbplayground.ui import state
from tests.conftest import TEST_KEY
from tests.support.openai_stub import OpenAIStub

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture
def llama_like() -> Any:
    """A server like llama.cpp's: it lists its one file and answers every request with it."""
    with OpenAIStub(api_key=TEST_KEY, models=[GGUF], answer_as=GGUF) as server:
        yield server
        assert server.errors == []


def logged(db: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_an_endpoint_defaults_to_a_model_it_lists(make_pg: Any, db: Path,
                                                  llama_like: OpenAIStub) -> None:
    pg = make_pg(provider=Endpoint(base_url=llama_like.base_url, api_key=TEST_KEY))
    assert pg.default_model() == GGUF
    exp = pg.run("Name a colour.", max_tokens=8)
    assert exp.ok and exp.model == GGUF and exp.response_model == GGUF
    assert [r.body["model"] for r in llama_like.requests if r.path.endswith("/completions")] \
        == [GGUF]
    assert llama_like.count("/v1/models") == 1  # asked once, not per run
    pg.run("Name a fruit.", max_tokens=8)
    assert llama_like.count("/v1/models") == 1
    frame = pg.models()
    assert frame.loc[frame["default"], "model"].tolist() == [GGUF]


def test_openai_base_url_defaults_to_a_listed_model_too(make_pg: Any, llama_like: OpenAIStub,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", llama_like.base_url)
    pg = make_pg()
    assert pg.provider == "openai" and pg.default_model() == GGUF
    sw = pg.sweep("Name a colour.", temperature=[0.0, 1.0], max_tokens=8)
    assert set(sw.to_pandas()["model"]) == {GGUF}


def test_a_server_listing_the_usual_default_keeps_it(make_pg: Any, stub: OpenAIStub) -> None:
    pg = make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))
    assert pg.default_model() == "gpt-4o-mini"  # a proxy to OpenAI lists it


def test_what_answered_is_logged_and_priced_not_what_was_asked(
        make_pg: Any, db: Path, llama_like: OpenAIStub) -> None:
    pg = make_pg(provider=Endpoint(base_url=llama_like.base_url, api_key=TEST_KEY))
    plain = pg.run("Name a colour.", model="gpt-4o-mini", max_tokens=8)
    streamed = pg.run("Name a fruit.", model="gpt-4o-mini", max_tokens=8, on_token=lambda _: None)
    for exp in (plain, streamed):
        assert exp.model == "gpt-4o-mini" and exp.response_model == GGUF
        assert exp.metrics.cost_estimate is None  # SmolLM2 has no price: unpriced, never $0
    assert logged(db, "select model, response_model, cost_estimate from experiments") \
        == [("gpt-4o-mini", GGUF, None)] * 2
    assert logged(db, "select count(*), sum(cost) from usage") == [(2, None)]
    cost = pg.report("cost")
    assert cost["unpriced"].sum() == 2 and cost["cost"].sum() == 0
    priced = pg.run("Name a colour.", model="gpt-4o-mini", max_tokens=8, price_as="gpt-4o-mini")
    assert priced.metrics.cost_estimate is None and priced.metrics.cost_as is not None
    assert priced.metrics.cost_as > 0


def test_openai_answering_with_a_dated_snapshot_is_priced(make_pg: Any) -> None:
    with OpenAIStub(api_key=TEST_KEY, answer_as="gpt-4o-mini-2024-07-18") as server:
        pg = make_pg(provider=Endpoint(base_url=server.base_url, api_key=TEST_KEY))
        exp = pg.run("Name a colour.", model="gpt-4o-mini", max_tokens=8)
    assert exp.response_model == "gpt-4o-mini-2024-07-18"
    assert exp.metrics.cost_estimate is not None and exp.metrics.cost_estimate > 0


def test_a_snapshot_genai_prices_does_not_know_is_priced_as_its_family(make_pg: Any) -> None:
    with OpenAIStub(api_key=TEST_KEY, answer_as="gpt-4o-mini-2099-01-01") as server:
        pg = make_pg(provider=Endpoint(base_url=server.base_url, api_key=TEST_KEY))
        exp = pg.run("Name a colour.", model="gpt-4o-mini", max_tokens=8)
    asked = pg._w.costs.cost("openai", "gpt-4o-mini", exp.metrics.prompt_tokens,
                           exp.metrics.completion_tokens)
    assert exp.metrics.cost_estimate == asked and asked is not None


def test_the_panel_does_not_describe_a_gguf_as_gpt_4o(make_pg: Any,
                                                       llama_like: OpenAIStub) -> None:
    pg = make_pg(provider=Endpoint(base_url=llama_like.base_url, api_key=TEST_KEY))
    panel = pg.panel()
    assert panel.model == GGUF
    entry = state.model_entry("openai", GGUF)
    assert entry["context_window"] is None and entry["max_output_tokens"] is None
    assert "GPT" not in entry["description"] and "unknown" in entry["description"]
    assert next(e for e in panel.models if e["model"] == GGUF)["description"] \
        == entry["description"]

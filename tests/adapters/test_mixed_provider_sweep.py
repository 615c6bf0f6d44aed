"""One sweep over two real providers: simulated beside the loopback OpenAI stub as an Endpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from nbplayground import InvalidInput
from nbplayground.configuration import Endpoint
from tests.conftest import TEST_KEY
from tests.support.openai_stub import OpenAIStub

ZIPPED: dict[str, Any] = {"provider": ["openai", "simulated"],
                          "model": ["gpt-4o-mini", "gpt-4o"], "mode": "zip", "max_tokens": 8}


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture
def pg(make_pg: Any, stub: OpenAIStub) -> Any:
    return make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))


def test_each_cell_runs_logs_and_prices_on_its_own_provider(pg: Any, stub: OpenAIStub,
                                                            db: Path) -> None:
    sw = pg.sweep("Name a colour.", progress=False, **ZIPPED)
    df = sw.to_pandas()
    assert list(zip(df["provider"], df["model"], df["status"], strict=True)) == [
        ("openai", "gpt-4o-mini", "ok"), ("simulated", "gpt-4o", "ok")]
    assert stub.count("/v1/chat/completions") == 1  # only the openai cell went to the server
    assert df["response"][0].startswith("Echo: Name a colour.")
    logged = rows(db, "SELECT provider, model, base_url, sweep_id, cost_estimate FROM "
                      "experiments ORDER BY provider")
    assert [(p, m, s) for p, m, _, s, _ in logged] == [("openai", "gpt-4o-mini", sw.id),
                                                        ("simulated", "gpt-4o", sw.id)]
    assert logged[0][2] == stub.base_url and logged[1][2] is None
    # Spend is what the billed provider charged; the simulated answer only "would cost".
    assert logged[1][4] > 0  # priced as gpt-4o would be
    assert pg.budget()["spent_today"] == pytest.approx(logged[0][4])
    cost = pg.report("cost", sw).set_index("model")
    assert cost.loc["gpt-4o", "cost"] == 0 and cost.loc["gpt-4o", "would_cost"] > 0
    assert "would cost, simulated" in sw.summary()
    assert "<th>provider</th>" in sw._repr_html_()
    [[spec]] = rows(db, f"SELECT spec FROM sweeps WHERE id = '{sw.id}'")
    assert json.loads(spec)["provider"] == ["openai", "simulated"]


def test_the_provider_is_part_of_each_cells_cache_key(pg: Any, stub: OpenAIStub) -> None:
    both = {"provider": ["openai", "simulated"], "model": "gpt-4o-mini", "max_tokens": 8}
    first = pg.sweep("Same prompt.", progress=False, **both)
    keys = {c.cache_key for c in first.cells}
    assert len(keys) == 2  # the same body on two providers: two answers, never one for both
    again = pg.sweep("Same prompt.", progress=False, **both)
    assert again.id == first.id and again.count("cached") == 2
    assert stub.count("/v1/chat/completions") == 1
    assert list(again.to_pandas()["provider"]) == ["openai", "simulated"]


def test_estimate_names_each_provider_and_retry_failed_resends_only_the_failed(
        pg: Any, stub: OpenAIStub) -> None:
    est = pg.estimate("Name a colour.", **ZIPPED)
    assert est.calls == 2 and set(est.by_model) == {"gpt-4o-mini (openai)",
                                                    "gpt-4o (simulated)"}
    stub.fail_next(400)  # not retryable: the openai cell fails, the simulated one does not
    sw = pg.sweep("Name a colour.", progress=False, **ZIPPED)
    assert list(sw.to_pandas()["status"]) == ["error", "ok"]
    with pytest.raises(InvalidInput, match="a batch takes one provider"):
        pg.retry_failed(sw, via="batch", progress=False)
    done = pg.retry_failed(sw, progress=False)
    assert list(done.to_pandas()["status"]) == ["ok", "ok"]
    assert stub.count("/v1/chat/completions") == 2


def test_a_batch_takes_one_provider_and_says_so_before_sending(pg: Any,
                                                               stub: OpenAIStub) -> None:
    for call in (pg.sweep, pg.estimate):
        with pytest.raises(InvalidInput, match="a batch takes one provider"):
            call("Name a colour.", via="batch", **ZIPPED)
    with pytest.raises(InvalidInput, match="provider must be one of"):
        pg.sweep("x", provider=["openai", "carrier pigeon"], progress=False)
    assert stub.requests == []

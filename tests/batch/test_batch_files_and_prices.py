"""Batch input files at OpenAI's limits (a 60,000-cell sweep is two files, built and stopped
before upload), prices at batch and flex rates with their source, and budgets that hold a
batch's maximum from its submission until its results are booked."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from nbplayground import BudgetExceeded, InvalidInput
from nbplayground.adapters.genai_price_table import GenaiPriceTable
from nbplayground.analytics import CostEstimator
from nbplayground.configuration import Endpoint
from nbplayground.domain.batch import MAX_BYTES, MAX_LINES
from nbplayground.experimentation.batch_files import build_files, line_of
from tests.conftest import TEST_KEY
from tests.fakes import FakePriceTable, FakeTokenizer
from tests.support.openai_stub import OpenAIStub


@pytest.fixture
def pg(make_pg: Any, stub: OpenAIStub) -> Any:
    return make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))


def repeats(cell: Any, n: int) -> list[Any]:
    """n distinct cells (repeats of one request: distinct cache keys, the same body)."""
    return [dataclasses.replace(cell, request=cell.request.model_copy(update={"repeat": i}))
            for i in range(n)]


def test_sixty_thousand_cells_are_two_files_within_the_limits(pg: Any, tmp_path: Path) -> None:
    cells = repeats(pg.prepare("Name a colour.", max_tokens=5), 60_000)
    files = build_files(cells, tmp_path)
    assert [len(f.custom_ids) for f in files] == [MAX_LINES, 10_000]
    assert [f.cells[0] for f in files] == [0, MAX_LINES]
    keys = [k for f in files for k in f.custom_ids]
    assert len(set(keys)) == 60_000 and keys == [c.cache_key for c in cells]
    for f in files:
        data = f.path.read_bytes()
        assert len(data) == f.size <= MAX_BYTES
        lines = data.splitlines()
        assert len(lines) == len(f.custom_ids) <= MAX_LINES
        first = json.loads(lines[0])
        assert first == {"custom_id": f.custom_ids[0], "method": "POST",
                         "url": "/v1/chat/completions", "body": cells[f.cells[0]].request.body()}


def test_files_split_by_bytes_and_by_model_and_endpoint(pg: Any, tmp_path: Path) -> None:
    chat = repeats(pg.prepare("Name a colour.", max_tokens=5), 10)
    other = repeats(pg.prepare("Name a colour.", model="gpt-4.1-nano", max_tokens=5), 3)
    responses = repeats(pg.prepare("Name a colour.", api="responses", max_tokens=16), 2)
    size = len(line_of(chat[0]))
    files = build_files([*chat, *other, *responses], tmp_path, max_bytes=4 * size)
    assert [(f.endpoint, f.model, len(f.custom_ids)) for f in files] == [
        ("/v1/chat/completions", "gpt-4o-mini", 4), ("/v1/chat/completions", "gpt-4o-mini", 4),
        ("/v1/chat/completions", "gpt-4o-mini", 2), ("/v1/chat/completions", "gpt-4.1-nano", 3),
        ("/v1/responses", "gpt-4o-mini", 2)]  # in the order each file was begun
    assert all(f.size <= 4 * size for f in files)
    with pytest.raises(InvalidInput, match="more than a batch file may hold"):
        build_files(chat[:1], tmp_path / "tiny", max_bytes=size - 1)


def test_batch_and_flex_prices_and_where_they_come_from() -> None:
    known = CostEstimator(FakeTokenizer(), GenaiPriceTable())
    standard = known.cost("openai", "gpt-4o-mini", 1000, 1000)
    assert standard is not None
    price, source = known.priced("openai", "gpt-4o-mini", 1000, 1000, tier="batch")
    assert (price, source) == (pytest.approx(standard / 2), "genai-prices batch rate")
    # No flex rate for gpt-4o-mini in genai-prices: OpenAI's documented discount, marked.
    price, source = known.priced("openai", "gpt-4o-mini", 1000, 1000, tier="flex")
    assert price == pytest.approx(standard / 2) and source is not None and "50%" in source
    plain = CostEstimator(FakeTokenizer(), FakePriceTable())  # a table with no tiers at all
    assert plain.priced("openai", "m", 1000, 0, tier="batch") == (
        pytest.approx(0.5), "batch: 50% of the standard rate (documented)")
    assert plain.priced("openai", "m", 1000, 0, tier="default") == (1.0, None)
    assert plain.priced("local", "m", 1000, 0, tier="batch") == (0.0, None)  # unpriced


def test_estimate_via_batch_is_at_batch_rates_and_rows_say_so(pg: Any, stub: OpenAIStub
                                                              ) -> None:
    sync = pg.estimate(["a", "b"], max_tokens=50)
    batch = pg.estimate(["a", "b"], max_tokens=50, via="batch")
    assert batch.calls == sync.calls == 2
    assert batch.max_cost == pytest.approx(sync.max_cost / 2)
    sw = pg.sweep(["a", "b"], max_tokens=50, via="batch", progress=False)
    sw.wait(poll=0, progress=False, sleep=lambda s: stub.batch_api.advance())
    exp = sw.results[0]
    assert exp.via == "batch" and exp.metrics.price_source == "genai-prices batch rate"
    full = CostEstimator(FakeTokenizer(), GenaiPriceTable()).cost(
        "openai", "gpt-4o-mini", exp.metrics.prompt_tokens, exp.metrics.completion_tokens)
    assert exp.metrics.cost_estimate == pytest.approx(full / 2)


def test_a_batch_holds_its_maximum_until_its_results_are_booked(pg: Any,
                                                               stub: OpenAIStub) -> None:
    most = pg.estimate(["a", "b", "c"], max_tokens=4000, via="batch").max_cost
    pg.set_limits(daily_usd=most * 1.5)
    with pytest.raises(BudgetExceeded, match="max_cost"):
        pg.sweep(["a", "b", "c"], max_tokens=4000, via="batch", max_cost=most / 2,
                 progress=False)
    sw = pg.sweep(["a", "b", "c"], max_tokens=4000, via="batch", progress=False)
    assert pg.budget()["spent_today"] == pytest.approx(most)  # held as spent, on disk
    # A second batch of that size no longer fits: refused before anything is uploaded.
    uploads = stub.count("/v1/files")
    with pytest.raises(BudgetExceeded, match="budget exceeded"):
        pg.sweep(["d", "e", "f"], max_tokens=4000, via="batch", progress=False)
    assert stub.count("/v1/files") == uploads
    sw.wait(poll=0, progress=False, sleep=lambda s: stub.batch_api.advance())
    spent = pg.budget()["spent_today"]
    assert spent == pytest.approx(sw.spent) and 0 < spent < most / 10  # settled: what it cost

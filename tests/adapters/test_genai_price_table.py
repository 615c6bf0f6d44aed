"""GenaiPriceTable: USD from genai-prices' bundled data, offline, None when unpriced."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from nbplayground.adapters.genai_price_table import GenaiPriceTable
from nbplayground.analytics.ports import PriceTable

M = 1_000_000



@pytest.fixture
def table() -> GenaiPriceTable:
    return GenaiPriceTable()


def _openai_rates(model_id: str) -> Any:
    """The per-million-token prices of an OpenAI model, read straight from the package data."""
    from genai_prices.data import providers
    from genai_prices.types import ModelPrice

    openai = next(p for p in providers if p.id == "openai")
    prices = next(m for m in openai.models if m.id == model_id).prices
    assert isinstance(prices, ModelPrice)
    return prices


def test_satisfies_the_port(table: GenaiPriceTable) -> None:
    port: PriceTable = table
    assert port.price("gpt-4o-mini", 0, 0) == 0.0


def test_gpt_4o_mini_matches_package_data(table: GenaiPriceTable) -> None:
    rates = _openai_rates("gpt-4o-mini")
    assert (rates.input_mtok, rates.output_mtok) == (Decimal("0.15"), Decimal("0.6"))
    assert table.price("gpt-4o-mini", M, 0) == pytest.approx(0.15)
    assert table.price("gpt-4o-mini", 0, M) == pytest.approx(0.60)
    p, c = 1234, 567
    expected = float((p * rates.input_mtok + c * rates.output_mtok) / M)
    assert table.price("gpt-4o-mini", p, c) == pytest.approx(expected, rel=1e-12)


def test_cached_tokens_at_cached_rate(table: GenaiPriceTable) -> None:
    rates = _openai_rates("gpt-4o-mini")
    assert rates.cache_read_mtok == Decimal("0.075")
    assert table.price("gpt-4o-mini", M, 0, cached_tokens=M) == pytest.approx(0.075)
    # prompt_tokens includes the cached part: 800 fresh + 200 cached + 500 out
    expected = float((800 * rates.input_mtok + 200 * rates.cache_read_mtok
                      + 500 * rates.output_mtok) / M)
    assert table.price("gpt-4o-mini", 1000, 500, cached_tokens=200) == pytest.approx(expected)
    # no cached rate listed (gpt-4-turbo): cached input costs the full input rate
    assert table.price("gpt-4-turbo", M, 0, cached_tokens=M // 2) == pytest.approx(10.0)


def test_unknown_model_is_none_not_zero(table: GenaiPriceTable) -> None:
    for model in ("no-such-model", "smollm2", "llama3", "", "moderation"):
        assert table.price(model, 1000, 1000) is None
        assert not table.known(model)
    assert table.price("no-such-model", 5, 5) is None  # cached miss, same answer


def test_known_models_and_snapshots(table: GenaiPriceTable) -> None:
    for model in ("gpt-4o-mini", "gpt-4o", "gpt-4.1-nano", "gpt-3.5-turbo", "gpt-5", "o3-mini"):
        assert table.known(model), model
    assert table.price("gpt-4o-2024-08-06", M, M) == table.price("gpt-4o", M, M) == 12.5
    assert table.price("gpt-4o-mini-2024-07-18", M, 0) == pytest.approx(0.15)
    assert table.price("GPT-4o-Mini", M, 0) == pytest.approx(0.15)


def test_historic_prices(table: GenaiPriceTable) -> None:
    # o3 dropped from $10 to $2 per million input tokens on 2025-06-10
    assert table.price("o3", M, 0, at=datetime(2025, 5, 1, tzinfo=UTC)) == pytest.approx(10.0)
    assert table.price("o3", M, 0, at=datetime(2025, 7, 1, tzinfo=UTC)) == pytest.approx(2.0)
    assert table.price("o3", M, 0, at=datetime(2025, 7, 1)) == pytest.approx(2.0)  # naive = UTC


def test_bad_counts_are_rejected(table: GenaiPriceTable) -> None:
    with pytest.raises(ValueError, match="cannot exceed"):
        table.price("gpt-4o-mini", 10, 0, cached_tokens=11)
    with pytest.raises(ValueError, match="0 or more"):
        table.price("gpt-4o-mini", -1, 0)


def test_works_with_network_blocked(offline: None) -> None:
    with pytest.raises(OSError, match="network access"):
        socket.create_connection(("raw.githubusercontent.com", 443))
    table = GenaiPriceTable()
    assert table.price("gpt-4.1-nano", M, M) == pytest.approx(0.5)
    assert table.price("no-such-model", 1, 1) is None


def test_uses_bundled_data_and_imports_lazily() -> None:
    code = (
        "import sys\n"
        "from nbplayground.adapters.genai_price_table import GenaiPriceTable\n"
        "assert 'genai_prices' not in sys.modules\n"
        "assert GenaiPriceTable().price('gpt-4o-mini', 10**6, 0) == 0.15\n"
        "from genai_prices import data_snapshot, update_prices\n"
        "assert data_snapshot._custom_snapshot is None\n"  # no auto-update swapped the data
        "assert update_prices._shared_updater.ref_count == 0\n"  # no updater running
    )
    subprocess.run([sys.executable, "-c", code], check=True)

"""A small hand-made log in a real DuckDB file, whose report values are worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nbplayground.adapters.duckdb import DuckDBExperimentRepository
from nbplayground.domain import Experiment, ModelParameters, ResponseMetrics
from tests.factories import make_experiment

DAY1 = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
SWEEP = "sw-hand"

# (model, temperature, repeat, completion_tokens, generation_time_ms, response)
CELLS = [
    ("m1", 0.0, 0, 10, 100.0, "a b c"),
    ("m1", 0.0, 1, 14, 200.0, "a b c"),
    ("m1", 1.0, 0, 20, 300.0, "a b c"),
    ("m1", 1.0, 1, 30, 400.0, "c d e"),
    ("m2", 0.0, 0, 5, 50.0, "Hello, world!"),
    ("m2", 0.0, 1, 5, 50.0, "hello world"),
    ("m2", 1.0, 0, 8, 150.0, "one"),
    ("m2", 1.0, 1, 12, 250.0, "two three four"),
]
"""alice's ok runs in SWEEP; cost is completion_tokens * 1e-4 USD, prompt_tokens 10 each."""


def run(model: str, temperature: float, repeat: int, completion: int, ms: float,
        response: str, *, at: datetime, **overrides: object) -> Experiment:
    fields: dict[str, object] = {
        "model": model, "repeat": repeat, "sweep_id": SWEEP, "response": response,
        "timestamp": at, "parameters": ModelParameters(temperature=temperature, max_tokens=32),
        "metrics": ResponseMetrics(prompt_tokens=10, completion_tokens=completion,
                                   generation_time_ms=ms, cost_estimate=completion * 1e-4)}
    fields.update(overrides)
    return make_experiment(**fields)


def hand_log() -> list[Experiment]:
    exps = [run(*cell, at=DAY1 + timedelta(seconds=i)) for i, cell in enumerate(CELLS)]
    exps.append(run("m1", 0.0, 2, 0, 0.0, "", at=DAY1 + timedelta(seconds=20), status="error",
                    error="429 rate limited", error_type="RateLimited",
                    metrics=ResponseMetrics()))
    exps.append(run("m1", 0.0, 0, 99, 999.0, "bob's answer", at=DAY1, user_id="bob"))
    exps.append(run("m2", 0.0, 0, 7, 70.0, "elsewhere", at=DAY2, sweep_id="sw-other"))
    return exps


@pytest.fixture
def repo(tmp_path: Path) -> DuckDBExperimentRepository:
    repository = DuckDBExperimentRepository(tmp_path / "hand.duckdb")
    repository.add(hand_log())
    return repository

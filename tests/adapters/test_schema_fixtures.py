"""Logs written by every released schema open and upgrade in place with nothing lost.

Each fixture under tests/fixtures/log-vN is an EXPORT DATABASE of a log written by schema N
(text files, so they outlive DuckDB's storage format). A new migration adds a fixture of the
schema before it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from nbplayground.adapters.duckdb import DuckDBExperimentRepository
from nbplayground.adapters.duckdb.migrations import latest

FIXTURES = sorted((Path(__file__).parents[1] / "fixtures").glob("log-v*"))


def materialize(fixture: Path, tmp_path: Path) -> Path:
    """IMPORT DATABASE by hand: load.sql names its CSV files relative to the fixture."""
    db = tmp_path / f"{fixture.name}.duckdb"
    load = (fixture / "load.sql").read_text().replace("FROM '", f"FROM '{fixture}/")
    with duckdb.connect(str(db)) as conn:
        conn.execute((fixture / "schema.sql").read_text())
        conn.execute(load)
    return db


def test_there_is_a_fixture_for_every_released_schema() -> None:
    versions = {int(f.name.removeprefix("log-v")) for f in FIXTURES}
    assert versions == set(range(1, latest() + 1))


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.name)
def test_an_old_log_opens_upgrades_and_keeps_every_row(fixture: Path, tmp_path: Path) -> None:
    db = materialize(fixture, tmp_path)
    with (fixture / "experiments.csv").open(newline="", encoding="utf-8") as f:
        expected = {row["id"]: row for row in csv.DictReader(f)}
    repo = DuckDBExperimentRepository(db)
    history = repo.history()
    assert set(history["id"]) == set(expected)
    for exp_id, row in expected.items():
        exp = repo.get(exp_id)
        assert exp is not None and exp.response == row["response"]
        assert exp.user_id == row["user_id"] and exp.model == row["model"]
        assert exp.response_model == (row.get("response_model") or None)
    with duckdb.connect(str(db), read_only=True) as conn:
        applied = [n for (n,) in conn.execute("select number from _migrations order by 1")
                   .fetchall()]
    assert applied == list(range(1, latest() + 1))

"""Reports on the team log run in PostgreSQL and give the file log's DataFrames for the same
rows, every kind and option; and they only ever see the rows row security lets the login see."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from nbplayground import Playground
from nbplayground.adapters.duckdb import DuckDBExperimentRepository
from nbplayground.adapters.postgres import PostgresExperimentRepository, PostgresUsageLedger
from nbplayground.analytics import reports
from nbplayground.domain import Experiment, ModelParameters, ResponseMetrics
from tests.factories import T0, make_experiment
from tests.team.conftest import Team

WORDS = ["the", "duck", "rows", "Query", "fast", "a", "log", "ÄPFEL", "x_1", "9"]


def varied_log() -> list[Experiment]:
    """Two users; models, temperatures (1.0 among them), prompts, seeds (NULL too), repeats,
    errors, cut answers, unpriced and unbilled runs, a few days."""
    out = []
    grid = itertools.product(("alice", "bob"), ("gpt-4o-mini", "gpt-4.1-nano"),
                             (0.0, 0.5, 1.0), ("Name a duck.", "Name a row."), range(3))
    for i, (user, model, t, prompt, repeat) in enumerate(grid):
        words = " ".join(WORDS[(i * k) % len(WORDS)] for k in range(1, 3 + i % 7))
        failed = i % 17 == 5
        out.append(make_experiment(
            user_id=user, model=model, prompt=prompt, repeat=repeat,
            sweep_id="s1" if i % 3 else "s2", status="error" if failed else "ok",
            error="boom" if failed else None, response="" if failed else words,
            provider="simulated" if i % 11 == 0 else "openai",
            finish_reason="length" if i % 5 == 0 else "stop",
            timestamp=T0 + timedelta(hours=7 * i, milliseconds=i),
            parameters=ModelParameters(temperature=t, seed=None if i % 4 == 0 else i % 3,
                                       max_tokens=64),
            metrics=ResponseMetrics(prompt_tokens=10 + i % 5, completion_tokens=i % 13,
                                    generation_time_ms=100.0 + 37 * (i % 9),
                                    cost_estimate=None if i % 7 == 0 else 1e-5 * (i % 6))))
    return out


CASES: list[tuple[str, Callable[[Any, Any], pd.DataFrame]]] = [
    *((f"pivot {by}", lambda qy, s, by=by: reports.pivot(qy, "alice", s, by=by))
      for by in (None, "model", ["model", "temperature"], "seed", [])),
    *((f"cost {by}", lambda qy, s, by=by: reports.cost(qy, "alice", s, by=by))
      for by in ("model", "day", "user", "provider", "sweep", ["day", "model"],
                 ["user", "model"])),
    *((f"latency {by}", lambda qy, s, by=by: reports.latency(qy, "alice", s, by=by))
      for by in ("model", "day", "temperature", [], ["model", "prompt"])),
    *((f"length {p}", lambda qy, s, p=p: reports.length(qy, "alice", s, params=p))
      for p in (None, "temperature", ["model", "seed", "max_tokens"])),
    *((f"variety n={n} {by}", lambda qy, s, n=n, by=by: reports.variety(qy, "alice", s, by=by,
                                                                        n=n))
      for n, by in ((1, None), (2, None), (3, "model"), (2, [] ), (5, "temperature"))),
    ("variety newest 7", lambda qy, s: reports.variety(qy, "alice", s, rows=7)),
    *((f"answers {c}", lambda qy, s, c=c: reports.answers(qy, "alice", s, column=c, diff=True))
      for c in ("model", "temperature", "seed", "prompt")),
    ("answers newest 5", lambda qy, s: reports.answers(qy, "alice", s, rows=5, limit=3)),
    *((f"compare {x} {y} {c}", lambda qy, s, x=x, y=y, c=c: reports.compare(
        qy, "alice", s, x, y, c))
      for x, y, c in (("temperature", "completion_tokens", "model"),
                      ("model", "cost_estimate", None), ("seed", "answer_words", "temperature"),
                      ("temperature", "tokens_per_s", "prompt"),
                      ("max_tokens", "answer_chars", "model"))),
    ("tokens_cost", lambda qy, s: reports.tokens_cost(qy, "alice", s, limit=50)),
]


@pytest.fixture
def both(team: Team, tmp_path: Path) -> tuple[Any, Any]:
    """The same rows in a file log and in the team log (as alice's login)."""
    log = varied_log()
    DuckDBExperimentRepository(tmp_path / "log.duckdb").add(log)
    owner = PostgresExperimentRepository(team.owner)
    owner.add(log)
    owner.close()
    alice = PostgresExperimentRepository(team.dsn("alice"))
    yield DuckDBExperimentRepository(tmp_path / "log.duckdb").query, alice.report_query
    alice.close()


@pytest.mark.parametrize("scope", [None, "s1", "ids"], ids=["whole log", "sweep", "ids"])
def test_every_report_is_the_file_logs_frame(both: tuple[Any, Any], scope: Any) -> None:
    file_query, team_query = both
    if scope == "ids":
        scope = file_query("SELECT id FROM experiments WHERE sweep_id = 's2' "
                           "AND user_id = 'alice'", [])["id"].tolist()[:9]
    for name, build in CASES:
        expected = build(file_query, scope)
        assert not expected.empty, name
        pd.testing.assert_frame_equal(build(team_query, scope), expected, obj=name)


def test_the_facade_runs_reports_charts_and_usage_in_postgresql(team: Team,
                                                                tmp_path: Path) -> None:
    log = [e for e in varied_log() if e.user_id == "alice"]
    usage = [{"id": e.id, "user_id": "alice", "experiment_id": e.id, "model": e.model,
              "provider": e.provider, "prompt_tokens": 10, "completion_tokens": 5,
              "cost": 0.001, "created_at": e.timestamp} for e in log]
    DuckDBExperimentRepository(tmp_path / "log.duckdb").add(log, usage=usage)
    owner = PostgresUsageLedger(team.owner)
    owner.add(log, usage=usage)
    owner.close()
    with Playground(db=tmp_path / "log.duckdb", user="alice", provider="simulated") as local, \
            Playground(db=team.dsn("alice"), provider="simulated") as shared:
        for kind in ("pivot", "cost", "latency", "length", "variety", "answers"):
            for sweep in (None, "s1"):
                pd.testing.assert_frame_equal(shared.report(kind, sweep),
                                              local.report(kind, sweep), obj=kind)
        for by in ("day", "model", "user"):
            pd.testing.assert_frame_equal(shared.usage(by), local.usage(by))
        for kind in ("compare", "cost", "spend", "latency", "tokens_cost"):
            # as the JSON the front end gets (a figure's arrays do not compare with ==)
            assert shared.chart(kind, "s1").to_json() == local.chart(kind, "s1").to_json()


def test_a_users_report_excludes_other_users_rows_and_an_admins_includes_them(
        team: Team) -> None:
    owner = PostgresExperimentRepository(team.owner)
    owner.add(varied_log())
    owner.close()
    alice = PostgresExperimentRepository(team.dsn("alice"))
    carol = PostgresExperimentRepository(team.dsn("carol"))
    try:
        # No user filter in the SQL at all: row security alone keeps bob's rows out.
        mine = reports.cost(alice.report_query, None, None, by="user")
        assert mine["user"].tolist() == ["alice"]
        assert reports.cost(alice.report_query, "bob", None).empty
        everyone = reports.cost(carol.report_query, None, None, by="user")
        assert sorted(everyone["user"]) == ["alice", "bob"]
        assert int(everyone["calls"].sum()) == len(varied_log())
        assert reports.pivot(alice.report_query, None, None, by="model")["n"].sum() < \
            reports.pivot(carol.report_query, None, None, by="model")["n"].sum()
    finally:
        alice.close()
        carol.close()


def test_the_report_indexes_are_migration_7_and_exist(team: Team, connect: Any) -> None:
    from nbplayground.adapters.postgres.migrations import MIGRATIONS
    from nbplayground.adapters.postgres.migrations_reports import m007_report_indexes

    assert MIGRATIONS[6] is m007_report_indexes  # number 7
    found = {r[0] for r in connect("carol").execute(
        "SELECT indexname FROM pg_indexes WHERE tablename IN ('experiments', 'usage')")}
    assert {"experiments_report", "experiments_created", "usage_report"} <= found

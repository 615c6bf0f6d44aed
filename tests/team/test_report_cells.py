"""The team log's report cells (migration 10): what the trigger sums as batches are written is
what the rows say, whatever the batches; rows logged before the migration are summed by it; a
user reads only their own cells and writes none; an owner that is no superuser keeps them too."""

from __future__ import annotations

from typing import Any

import pandas as pd
import psycopg
import pytest

from nbplayground import Playground
from nbplayground import team as team_log
from nbplayground.adapters.postgres import PostgresExperimentRepository, migrations
from nbplayground.adapters.postgres.m010_report_cells import (
    COLUMNS,
    m010_report_cells,
    summed,
)
from nbplayground.analytics import reports
from nbplayground.domain import Experiment, ResponseMetrics
from tests.factories import make_experiment
from tests.team.conftest import Team
from tests.team.test_same_reports import varied_log


def repeated_log() -> list[Experiment]:
    """Two users' cells of five repeats each (one sweep, one day), some failed, cut or unpriced,
    the varied log's rows besides."""
    out = []
    for i in range(40):
        user, prompt = ("alice", "bob")[i % 2], ("Name a duck.", "Name a row.")[i // 2 % 2]
        failed = i % 9 == 4
        out.append(make_experiment(
            user_id=user, prompt=prompt, sweep_id="s1", repeat=i // 4,
            model=("gpt-4o-mini", "gpt-4.1-nano")[i // 20],
            status="error" if failed else "ok", error="boom" if failed else None,
            response="" if failed else f"The duck {i % 3} rows", finish_reason=(
                "length" if i % 7 == 0 else "stop"),
            metrics=ResponseMetrics(prompt_tokens=10 + i % 3, completion_tokens=i % 5,
                                    generation_time_ms=100.0 + 13 * (i % 6),
                                    cost_estimate=None if i % 8 == 0 else 1e-5 * (i % 4))))
    return out + varied_log()


def table(conn: Any, sql: str) -> pd.DataFrame:
    cur = conn.execute(sql)
    return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])


def kept_and_recomputed(dsn: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cells the trigger kept, and the cells summed afresh from every row (as the owner)."""
    cols = ", ".join(f'"{c}"' for c in COLUMNS)
    with psycopg.connect(dsn) as conn:
        kept = table(conn, f"SELECT {cols} FROM report_cells ORDER BY user_id, cell")
        fresh = table(conn, f"SELECT {cols} FROM ({summed('experiments')}) AS c "
                            "ORDER BY user_id, cell")
    return kept, fresh


def test_cells_written_batch_by_batch_are_the_cells_of_the_rows(team: Team) -> None:
    log = repeated_log()
    owner = PostgresExperimentRepository(team.owner)
    try:
        for start in range(0, len(log), 3):  # a cell's five repeats land in several batches
            owner.add(log[start:start + 3])
        owner.add(log[:4])  # a retried batch: its rows are logged already, nothing is added
    finally:
        owner.close()
    kept, fresh = kept_and_recomputed(team.owner)
    assert int(kept["calls"].max()) == 5  # cells were summed over several batches
    assert int(kept["calls"].sum()) == len(log)
    pd.testing.assert_frame_equal(kept, fresh)


def test_whole_log_reports_over_cells_summed_batch_by_batch_are_the_file_logs(
        team: Team, tmp_path: Any) -> None:
    from nbplayground.adapters.duckdb import DuckDBExperimentRepository

    log = repeated_log()
    DuckDBExperimentRepository(tmp_path / "log.duckdb").add(log)
    owner = PostgresExperimentRepository(team.owner)
    for start in range(0, len(log), 5):
        owner.add(log[start:start + 5])
    owner.close()
    alice = PostgresExperimentRepository(team.dsn("alice"))
    file_query = DuckDBExperimentRepository(tmp_path / "log.duckdb").query
    try:
        for build in (lambda qy: reports.pivot(qy, "alice"),
                      lambda qy: reports.cost(qy, "alice", by=["day", "model"]),
                      lambda qy: reports.length(qy, "alice"),
                      lambda qy: reports.compare(qy, "alice", None, "temperature",
                                                 "answer_words", "model")):
            pd.testing.assert_frame_equal(build(alice.report_query), build(file_query))
    finally:
        alice.close()


def test_the_migration_sums_the_rows_logged_before_it(team_db: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    [at] = [i for i, fn in enumerate(migrations.MIGRATIONS) if fn is m010_report_cells]
    before = migrations.MIGRATIONS[:at]
    with monkeypatch.context() as m:
        m.setattr(migrations, "MIGRATIONS", before)
        with psycopg.connect(team_db) as conn:
            migrations.migrate(conn, "the test's database")
        owner = PostgresExperimentRepository(team_db)
        owner.add(varied_log())
        owner.close()
    assert team_log.init(team_db, users={}, admins={})["migrations_applied"] == list(
        range(at + 1, len(migrations.MIGRATIONS) + 1))
    kept, fresh = kept_and_recomputed(team_db)
    assert int(kept["calls"].sum()) == len(varied_log())
    pd.testing.assert_frame_equal(kept, fresh)
    with psycopg.connect(team_db) as conn:
        words = conn.execute("SELECT response, response_words FROM experiments "
                             "WHERE response LIKE '%ÄPFEL%' LIMIT 1").fetchone()
    assert words is not None and "äpfel" not in words[1] and "pfel" in words[1].split(" ")


def test_a_user_reads_only_their_cells_and_writes_none(team: Team, connect: Any) -> None:
    for user in ("alice", "bob"):
        with Playground(db=team.dsn(user), provider="simulated") as pg:
            pg.sweep([f"{user} one", f"{user} two"], progress=False)
    alice = connect("alice")
    assert {r[0] for r in alice.execute("SELECT user_id FROM report_cells")} == {"alice"}
    for statement in ("UPDATE report_cells SET calls = 0", "DELETE FROM report_cells",
                      "INSERT INTO report_cells (cell, user_id, calls) VALUES ('x', 'alice', 9)",
                      "TRUNCATE report_cells", "SELECT report_cells_add()"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            alice.execute(statement)
    carol = connect("carol")
    assert {r[0] for r in carol.execute("SELECT user_id FROM report_cells")} == {"alice", "bob"}
    assert alice.execute("SELECT sum(calls) FROM report_cells").fetchone() == (2,)


def test_an_owner_that_is_no_superuser_keeps_the_cells(postgres_cluster: Any) -> None:
    with psycopg.connect(postgres_cluster.dsn(database="postgres"), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'cells_owner'").fetchone():
            conn.execute("DROP DATABASE IF EXISTS cells_log")
        else:
            conn.execute("CREATE ROLE cells_owner LOGIN NOSUPERUSER CREATEROLE "
                         "PASSWORD 'pw-owner'")
        conn.execute("CREATE DATABASE cells_log OWNER cells_owner")
    owner = postgres_cluster.dsn("cells_owner", "pw-owner", "cells_log")
    team_log.init(owner, users={"cells_user": "pw-u"}, admins={})
    with Playground(db=postgres_cluster.dsn("cells_user", "pw-u", "cells_log"),
                    provider="simulated") as pg:
        pg.sweep(["one", "two"], temperature=[0.0, 1.0], progress=False)
        assert int(pg.report("pivot")["n"].sum()) == 4
    kept, fresh = kept_and_recomputed(owner)
    assert int(kept["calls"].sum()) == 4
    pd.testing.assert_frame_equal(kept, fresh)


def test_the_file_logs_view_has_the_team_logs_columns_and_sums(team: Team, tmp_path: Any
                                                               ) -> None:
    from nbplayground.adapters.duckdb import DuckDBExperimentRepository

    log = repeated_log()
    local = DuckDBExperimentRepository(tmp_path / "log.duckdb")
    local.add(log)
    owner = PostgresExperimentRepository(team.owner)
    owner.add(log)
    owner.close()
    sums = "sum(calls) AS calls, sum(ok) AS ok, sum(answer_words_s1) AS words, " \
           "sum(cost_estimate_all) AS cost, count(*) AS cells"
    mine = local.query(f"SELECT {sums} FROM report_cells GROUP BY user_id ORDER BY user_id",
                       [])
    with psycopg.connect(team.owner) as conn:
        theirs = table(conn, f"SELECT {sums} FROM report_cells GROUP BY user_id "
                             "ORDER BY user_id")
        names = [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = "
            "'report_cells' ORDER BY ordinal_position")]
    assert names == list(COLUMNS)
    assert list(local.query("SELECT * FROM report_cells LIMIT 0", []).columns) == [
        c for c in COLUMNS if c != "cell"]
    pd.testing.assert_frame_equal(mine, theirs, check_dtype=False)

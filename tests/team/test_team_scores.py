"""Scores on the team log: a scored sweep logs them with its cells; raw SQL cannot read, write
or forge another user's scores."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from nbplayground import Playground
from nbplayground import scorers as s
from tests.team.conftest import Team

VARS = [{"country": "France", "capital": "Paris"}, {"country": "Japan", "capital": "Tokyo"}]


def scorers() -> list[Any]:
    return [s.contains("{capital}"), s.judge("Is {answer} the capital of {country}?",
                                             model="gpt-4o-mini")]


@pytest.fixture
def scored(team: Team) -> dict[str, Any]:
    out = {}
    for user in ("alice", "bob"):
        with Playground(db=team.dsn(user), provider="simulated") as pg:
            out[user] = pg.sweep("Capital of {country}?", vars=VARS, scorers=scorers(),
                                 progress=False)
    return out


def test_a_scored_sweep_on_the_team_log(scored: Any, team: Team) -> None:
    with Playground(db=team.dsn("alice"), provider="simulated") as pg:
        logged = pg.repository.scores(sweep_id=scored["alice"].id)
        assert len(logged) == 4 and set(logged["scorer"]) == {"contains", "judge"}
        assert logged[logged["scorer"] == "judge"]["judge_experiment_id"].notna().all()
        roles = pg.repository.query("SELECT coalesce(role, 'cell') AS role, count(*) AS n "
                                    "FROM experiments GROUP BY ALL ORDER BY role")
        assert roles.to_dict("records") == [{"role": "cell", "n": 2}, {"role": "judge", "n": 2}]
        report = pg.report("scores", scored["alice"], by="model")
        assert set(report["scorer"]) == {"contains", "judge", "passed"}
        again = pg.score(scored["alice"], scorers=scorers(), progress=False)  # from the cache
        assert len(again.scores()) == 4
        assert len(pg.repository.scores(sweep_id=scored["alice"].id)) == 4


def test_a_user_cannot_read_or_forge_anothers_scores(scored: Any, connect: Any) -> None:
    alice, bob = connect("alice"), connect("bob")
    owners = {r[0] for r in alice.execute("SELECT user_id FROM scores").fetchall()}
    assert owners == {"alice"}
    assert alice.execute("SELECT count(*) FROM scores").fetchone() == (4,)
    bobs_cell = scored["bob"].experiments[0].id
    alices_cell = scored["alice"].experiments[0].id
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        alice.execute("INSERT INTO scores (experiment_id, scorer, passed, created_at, user_id) "
                      "VALUES (%s, 'forged', true, now(), 'bob')", [bobs_cell])
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        # as herself, but a score of bob's experiment
        alice.execute("INSERT INTO scores (experiment_id, scorer, passed, created_at) "
                      "VALUES (%s, 'forged', true, now())", [bobs_cell])
    assert alice.execute("DELETE FROM scores WHERE experiment_id = %s", [bobs_cell]
                         ).rowcount == 0
    for statement in ("UPDATE scores SET passed = true", "TRUNCATE scores",
                      "UPDATE experiments SET response = 'pwned'"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            alice.execute(statement)
    marked = alice.execute("UPDATE experiments SET role = 'judge' WHERE id = %s", [bobs_cell])
    assert marked.rowcount == 0  # her own rows only
    alice.execute("INSERT INTO scores (experiment_id, scorer, passed, created_at) "
                  "VALUES (%s, 'mine', true, now())", [alices_cell])
    assert bob.execute("SELECT count(*) FROM scores").fetchone() == (4,)
    assert bob.execute("SELECT count(*) FROM scores WHERE scorer IN ('forged', 'mine')"
                       ).fetchone() == (0,)
    assert bob.execute("SELECT count(*) FROM experiments WHERE role = 'judge'").fetchone() \
        == (2,)


def test_an_admin_reads_every_users_scores(scored: Any, connect: Any) -> None:
    carol = connect("carol")
    owners = {r[0] for r in carol.execute("SELECT user_id FROM scores").fetchall()}
    assert owners == {"alice", "bob"}

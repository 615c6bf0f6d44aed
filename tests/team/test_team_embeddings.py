"""The cosine scorer's embeddings on the team log: cached per login under row security (a user
reads and writes only their own vectors), booked in their usage."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from nbplayground import Playground
from nbplayground import scorers as s
from tests.team.conftest import Team

VARS = [{"country": "France", "capital": "Paris"}]


@pytest.fixture
def embedded(team: Team) -> dict[str, Any]:
    out = {}
    for user in ("alice", "bob"):
        with Playground(db=team.dsn(user), provider="simulated") as pg:
            out[user] = pg.sweep("Capital of {country}?", vars=VARS, progress=False,
                                 scorers=[s.similarity("{capital}", metric="cosine")])
    return out


def test_a_cosine_sweep_on_the_team_log_caches_per_login(embedded: Any, team: Team,
                                                         connect: Any) -> None:
    assert embedded["alice"].scores()["score"].notna().all()
    mine = connect("alice").execute("SELECT user_id FROM embeddings").fetchall()
    assert mine == [("alice",), ("alice",)]  # the answer and the reference
    with Playground(db=team.dsn("alice"), provider="simulated") as pg:
        again = pg.score(embedded["alice"], progress=False,
                         scorers=[s.similarity("{capital}", metric="cosine", name="c2")])
        assert again.scores()["score"].tolist() == embedded["alice"].scores()["score"].tolist()
        booked = pg.repository.query("SELECT count(*) AS n FROM usage WHERE experiment_id "
                                     "LIKE 'emb-%'")["n"][0]
        assert booked == 1  # the sweep's one call; scoring again sent nothing


def test_a_user_cannot_read_or_plant_anothers_vectors(embedded: Any, connect: Any) -> None:
    alice, bob, carol = connect("alice"), connect("bob"), connect("carol")
    assert alice.execute("SELECT DISTINCT user_id FROM embeddings").fetchall() == [("alice",)]
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        alice.execute("INSERT INTO embeddings (user_id, key, model, dims, vector, created_at) "
                      "VALUES ('bob', 'planted', 'm', 1, '{1}', now())")
    for statement in ("UPDATE embeddings SET vector = '{0}'", "DELETE FROM embeddings",
                      "TRUNCATE embeddings"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            alice.execute(statement)
    alice.execute("INSERT INTO embeddings (key, model, dims, vector, created_at) "
                  "VALUES ('mine', 'm', 1, '{1}', now())")  # her own row
    assert bob.execute("SELECT count(*) FROM embeddings WHERE key IN ('mine', 'planted')"
                       ).fetchone() == (0,)
    assert bob.execute("SELECT count(*) FROM embeddings").fetchone() == (2,)  # the same
    # texts as alice's, under his own login: a hash tells him nothing of her answers
    assert carol.execute("SELECT count(DISTINCT user_id) FROM embeddings").fetchone() == (2,)

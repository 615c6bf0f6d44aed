"""Raw SQL as a user of the team log: another user's rows stay out of reach, whatever is tried."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from nbplayground import Playground
from tests.team.conftest import Team


@pytest.fixture
def logged(team: Team) -> dict[str, Any]:
    """alice and bob each ran two experiments, one sweep each."""
    out = {}
    for user in ("alice", "bob"):
        with Playground(db=team.dsn(user), provider="simulated") as pg:
            sw = pg.sweep([f"{user} one", f"{user} two"], progress=False)
            out[user] = sw
    return out


def test_a_user_reads_only_their_own_rows_in_every_table(logged: Any, connect: Any) -> None:
    alice = connect("alice")
    for table, key in (("experiments", "user_id"), ("api_requests", "user_id"),
                       ("sweeps", "user_id"), ("usage", "user_id"), ("users", "id")):
        owners = {r[0] for r in alice.execute(f"SELECT {key} FROM {table}").fetchall()}
        assert owners <= {"alice"}, table
    assert alice.execute("SELECT count(*) FROM experiments WHERE user_id = 'bob'"
                         ).fetchone() == (0,)
    assert alice.execute("SELECT count(*) FROM experiments").fetchone() == (2,)


def test_a_user_cannot_write_as_someone_else_nor_change_or_delete_rows(
        logged: Any, connect: Any) -> None:
    alice = connect("alice")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        alice.execute("INSERT INTO experiments (id, user_id, model, provider, status, "
                      "created_at) VALUES ('forged', 'bob', 'm', 'openai', 'ok', now())")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        alice.execute("INSERT INTO usage (id, user_id, cost, day) "
                      "VALUES ('u-forged', 'bob', 1000, current_date)")
    for statement in ("UPDATE experiments SET response = 'pwned'",
                      "DELETE FROM experiments", "DELETE FROM usage",
                      "UPDATE usage SET cost = 0", "TRUNCATE experiments"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            alice.execute(statement)
    # Sweeps are the user's to update, and only theirs: bob's rows are not even matched.
    cur = alice.execute("UPDATE sweeps SET status = 'pwned' WHERE user_id = 'bob'")
    assert cur.rowcount == 0
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        alice.execute("UPDATE sweeps SET user_id = 'bob'")
    bob = connect("bob")
    assert bob.execute("SELECT count(*) FROM experiments WHERE response = 'pwned'"
                       ).fetchone() == (0,)
    assert bob.execute("SELECT count(*) FROM sweeps WHERE status = 'pwned'").fetchone() == (0,)
    assert bob.execute("SELECT count(*) FROM experiments").fetchone() == (2,)


def test_row_security_cannot_be_turned_off_nor_a_role_borrowed(logged: Any,
                                                               connect: Any) -> None:
    alice = connect("alice")
    alice.execute("SET row_security = off")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        alice.execute("SELECT count(*) FROM experiments")
    alice.execute("RESET row_security")
    for statement in ("ALTER TABLE experiments DISABLE ROW LEVEL SECURITY",
                      "ALTER TABLE experiments NO FORCE ROW LEVEL SECURITY",
                      "DROP POLICY own_rows ON experiments",
                      "CREATE POLICY mine ON experiments USING (true)",
                      "ALTER ROLE alice BYPASSRLS", "GRANT nbplayground_admin TO alice"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            alice.execute(statement)
    for role in ("bob", "carol", "nbplayground_admin", "nbowner"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            alice.execute(f"SET ROLE {role}")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        alice.execute("SET SESSION AUTHORIZATION bob")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        alice.execute("CREATE TABLE stolen AS SELECT * FROM experiments")
    assert alice.execute("SELECT count(*) FROM experiments").fetchone() == (2,)


def test_a_user_cannot_raise_their_own_limits(logged: Any, connect: Any, team: Team) -> None:
    alice = connect("alice")
    for statement in ("UPDATE users SET limits = '{\"daily_usd\": 1e9}'",
                      "UPDATE users SET subscription_type = 'team'",
                      "UPDATE users SET role = 'admin'"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            alice.execute(statement)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        alice.execute("INSERT INTO users (id, limits) VALUES ('alice2', '{}')")
    from nbplayground.errors import TeamLogAccessDenied

    with Playground(db=team.dsn("alice"), provider="simulated") as pg:
        with pytest.raises(TeamLogAccessDenied, match="ask an admin"):
            pg.set_limits(daily_usd=1e6)
        assert pg.budget()["daily_limit"] == 1.0  # the free plan team init gave
        assert pg.budget()["plan"] == "free"


def test_an_admin_reads_everything_and_sets_limits(logged: Any, connect: Any,
                                                   team: Team) -> None:
    carol = connect("carol")
    assert carol.execute("SELECT count(*) FROM experiments").fetchone() == (4,)
    assert dict(carol.execute("SELECT user_id, count(*) FROM usage GROUP BY 1").fetchall()
                ) == {"alice": 2, "bob": 2}
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        carol.execute("DELETE FROM experiments")
    with Playground(db=team.dsn("carol"), provider="simulated") as pg:
        assert pg.is_admin
        assert len(pg.history(all_users=True)) == 4
        assert set(pg.history(user="bob")["prompt"]) == {"bob one", "bob two"}
        assert set(pg.usage("user", all_users=True)["user_id"]) == {"alice", "bob"}
        pg.set_limits(daily_usd=7.5, user="bob")
    with Playground(db=team.dsn("bob"), provider="simulated") as pg:
        assert not pg.is_admin
        assert pg.budget()["daily_limit"] == 7.5
        assert len(pg.history()) == 2


def test_images_sent_by_one_user_are_not_readable_by_another(team: Team, connect: Any,
                                                             tmp_path: Any) -> None:
    from tests.experimentation.test_answers_and_tools import png

    image = tmp_path / "secret.png"
    image.write_bytes(png(colour="blue"))
    with Playground(db=team.dsn("alice"), provider="simulated") as pg:
        exp = pg.submit("What is on it?", images=[image]).result()
        assert pg.repository.attachment(exp.images[0].sha256) == image.read_bytes()
    bob = connect("bob")
    assert bob.execute("SELECT count(*) FROM attachments").fetchone() == (0,)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        bob.execute("INSERT INTO attachments VALUES (%s, 'alice', 'image/png', 'x', now())",
                    [exp.images[0].sha256])
    carol = connect("carol")
    assert carol.execute("SELECT user_id FROM attachments").fetchall() == [("alice",)]


def test_saved_prompts_are_their_authors_own(team: Team, connect: Any) -> None:
    with Playground(db=team.dsn("alice"), provider="simulated") as pg:
        v = pg.prompts.save("capitals", "Capital of {country}?", temperature=0)
        exp = pg.run(v, vars={"country": "France"})
        assert (exp.prompt_name, exp.prompt_version) == ("capitals", 1)
        assert pg.prompts.save("capitals", "Capital of {country}?", temperature=0) == v
        assert pg.history()["prompt_version"].tolist() == [1]
    with Playground(db=team.dsn("bob"), provider="simulated") as pg:
        assert pg.prompts.list().empty
        mine = pg.prompts.save("capitals", "Bob's capital of {country}?")
        assert mine.version == 1 and mine.author == "bob"  # numbered apart from alice's
    bob = connect("bob")
    assert bob.execute("SELECT user_id, name FROM prompts").fetchall() == [("bob", "capitals")]
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        bob.execute("INSERT INTO prompts (user_id, name, version, template, params, "
                    "content_hash, created_at) VALUES ('alice', 'capitals', 2, 'x', '{}', "
                    "'h', now())")
    carol = connect("carol")
    assert sorted(carol.execute("SELECT user_id FROM prompts").fetchall()) == [("alice",),
                                                                               ("bob",)]

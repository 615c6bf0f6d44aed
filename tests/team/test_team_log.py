"""A Playground on the team log: the login is the identity, errors are typed and password-free,
team init is idempotent, and several processes sweeping into one log keep every row."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import pandas as pd
import psycopg
import pytest

from nbplayground import Playground, team
from nbplayground.__main__ import main
from nbplayground.adapters.postgres.migrations import latest
from nbplayground.errors import (
    SchemaTooNew,
    TeamLogAccessDenied,
    TeamLogNotSetUp,
    TeamLogUnreachable,
)
from tests.conftest import TEST_KEY
from tests.support.openai_stub import OpenAIStub
from tests.support.postgres import free_port
from tests.team.conftest import PASSWORDS, Team


def test_the_login_is_the_identity_whatever_user_says(team: Team) -> None:
    with Playground(db=team.dsn("alice"), user="bob", provider="simulated") as pg:
        assert pg.user == "alice"
        exp = pg.run("Hello there")
        assert exp.user_id == "alice"
        assert "pw-a" not in repr(pg) and "***" in repr(pg)
        assert list(pg.history()["id"]) == [exp.id]
        assert pg.get(exp.id).response == exp.response
        assert pg.usage("day")["requests"].sum() == 1
        assert pg.report("cost", by="model")["calls"].sum() == 1
    with Playground(db=team.dsn("bob"), provider="simulated") as pg:
        assert pg.history().empty


def test_nbplayground_db_may_name_the_team_log(team: Team,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBPLAYGROUND_DB", team.dsn("bob"))
    with Playground(provider="simulated") as pg:
        sw = pg.sweep(["a", "b", "c"], progress=False)
        assert sw.count("ok") == 3
        assert pg.user == "bob"
        assert len(pg.history(sweep=sw)) == 3


def test_a_wrong_password_is_refused_without_showing_it(team: Team) -> None:
    wrong = "not-the-password-CANARY"
    with pytest.raises(TeamLogAccessDenied, match="refused the login") as caught:
        Playground(db=team.dsn("alice", wrong), provider="simulated")
    assert wrong not in str(caught.value) and PASSWORDS["alice"] not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is None


def test_an_unreachable_server_says_so(team: Team) -> None:
    dsn = f"postgresql://alice:{PASSWORDS['alice']}@127.0.0.1:{free_port()}/nbplayground"
    with pytest.raises(TeamLogUnreachable, match="cannot reach") as caught:
        Playground(db=dsn, provider="simulated")
    assert PASSWORDS["alice"] not in str(caught.value)


def test_a_database_without_team_init_says_what_to_run(team_db: str) -> None:
    with pytest.raises(TeamLogNotSetUp, match="team init") as caught:
        Playground(db=team_db, provider="simulated")
    assert "owner-pw" not in str(caught.value)


def test_a_schema_newer_than_the_code_is_refused(team: Team) -> None:
    with psycopg.connect(team.owner, autocommit=True) as conn:
        conn.execute("INSERT INTO _migrations (number, name) VALUES (99, 'm099_future')")
    with pytest.raises(SchemaTooNew, match="upgrade nbplayground"):
        Playground(db=team.dsn("alice"), provider="simulated")


def test_team_init_from_the_shell_is_idempotent(team_db: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    args = ["team", "init", team_db, "--user", "dave", "--user", "erin", "--admin", "frank"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["migrations_applied"] == list(range(1, latest() + 1))
    assert main(args) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["migrations_applied"] == [] and second["logins_created"] == []
    assert "owner-pw" not in json.dumps(second)
    with psycopg.connect(team_db) as conn:
        rows = conn.execute("SELECT id, role FROM users ORDER BY id").fetchall()
        forced = conn.execute("SELECT relname FROM pg_class WHERE relforcerowsecurity "
                              "ORDER BY relname").fetchall()
    assert rows == [("dave", "user"), ("erin", "user"), ("frank", "admin")]
    assert [r[0] for r in forced] == ["api_requests", "attachments", "batches", "embeddings",
                                      "experiments", "holds", "prompts", "report_cells",
                                      "scores", "sweeps", "usage", "users"]
    assert main(["team", "init", "not-a-url"]) == 1


def test_a_canary_api_key_appears_in_no_table(team: Team) -> None:
    with OpenAIStub(api_key=TEST_KEY) as stub, Playground(
            db=team.dsn("alice"), provider="openai", api_key=TEST_KEY,
            base_url=stub.base_url) as pg:
        assert pg.run("Say hi").status == "ok"
        pg.sweep(["one", "two"], progress=False)
    with psycopg.connect(team.owner) as conn:
        for table in ("experiments", "api_requests", "sweeps", "usage", "users"):
            text = json.dumps(conn.execute(f"SELECT * FROM {table}").fetchall(), default=str)
            assert table == "users" or len(text) > 10
            assert TEST_KEY not in text and TEST_KEY[-12:] not in text, table


WRITER = textwrap.dedent("""
    import sys
    from nbplayground import Playground
    pg = Playground(db=sys.argv[1], provider="simulated", simulated_latency=0.002)
    for round in range(int(sys.argv[2])):
        sw = pg.sweep([f"{sys.argv[3]} round {round} cell {i}" for i in range(40)],
                      concurrency=8, progress=False)
        assert sw.count("ok") == 40, sw.summary()
    print(pg.user)
""")


@pytest.mark.slow
def test_three_processes_of_two_users_keep_every_row(team: Team) -> None:
    env = {**os.environ, "PYTHONPATH": "src"}
    rounds = 3
    writers = [("alice", "a1"), ("alice", "a2"), ("bob", "b1")]
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, team.dsn(user), str(rounds), tag],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for user, tag in writers]
    for (user, _), p in zip(writers, procs, strict=True):
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err[-2000:]
        assert out.strip() == user
    with psycopg.connect(team.owner) as conn:
        total, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT id) FROM experiments").fetchone() or (0, 0)
        per_user = dict(conn.execute("SELECT user_id, count(*) FROM experiments GROUP BY 1"
                                     ).fetchall())
        usage = dict(conn.execute("SELECT user_id, count(*) FROM usage GROUP BY 1").fetchall())
    assert total == distinct == 3 * rounds * 40
    assert per_user == usage == {"alice": 2 * rounds * 40, "bob": rounds * 40}


def test_team_init_checks_its_arguments(team_db: str) -> None:
    from nbplayground.errors import InvalidInput

    with pytest.raises(InvalidInput, match="login"):
        team.init(team_db, users=["pg_monitor"])
    with pytest.raises(InvalidInput, match="postgresql://"):
        team.init("/tmp/x.duckdb")
    with pytest.raises(InvalidInput, match="plan"):
        team.init(team_db, users=["zed"], plan="platinum")
    assert isinstance(team.init(team_db, users=["zed"]), dict)




def test_push_copies_the_users_file_rows_up_exactly_once(team: Team, make_pg: Any) -> None:
    local = make_pg(user="alice", provider="simulated")
    sw = local.sweep(["p1", "p2", "p3"], progress=False)
    local.run("solo")
    make_pg(user="bob", provider="simulated").run("not alice's")
    first = local.push(team.dsn("alice"))
    assert (first["experiments"], first["already_there"], first["sweeps"]) == (4, 0, 1)
    again = local.push(team.dsn("alice"))
    assert (again["experiments"], again["already_there"]) == (0, 4)
    with Playground(db=team.dsn("alice"), provider="simulated") as shared:
        pd.testing.assert_frame_equal(shared.history(), local.history())
        assert len(shared.history(sweep=sw.id)) == 3
        assert shared.usage("day")["requests"].sum() == 4
        mine = local.repository.requests().query("user_id == 'alice'")
        assert sorted(shared.repository.requests()["id"]) == sorted(mine["id"])
    with psycopg.connect(team.owner) as conn:
        assert conn.execute("SELECT count(*) FROM experiments").fetchone() == (4,)


def test_push_takes_saved_prompts_up_with_the_team_logs_numbers(team: Team,
                                                               make_pg: Any) -> None:
    with Playground(db=team.dsn("alice"), provider="simulated") as shared:
        there = shared.prompts.save("capitals", "Already up: {country}")  # v1 on the team log
    local = make_pg(user="alice", provider="simulated")
    v1 = local.prompts.save("capitals", "Capital of {country}?", temperature=0)
    local.run(v1, vars={"country": "France"})
    assert local.push(team.dsn("alice"))["prompt_versions"] == 1
    assert local.push(team.dsn("alice"))["prompt_versions"] == 1  # found again, not saved twice
    with Playground(db=team.dsn("alice"), provider="simulated") as shared:
        versions = shared.prompts.versions("capitals")
        assert [(v.version, v.template) for v in versions] == [
            (1, there.template), (2, "Capital of {country}?")]
        assert shared.history()["prompt_version"].tolist() == [2]  # renumbered with its row


KILLED_WRITER = textwrap.dedent("""
    import sys
    from nbplayground.adapters.postgres import PostgresExperimentRepository
    from tests.factories import make_experiment, make_request
    repo = PostgresExperimentRepository(sys.argv[1])
    while True:
        batch = [make_experiment(user_id="alice") for _ in range(50)]
        repo.add(batch, [make_request(e) for e in batch])
        print(" ".join(e.id for e in batch), flush=True)  # acknowledged: committed
""")


@pytest.mark.slow
def test_kill_9_of_a_writer_mid_batch_loses_nothing_acknowledged(team: Team) -> None:
    env = {**os.environ, "PYTHONPATH": "src:."}
    acknowledged: list[str] = []
    with subprocess.Popen([sys.executable, "-c", KILLED_WRITER, team.dsn("alice")], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        for _ in range(8):
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            acknowledged += line.split()
        proc.kill()  # SIGKILL, wherever its next batch is
        proc.wait(10)
        acknowledged += proc.stdout.read().split()
    with psycopg.connect(team.owner) as conn:
        logged = {r[0] for r in conn.execute("SELECT id FROM experiments").fetchall()}
        orphans = conn.execute("SELECT count(*) FROM api_requests r WHERE NOT EXISTS "
                               "(SELECT 1 FROM experiments e WHERE e.id = r.experiment_id)"
                               ).fetchone()
    assert set(acknowledged) <= logged
    assert len(logged) % 50 == 0 and orphans == (0,)  # whole batches or nothing

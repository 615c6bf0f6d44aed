"""Who runs: user= > $JUPYTERHUB_USER > the OS user; the users row comes with the first log row."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from nbplayground.accounts import config_dir, current_user, fingerprint
from tests.conftest import TEST_KEY
from tests.support.openai_stub import OpenAIStub


def users(db: Path) -> list[tuple[Any, ...]]:
    if not db.exists():
        return []
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute("select id, email, subscription_type, token_usage, api_key_ref, "
                            "api_key_fingerprint, role from users order by id").fetchall()


def test_identity_order(make_pg: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(getpass, "getuser", lambda: "os-user")
    assert make_pg(provider="simulated").user == "os-user"
    monkeypatch.setenv("JUPYTERHUB_USER", "hub-user")
    assert make_pg(provider="simulated").user == "hub-user"
    assert make_pg(user="alice", provider="simulated").user == "alice"
    assert current_user(None) == "hub-user" and current_user("alice") == "alice"


def test_config_dir_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    assert config_dir() == tmp_path / "config"
    monkeypatch.delenv("NBPLAYGROUND_CONFIG_DIR")
    assert config_dir().name == "nbplayground"


def test_the_users_row_is_written_with_the_first_logged_run(
        make_pg: Any, db: Path, stub: OpenAIStub) -> None:
    pg = make_pg(user="alice", provider="openai", api_key=TEST_KEY, base_url=stub.base_url)
    assert users(db) == []  # constructing writes nothing
    exp = pg.run("hello there", max_tokens=5)
    assert users(db) == [("alice", None, None, exp.metrics.token_count, "argument",
                          fingerprint(TEST_KEY), "user")]
    pg.run("again", max_tokens=5)
    (row,) = users(db)
    assert row[3] == sum(e.metrics.token_count for e in pg.repository.list(user_id="alice"))


def test_a_simulated_first_run_records_the_user_without_a_key(make_pg: Any, db: Path) -> None:
    make_pg(user="bob", provider="simulated").run("hi", max_tokens=3)
    assert users(db)[0][:3] == ("bob", None, None) and users(db)[0][4:] == (None, None, "user")

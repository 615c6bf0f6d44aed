"""A team log set up for each test: users alice and bob, admin carol, in a fresh database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

pytest.importorskip("psycopg")

PASSWORDS = {"alice": "pw-a-CANARY", "bob": "pw-b-CANARY", "carol": "pw-c-CANARY"}


@dataclass(frozen=True)
class Team:
    owner: str
    cluster: Any
    database: str

    def dsn(self, user: str, password: str | None = None) -> str:
        return self.cluster.dsn(user, password or PASSWORDS[user], self.database)


@pytest.fixture
def team(team_db: str, postgres_cluster: Any) -> Team:
    from nbplayground import team as team_log

    team_log.init(team_db, users={"alice": PASSWORDS["alice"], "bob": PASSWORDS["bob"]},
                  admins={"carol": PASSWORDS["carol"]})
    return Team(team_db, postgres_cluster, team_db.rsplit("/", 1)[1])


@pytest.fixture
def connect(team: Team) -> Iterator[Any]:
    """Raw psycopg connections as a login: what a user can do from a notebook cell."""
    import psycopg

    opened: list[Any] = []

    def open_as(user: str) -> Any:
        conn = psycopg.connect(team.dsn(user), autocommit=True)
        opened.append(conn)
        return conn

    yield open_as
    for conn in opened:
        conn.close()

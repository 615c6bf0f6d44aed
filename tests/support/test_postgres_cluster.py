"""The private PostgreSQL cluster the team-log tests run on: up, loopback only, owner login."""

from __future__ import annotations

from typing import Any

import pytest

psycopg = pytest.importorskip("psycopg")


def test_the_cluster_listens_on_loopback_only_and_needs_a_password(postgres_cluster: Any) -> None:
    with psycopg.connect(postgres_cluster.dsn()) as conn:
        (listen, db) = conn.execute(
            "SELECT current_setting('listen_addresses'), current_database()").fetchone()
    assert (listen, db) == ("127.0.0.1", "nbplayground")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(postgres_cluster.dsn(password="wrong"))


def test_each_test_gets_an_empty_database(team_db: str) -> None:
    with psycopg.connect(team_db) as conn:
        (tables,) = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
                                 ).fetchone()
    assert tables == 0

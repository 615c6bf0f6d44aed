"""Migration 8 of the team log: the cosine scorer's embeddings cache, a user's table under row
security like the others (team init secures every table of USER_TABLES).

Migrations 6 (batches) and 7 (report indexes) are registered before it: this module is imported
after theirs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbplayground.adapters.postgres.migrations import migration

if TYPE_CHECKING:
    import psycopg


@migration
def m008_embeddings(conn: psycopg.Connection[tuple[Any, ...]]) -> None:
    """The file log's migration 8, keyed per login as well: a user reads back only the vectors
    of texts they embedded (row security), so a hash cannot tell whether another user's
    answers held a given text."""
    conn.execute("""
        CREATE TABLE embeddings (
            user_id TEXT NOT NULL DEFAULT current_user,
            key TEXT NOT NULL,             -- sha256 of model, NUL, text
            model TEXT NOT NULL,
            dims INTEGER NOT NULL,
            vector REAL[] NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            seq BIGINT GENERATED ALWAYS AS IDENTITY,
            PRIMARY KEY (user_id, key)
        )""")

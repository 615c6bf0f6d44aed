"""Migration 5 of the team log: saved prompt versions (a user's table, under row security like
the others: team init secures every table of USER_TABLES), and which version an experiment ran.

Migration 4 (scores) is registered before it: this module is imported after that one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbplayground.adapters.postgres.migrations import migration

if TYPE_CHECKING:
    import psycopg


@migration
def m005_prompts(conn: psycopg.Connection[tuple[Any, ...]]) -> None:
    """The file log's migration 6: one row per (user, name, version), its content hashed."""
    conn.execute("""
        CREATE TABLE prompts (
            user_id TEXT NOT NULL,         -- the author; row security keys on it
            name TEXT NOT NULL,
            version INTEGER NOT NULL,
            template TEXT NOT NULL,
            system TEXT,
            model TEXT,
            params TEXT NOT NULL,          -- JSON object of request fields
            content_hash TEXT NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            seq BIGINT GENERATED ALWAYS AS IDENTITY,
            PRIMARY KEY (user_id, name, version)
        )""")
    conn.execute("CREATE INDEX prompts_content ON prompts (user_id, name, content_hash)")
    conn.execute("ALTER TABLE experiments ADD COLUMN prompt_name TEXT")
    conn.execute("ALTER TABLE experiments ADD COLUMN prompt_version INTEGER")

"""Migration 6 of the file log: saved prompt versions, and which version an experiment ran."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nbplayground.adapters.duckdb.migrations import migration

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection


@migration
def m006_prompts(conn: DuckDBPyConnection) -> None:
    """A user's prompts as code: one row per (user, name, version), its content hashed (saving
    the same content again finds it); experiments name the prompt version they were run from."""
    conn.execute("""
        CREATE TABLE prompts (
            user_id VARCHAR NOT NULL,      -- the author
            name VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            template VARCHAR NOT NULL,     -- a str.format template: {country}
            system VARCHAR,
            model VARCHAR,
            params VARCHAR NOT NULL,       -- JSON object of request fields
            content_hash VARCHAR NOT NULL, -- sha256 of template, system, model and params
            created_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (user_id, name, version)
        )""")
    conn.execute("ALTER TABLE experiments ADD COLUMN prompt_name VARCHAR")
    conn.execute("ALTER TABLE experiments ADD COLUMN prompt_version INTEGER")

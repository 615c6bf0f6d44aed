"""Migration 6 of the team log: the file log's migration 7 (the `batches` table, experiments'
`via` and `price_source`), in PostgreSQL types; `batches` is a user's data (row security)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbplayground.adapters.postgres.migrations import migration

if TYPE_CHECKING:
    import psycopg


@migration
def m006_batches(conn: psycopg.Connection[tuple[Any, ...]]) -> None:
    conn.execute("""
        CREATE TABLE batches (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL,
            sweep_id TEXT,
            batch_id TEXT,
            input_file_id TEXT,
            output_file_id TEXT,
            error_file_id TEXT,
            endpoint TEXT,
            model TEXT,
            status TEXT NOT NULL,
            total INTEGER,
            completed INTEGER,
            failed INTEGER,
            custom_ids TEXT,           -- JSON list of the cells' cache keys
            max_cost DOUBLE PRECISION, -- held by the budget until ingested_at
            created_at TIMESTAMPTZ NOT NULL,
            finished_at TIMESTAMPTZ,
            ingested_at TIMESTAMPTZ,
            seq BIGINT GENERATED ALWAYS AS IDENTITY
        )""")
    conn.execute("CREATE INDEX batches_user ON batches (user_id, sweep_id)")
    conn.execute("ALTER TABLE experiments ADD COLUMN via TEXT DEFAULT 'sync'")
    conn.execute("ALTER TABLE experiments ADD COLUMN price_source TEXT")

"""Migration 7 of the file log: the `batches` table (OpenAI Batch API jobs of batch sweeps) and
how each experiment was sent (`via`) and where a batch or flex price came from."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nbplayground.adapters.duckdb.migrations import migration

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection


@migration
def m007_batches(conn: DuckDBPyConnection) -> None:
    """A row is written before its file is uploaded (status 'pending'), then carries the file
    id, the batch id and OpenAI's status and counts; custom_ids (JSON) are its cells' cache
    keys. Until ingested_at is set, max_cost counts as spent in the budget. Experiments logged
    before this migration were all sent synchronously."""
    conn.execute("""
        CREATE TABLE batches (
            id VARCHAR PRIMARY KEY,
            user_id VARCHAR NOT NULL,
            sweep_id VARCHAR,
            batch_id VARCHAR,
            input_file_id VARCHAR,
            output_file_id VARCHAR,
            error_file_id VARCHAR,
            endpoint VARCHAR,
            model VARCHAR,
            status VARCHAR NOT NULL,
            total INTEGER,
            completed INTEGER,
            failed INTEGER,
            custom_ids VARCHAR,        -- JSON list of the cells' cache keys, the lines' order
            max_cost DOUBLE,           -- USD at batch rates, every answer at max_tokens
            created_at TIMESTAMPTZ NOT NULL,
            finished_at TIMESTAMPTZ,
            ingested_at TIMESTAMPTZ    -- results in the log: the budget hold is settled
        )""")
    conn.execute("ALTER TABLE experiments ADD COLUMN via VARCHAR DEFAULT 'sync'")
    conn.execute("ALTER TABLE experiments ADD COLUMN price_source VARCHAR")

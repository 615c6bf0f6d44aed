"""Migration 8 of the file log: the embeddings cache of the cosine scorer (a vector per model
and text, keyed by their sha256, so a text embedded once is never sent again).

Migration 7 (batches) is registered before it: this module is imported after that one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nbplayground.adapters.duckdb.migrations import migration

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection


@migration
def m008_embeddings(conn: DuckDBPyConnection) -> None:
    """One row per (model, text): no text is stored, only its hash and its vector (float32,
    as OpenAI sends them)."""
    conn.execute("""
        CREATE TABLE embeddings (
            key VARCHAR PRIMARY KEY,       -- sha256 of model, NUL, text
            model VARCHAR NOT NULL,
            dims INTEGER NOT NULL,
            vector FLOAT[] NOT NULL,
            created_at TIMESTAMPTZ NOT NULL
        )""")

"""Migration 9 of the team log: a run stopped from the panel is logged with status 'stopped'."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbplayground.adapters.postgres.migrations import migration

if TYPE_CHECKING:
    import psycopg


@migration
def m009_stopped_runs(conn: psycopg.Connection[tuple[Any, ...]]) -> None:
    """The file log's migration 9: experiments' status check takes 'stopped' too."""
    conn.execute("ALTER TABLE experiments DROP CONSTRAINT experiments_status_check")
    conn.execute("ALTER TABLE experiments ADD CONSTRAINT experiments_status_check "
                 "CHECK (status IN ('ok', 'error', 'stopped'))")

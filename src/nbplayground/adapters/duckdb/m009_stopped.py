"""Migration 9 of the file log: a run stopped from the panel is logged with status 'stopped'."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nbplayground.adapters.duckdb.migrations import migration
from nbplayground.errors import StoreError

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

OLD_CHECK = "CHECK((status IN ('ok', 'error')))"
NEW_CHECK = "CHECK((status IN ('ok', 'error', 'stopped')))"


@migration
def m009_stopped_runs(conn: DuckDBPyConnection) -> None:
    """Widen experiments' status check to take 'stopped' (the partial answer of a run the user
    stopped). DuckDB cannot alter a CHECK, so the table is rebuilt from its own DDL with the wider
    check, rows copied in order, and renamed: every column later migrations added is kept."""
    found = conn.execute("SELECT sql FROM duckdb_tables() WHERE schema_name = 'main' "
                         "AND table_name = 'experiments'").fetchone()
    if not found or OLD_CHECK not in found[0]:
        raise StoreError("migration 9: the experiments table does not have the status check "
                         "this migration widens; the log was changed by hand")
    ddl = found[0].replace("CREATE TABLE experiments(", "CREATE TABLE experiments_m009(", 1)
    conn.execute(ddl.replace(OLD_CHECK, NEW_CHECK))
    conn.execute("INSERT INTO experiments_m009 SELECT * FROM experiments ORDER BY rowid")
    conn.execute("DROP TABLE experiments")
    conn.execute("ALTER TABLE experiments_m009 RENAME TO experiments")

"""Migration 10 of the file log: `report_cells`, the experiments summed per cell, as a view.

The team log keeps the same relation in a table its trigger fills (analytics/cells.py); DuckDB
sums a million rows as it reads them faster than it could keep a table, so here it is a view
(nothing to fill: it is the log's rows, summed when read).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nbplayground.adapters.duckdb.migrations import migration
from nbplayground.analytics import cells
from nbplayground.analytics.dialect import DIALECTS

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection


@migration
def m010_report_cells(conn: DuckDBPyConnection) -> None:
    """report_cells: one row per user, sweep, day and request (every axis), its repeats
    counted and summed, with the team log's columns."""
    conn.execute(f"CREATE VIEW report_cells AS {cells.aggregate(DIALECTS['duckdb'])}")

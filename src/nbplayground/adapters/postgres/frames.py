"""Rows read from PostgreSQL as the file log's DataFrames, and SQL reports over visible rows.

The read models must return the very DataFrames of the file log (same columns, same dtypes),
so the rows fetched from PostgreSQL are typed by the log's column table and passed through an
in-memory DuckDB, whose `.df()` made the file log's frames. Reports are written in DuckDB's
SQL: they run there, over the rows of each table the query names that the user may see (row
security filtered them in PostgreSQL).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import duckdb
import pandas as pd

from nbplayground.adapters.duckdb import frames, rows
from nbplayground.adapters.duckdb.prompts import PROMPT_COLUMNS
from nbplayground.errors import InvalidInput

SCORE_COLUMNS: frames.Columns = (
    ("experiment_id", "VARCHAR"), ("sweep_id", "VARCHAR"), ("scorer", "VARCHAR"),
    ("kind", "VARCHAR"), ("score", "DOUBLE"), ("passed", "BOOLEAN"), ("reason", "VARCHAR"),
    ("judge_experiment_id", "VARCHAR"), ("created_at", "TIMESTAMPTZ"),
)
"""The scores table's columns, as the file log has them (user_id and seq are the team log's)."""
TABLES: dict[str, frames.Columns] = {
    "experiments": (*rows.EXPERIMENT_COLUMNS, ("role", "VARCHAR"),
                    ("judged_experiment_id", "VARCHAR")),
    "api_requests": rows.REQUEST_COLUMNS, "sweeps": rows.SWEEP_COLUMNS,
    "users": rows.USER_COLUMNS, "usage": rows.USAGE_COLUMNS, "scores": SCORE_COLUMNS,
    "prompts": PROMPT_COLUMNS,
}
_READ_ONLY = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
_DUCK_LOCK = threading.Lock()
_DUCK: list[duckdb.DuckDBPyConnection] = []


def _duck() -> duckdb.DuckDBPyConnection:
    if not _DUCK:
        conn = duckdb.connect(":memory:")
        conn.execute("SET TimeZone = 'UTC'")
        _DUCK.append(conn)
    return _DUCK[0]


def typed(columns: frames.Columns, records: Sequence[Sequence[Any]]) -> pd.DataFrame:
    """`records` (tuples in the order of `columns`) as pandas columns of the log's dtypes."""
    data: dict[str, frames.Values] = (
        dict(zip(frames.names(columns), zip(*records, strict=True), strict=True)) if records
        else dict.fromkeys(frames.names(columns), ()))
    for name, sql in columns:
        if sql == "DATE":
            data[name] = [d.isoformat() if isinstance(d, date) else d for d in data[name]]
    return frames.columns_frame(columns, data)


def _casts(columns: frames.Columns) -> str:
    return ", ".join(f'CAST("{name}" AS {sql}) AS "{name}"' for name, sql in columns)


def frame(columns: frames.Columns, records: Sequence[Sequence[Any]]) -> pd.DataFrame:
    """What DuckDB's .df() returns for these rows in a table of these columns."""
    src = typed(columns, records)
    with _DUCK_LOCK:
        conn = _duck().cursor()
        try:
            conn.execute("SET TimeZone = 'UTC'")  # a setting of each cursor, not shared
            conn.register("_src", src)
            return conn.execute(f"SELECT {_casts(columns)} FROM _src").df()
        finally:
            conn.close()


def check_query(sql: str) -> None:
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as e:
        raise InvalidInput(f"query() could not parse the SQL: {e}") from None
    if len(statements) != 1 or statements[0].type not in _READ_ONLY:
        raise InvalidInput("query() runs exactly one SELECT (or EXPLAIN) statement; "
                           "the log is written only through the repository")


def tables_named(sql: str) -> list[str]:
    return [t for t in TABLES if re.search(rf"\b{t}\b", sql, flags=re.IGNORECASE)]


def run_query(sql: str, params: Sequence[Any] | Mapping[str, Any] | None,
              tables: Mapping[str, Sequence[Sequence[Any]]]) -> pd.DataFrame:
    """`sql` in a private DuckDB whose tables hold `tables`' rows (the rest empty)."""
    conn = duckdb.connect(":memory:")
    try:
        conn.execute("SET TimeZone = 'UTC'")
        for name, columns in TABLES.items():
            src = typed(columns, tables.get(name, ()))
            conn.register("_src", src)
            conn.execute(f"CREATE TABLE {name} AS SELECT {_casts(columns)} FROM _src")
            conn.unregister("_src")
        try:
            return conn.execute(sql, params).df()
        except duckdb.Error as e:
            raise InvalidInput(f"query() failed: {e}") from None
    finally:
        conn.close()

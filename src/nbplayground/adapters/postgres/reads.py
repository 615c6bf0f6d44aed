"""Reports run in PostgreSQL: the reports' SQL (its PostgreSQL dialect) and the typed frames.

The aggregation runs in the server, over the rows row security lets the login see (the
policies compare user_id with current_user, so the planner uses the user_id indexes); only the
result rows come back, typed by their PostgreSQL types as the file log's DuckDB would type them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd
from psycopg.types.numeric import FloatLoader

from nbplayground.adapters.duckdb import rows
from nbplayground.adapters.postgres import frames
from nbplayground.adapters.postgres.connection import Conn
from nbplayground.errors import InvalidInput

_TYPES = {16: "BOOLEAN", 20: "BIGINT", 21: "INTEGER", 23: "INTEGER", 700: "DOUBLE",
          701: "DOUBLE", 1700: "DOUBLE", 1082: "DATE", 1184: "TIMESTAMPTZ"}
"""PostgreSQL type oid -> the log's type; anything else (text, varchar, json) reads as text."""


def fetch_frame(conn: Conn, sql: str, params: Sequence[Any] | Mapping[str, Any] | None
                ) -> pd.DataFrame:
    """`sql` in the caller's transaction, its result as the file log's DataFrame would be."""
    cur = conn.cursor()
    cur.adapters.register_loader("numeric", FloatLoader)  # sum(bigint), avg(integer)
    conn.execute("SET LOCAL TimeZone = 'UTC'")  # CAST(created_at AS DATE) is a UTC day
    # The server's JIT compiles a report's many expressions for seconds (31 s for compare's
    # on a million rows) to save milliseconds; reports are short scans and small groupings.
    conn.execute("SET LOCAL jit = off")
    # A cell per distinct prompt x parameters: hashed in memory rather than sorted on disk.
    conn.execute("SET LOCAL work_mem = '64MB'")
    records = cur.execute(sql, params).fetchall()
    columns = tuple((d.name, _TYPES.get(d.type_code, "VARCHAR")) for d in cur.description or ())
    return frames.frame(columns, records)


class ReportQuery:
    """The reports' `query(sql, params)` on the team log: their PostgreSQL dialect, run in the
    server. Parameters are marked `?`, as in DuckDB (the reports' SQL holds no other `?`)."""

    dialect = "postgres"

    def __init__(self, run: Callable[..., Any]) -> None:
        self._run = run

    def __call__(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        if not isinstance(sql, str) or "%" in sql:
            raise InvalidInput("report SQL marks parameters with ? and holds no % of its own")
        native = sql.replace("?", "%s")
        df: pd.DataFrame = self._run(lambda conn: fetch_frame(conn, native, list(params or ())),
                                     write=False)
        return df


def history_filters(**given: str | None) -> tuple[str, list[Any]]:
    """WHERE clause of history() and list(): columns equal to values; `search` a substring of
    the prompt, system message or response, in any case."""
    clauses, params = [], []
    for column, value in given.items():
        if value is None:
            continue
        if column == "search":
            clauses.append("(strpos(lower(prompt), %s) > 0 OR strpos(lower(coalesce(system, "
                           "'')), %s) > 0 OR strpos(lower(response), %s) > 0)")
            params += [value.lower()] * 3
        else:
            clauses.append(f"{column} = %s")
            params.append(value)
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), params


def limit_clause(limit: int | None) -> str:
    n = rows.check_limit(limit)
    return "" if n is None else f" LIMIT {n}"


"""SQL shared by the experiment repository and the usage ledger: the connection type, column
lists, and reading a cursor into dicts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb

from nbplayground.adapters.duckdb import rows
from nbplayground.adapters.duckdb.frames import names

Conn = duckdb.DuckDBPyConnection

EXPERIMENTS = ", ".join(names(rows.EXPERIMENT_COLUMNS))
REQUESTS = ", ".join(names(rows.REQUEST_COLUMNS))
USAGE = ", ".join(names(rows.USAGE_COLUMNS))
TOKENS = "coalesce(prompt_tokens, 0) + coalesce(completion_tokens, 0)"


def dicts(cursor: Conn) -> list[dict[str, Any]]:
    columns = [d[0] for d in cursor.description or ()]
    return [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]


def insert_or_replace(conn: Conn, table: str, row: Mapping[str, Any]) -> None:
    cols = list(row)
    conn.execute(f"INSERT OR REPLACE INTO {table} ({', '.join(cols)}) "
                 f"VALUES ({', '.join('?' for _ in cols)})", [row[c] for c in cols])

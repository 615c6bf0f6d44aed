"""Writing rows to the team log: COPY through a staging table (row security applies to the
INSERT that follows), sweep upserts, and rows read back as dicts."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from nbplayground.adapters.duckdb import frames as file_frames
from nbplayground.adapters.duckdb import rows
from nbplayground.adapters.postgres import frames
from nbplayground.adapters.postgres.connection import Conn

_SWEEP = file_frames.names(rows.SWEEP_COLUMNS)
PG_TYPES = {"VARCHAR": "text", "DOUBLE": "double precision", "INTEGER": "integer",
             "BIGINT": "bigint", "BOOLEAN": "boolean", "TIMESTAMPTZ": "timestamptz",
             "DATE": "date"}


def cols(names: Sequence[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def records(df: pd.DataFrame, names: Sequence[str]) -> builtins.list[tuple[Any, ...]]:
    """The frame's rows as Python values, NULL for pandas' missing markers."""
    columns = [[None if v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v)
                else v for v in df[n].tolist()] for n in names]
    return list(zip(*columns, strict=True))


def copy_in(conn: Conn, table: str, names: Sequence[str], records: Sequence[tuple[Any, ...]],
             *, returning: str | None = None) -> builtins.list[tuple[Any, ...]]:
    """COPY into a session temp table, then one INSERT ... ON CONFLICT DO NOTHING: COPY cannot
    write through row security itself, and rows logged before (a retried batch) are skipped."""
    stage = f"_stage_{table}"
    columns = ", ".join(f'"{n}" {PG_TYPES[t]}' for n, t in frames.TABLES[table])
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} ({columns}) ON COMMIT DELETE ROWS")
    with conn.cursor().copy(f"COPY {stage} ({cols(names)}) FROM STDIN") as copy:
        for record in records:
            copy.write_row(record)
    tail = f" RETURNING {returning}" if returning else ""
    cur = conn.execute(f"INSERT INTO {table} ({cols(names)}) SELECT {cols(names)} "
                       f"FROM {stage} ON CONFLICT (id) DO NOTHING{tail}")
    found = cur.fetchall() if returning else []
    conn.execute(f"TRUNCATE {stage}")  # a second batch in the same transaction starts empty
    return found


def upsert_sweep(conn: Conn, row: Mapping[str, Any], given: frozenset[str]) -> None:
    fields = [k for k in row if k != "id" and (k in given or k == "updated_at")]
    cur = conn.execute(f"UPDATE sweeps SET {', '.join(f'{k} = %s' for k in fields)} "
                       "WHERE id = %s", [row[k] for k in fields] + [row["id"]])
    if not cur.rowcount:
        conn.execute(f"INSERT INTO sweeps ({cols(_SWEEP)}) VALUES "
                     f"({', '.join(['%s'] * len(_SWEEP))})", [row[k] for k in _SWEEP])


def dicts(conn: Conn, sql: str, params: Sequence[Any]) -> builtins.list[dict[str, Any]]:
    cur = conn.execute(sql, params)
    names = [d.name for d in cur.description or ()]
    return [dict(zip(names, values, strict=True)) for values in cur.fetchall()]

"""Opening the experiment log for one transaction: ATTACH it to a resident in-memory DuckDB.

`duckdb.connect(file)` builds a whole database instance each time (~14 ms here, most of a small
transaction). Attaching the file to an in-memory connection that stays up costs ~1 ms, and
DETACH checkpoints and releases the file lock as close() did, so other processes still get the
file between our transactions. When this process already holds the file through another
instance (a user's `duckdb.connect` in the same kernel), DuckDB refuses a second attach; then
we connect through that instance, as before.

The caller holds the per-file lock: one resident connection per file, one user at a time. The
resident connections are process-wide state, kept in state.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import duckdb

from nbplayground.adapters.duckdb import state
from nbplayground.adapters.duckdb.sql import Conn

ALIAS = "nbplayground_log"


@contextlib.contextmanager
def opened(path: Path, key: str, *, read_only: bool) -> Iterator[Conn]:
    """A connection whose default database is the log file, for as long as the block runs."""
    resident = state.resident(key)
    if resident is None:
        resident = duckdb.connect(":memory:")
        resident.execute("SET TimeZone = 'UTC'")
        state.keep_resident(key, resident)
    try:
        _attach(resident, path, read_only=read_only)
    except duckdb.Error as e:
        if "unique file handle conflict" not in str(e).lower():
            raise
        with _connected(path, read_only=read_only) as conn:
            yield conn
        return
    try:
        yield resident
    finally:
        _detach(resident, key)


def _attach(conn: Conn, path: Path, *, read_only: bool) -> None:
    where = str(path).replace("'", "''")
    mode = " (READ_ONLY)" if read_only else ""
    try:
        conn.execute(f"ATTACH '{where}' AS {ALIAS}{mode}")
    except duckdb.Error as e:
        # A zero-byte file (e.g. from tempfile) holds nothing: start a log in it.
        if "not a valid DuckDB" not in str(e) or read_only or path.stat().st_size:
            raise
        path.unlink()
        conn.execute(f"ATTACH '{where}' AS {ALIAS}")
    conn.execute(f"USE {ALIAS}")


def _detach(conn: Conn, key: str) -> None:
    try:
        conn.execute("USE memory")
        conn.execute(f"DETACH {ALIAS}")
    except duckdb.Error:  # a connection in a state we do not know: start afresh next time
        state.drop_resident(key)
        with contextlib.suppress(duckdb.Error):
            conn.close()


@contextlib.contextmanager
def _connected(path: Path, *, read_only: bool) -> Iterator[Conn]:
    conn = duckdb.connect(str(path), read_only=read_only)
    try:
        conn.execute("SET TimeZone = 'UTC'")
        yield conn
    finally:
        conn.close()

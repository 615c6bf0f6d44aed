"""Opening the experiment log for one transaction: ATTACH it to a resident in-memory DuckDB.

`duckdb.connect(file)` builds a whole database instance each time (~14 ms here, most of a small
transaction). Attaching the file to an in-memory connection that stays up costs ~1 ms, and
DETACH checkpoints and releases the file lock as close() did, so other processes still get the
file between our transactions. When this process already holds the file through another
instance (a user's `duckdb.connect` in the same kernel), DuckDB refuses a second attach; then
we connect through that instance, as before.

The caller holds the per-file lock: one resident connection per file, one user at a time.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb

Conn = duckdb.DuckDBPyConnection

ALIAS = "nbplayground_log"
_RESIDENT: dict[str, Conn] = {}


def _forked() -> None:
    """A forked child must neither use nor free its parent's DuckDB instances (their threads did
    not come along: closing one there crashes, even at the child's exit), so it gives each one a
    reference that is never dropped, forgets them and opens its own."""
    for conn in _RESIDENT.values():
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(conn))
    _RESIDENT.clear()


os.register_at_fork(after_in_child=_forked)


@contextlib.contextmanager
def opened(path: Path, key: str, *, read_only: bool) -> Iterator[Conn]:
    """A connection whose default database is the log file, for as long as the block runs."""
    resident = _RESIDENT.get(key)
    if resident is None:
        resident = duckdb.connect(":memory:")
        resident.execute("SET TimeZone = 'UTC'")
        _RESIDENT[key] = resident
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
        _RESIDENT.pop(key, None)
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

"""LogFile: the experiment log's file, opened for one transaction at a time and retried while
another process or thread holds it.

Holding the file open would lock out every other notebook (DuckDB allows one writing process),
so each call opens (attach.py), migrates once (migrations.py), works in one transaction,
commits and closes. The experiment repository and the usage ledger each run their statements
through a LogFile; two on the same file share its lock and resident connection (state.py).
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import duckdb

from nbplayground.adapters.duckdb import state
from nbplayground.adapters.duckdb.attach import opened
from nbplayground.adapters.duckdb.migrations import ensure_migrated, forget_migrated
from nbplayground.adapters.duckdb.sql import Conn
from nbplayground.errors import InvalidInput, StoreError, StoreLocked

T = TypeVar("T")


class LogFile:
    """One DuckDB file of the experiment log, and how to run a transaction on it."""

    def __init__(self, path: str | os.PathLike[str], *, lock_timeout: float = 30.0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], object] = time.sleep) -> None:
        """`clock` and `sleep` are the lock wait's time (tests pass a fake pair)."""
        if str(path) == ":memory:" or not str(path):
            raise InvalidInput("the experiment log needs a file path (an in-memory database "
                               "would vanish between calls), e.g. 'experiments.duckdb'")
        self.path = Path(path).expanduser().absolute()  # a later os.chdir must not move the log
        self.lock_timeout = lock_timeout
        self._clock, self._sleep = clock, sleep
        self.key = str(self.path.resolve())
        state.register_file(self.key)

    def __repr__(self) -> str:
        return f"LogFile({str(self.path)!r})"

    @property
    def lock(self) -> threading.Lock:
        """This process's lock of the file: one call at a time."""
        return state.file_lock(self.key)

    def run(self, work: Callable[[Conn], T], *, write: bool = True) -> T:
        """Open, run `work` in one transaction, commit (or roll back a read), close.

        A file locked by another process, or a write conflict with another thread, is retried
        with exponential backoff and jitter until lock_timeout has passed.
        """
        start = self._clock()
        attempt = 0
        remigrated = False
        while True:
            try:
                with self.lock, self._open(write=write) as conn:
                    try:
                        conn.execute("BEGIN TRANSACTION")
                        result = work(conn)
                        conn.execute("COMMIT" if write else "ROLLBACK")
                        return result
                    except BaseException:
                        _rollback_quietly(conn)
                        raise
            except duckdb.Error as e:
                waited = self._clock() - start
                left = self.lock_timeout - waited
                if isinstance(e, duckdb.CatalogException) and not remigrated:
                    remigrated = forget_migrated(self.path)
                    if remigrated:
                        continue  # the file was replaced since we migrated it: migrate again
                if _retryable(e) and left > 0:
                    delay = min(0.5, 0.01 * 2**attempt) * random.uniform(0.5, 1.0)
                    self._sleep(min(delay, left))
                    attempt += 1
                    continue
                raise self._translate(e, waited) from e

    @contextlib.contextmanager
    def _open(self, *, write: bool) -> Iterator[Conn]:
        path = self.path
        if not path.parent.is_dir():
            raise StoreError(f"cannot open the experiment log {path}: the folder {path.parent} "
                             "does not exist; create it or pass another path")
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            mode = None
        if mode is not None and not stat.S_ISREG(mode):
            raise StoreError(f"the experiment log {path} is not a file; pass a file path")
        # Root can write to a 0444 file, but its owner plainly said "do not write".
        read_only = mode is not None and (not mode & 0o222 or not os.access(path, os.W_OK))
        if read_only and write:
            raise StoreError(_read_only(path))
        with opened(path, self.key, read_only=read_only) as conn:
            ensure_migrated(conn, path, read_only=read_only)
            yield conn

    def _translate(self, e: duckdb.Error, waited: float) -> StoreError:
        msg, path = str(e), self.path
        lowered = msg.lower()
        if _is_lock(e):
            held = re.search(r"held in (.*?) \(PID (\d+)\)", msg)
            who = f" (PID {held[2]}, {held[1]})" if held else ""
            return StoreLocked(
                f"the experiment log {path} is held open by another process{who}; waited "
                f"{waited:.1f} s. Close that connection (e.g. con.close() in the other notebook) "
                "or pass a longer lock_timeout")
        if "not a valid duckdb" in lowered or "corrupt" in lowered:
            return StoreError(f"{path} is not a DuckDB database (or it is corrupt), so it cannot "
                              f"hold the experiment log; it was left untouched. Pass another "
                              f"path. DuckDB said: {msg}")
        if "permission denied" in lowered or "read-only" in lowered:
            return StoreError(f"{_read_only(path)}. DuckDB said: {msg}")
        if "different configuration" in lowered:
            return StoreError(f"this Python process already has {path} open with other settings "
                              "(e.g. duckdb.connect(..., read_only=True)); close that connection")
        if "version number" in msg:
            return StoreError(f"{path} was written by a newer DuckDB than {duckdb.__version__}; "
                              f"upgrade the duckdb package. DuckDB said: {msg}")
        return StoreError(f"the experiment log {path} failed: {msg}")


def _read_only(path: Path) -> str:
    return f"the experiment log {path} is read-only; make it writable (chmod u+w) or use another"


def _is_lock(e: duckdb.Error) -> bool:
    msg = str(e)
    return "Could not set lock" in msg or "Conflicting lock" in msg


def _retryable(e: duckdb.Error) -> bool:
    """Locks, and races with another thread of this process. A duplicate key means rows logged
    before: a transaction that committed first, or a batch written again (add() retries it
    with OR IGNORE)."""
    msg = str(e).lower()
    return (_is_lock(e) or (isinstance(e, duckdb.TransactionException) and "conflict" in msg)
            or (isinstance(e, duckdb.ConstraintException | duckdb.TransactionException)
                and "duplicate key" in msg))


def _rollback_quietly(conn: Conn) -> None:
    with contextlib.suppress(duckdb.Error):  # no transaction was open: BEGIN or COMMIT failed
        conn.execute("ROLLBACK")

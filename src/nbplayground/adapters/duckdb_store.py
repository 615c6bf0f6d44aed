"""DuckDBExperimentRepository: the experiment log in one DuckDB file, opened and closed per call.

Holding the file open would lock out every other notebook (DuckDB allows one writing process),
so each public method connects, works in one transaction, commits and closes.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import os
import random
import re
import stat
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd

from nbplayground.adapters import duckdb_rows as rows
from nbplayground.adapters.duckdb_attach import opened
from nbplayground.adapters.duckdb_migrations import ensure_migrated, forget_migrated
from nbplayground.domain import APIRequest, Experiment, User
from nbplayground.errors import InvalidInput, StoreError, StoreLocked
from nbplayground.ids import utcnow

T = TypeVar("T")
Conn = duckdb.DuckDBPyConnection

_PATH_LOCKS: dict[str, threading.Lock] = {}
"""One call at a time per file in this process: DuckDB's shared in-process instance races
when one thread closes the last connection while another opens one."""
_PATH_LOCKS_GUARD = threading.Lock()


def _new_locks() -> None:
    """In a forked child: a lock another thread of the parent held (a sweep's batch being
    written) would stay held forever."""
    global _PATH_LOCKS_GUARD
    _PATH_LOCKS_GUARD = threading.Lock()
    for key in _PATH_LOCKS:
        _PATH_LOCKS[key] = threading.Lock()


os.register_at_fork(after_in_child=_new_locks)

_EXPERIMENTS = ", ".join(rows.names(rows.EXPERIMENT_COLUMNS))
_REQUESTS = ", ".join(rows.names(rows.REQUEST_COLUMNS))
_USAGE = ", ".join(rows.names(rows.USAGE_COLUMNS))
TOKENS = "coalesce(prompt_tokens, 0) + coalesce(completion_tokens, 0)"
_NEWEST_FIRST = "ORDER BY created_at DESC, rowid DESC"
_READ_ONLY_STATEMENTS = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


class DuckDBExperimentRepository:
    """ExperimentRepository plus the read models (pandas DataFrames) of one DuckDB file."""

    def __init__(self, path: str | os.PathLike[str], *, lock_timeout: float = 30.0) -> None:
        if str(path) == ":memory:" or not str(path):
            raise InvalidInput("the experiment log needs a file path (an in-memory database "
                               "would vanish between calls), e.g. 'experiments.duckdb'")
        self.path = Path(path).expanduser().absolute()  # a later os.chdir must not move the log
        self.lock_timeout = lock_timeout
        with _PATH_LOCKS_GUARD:
            self._key = str(self.path.resolve())
            _PATH_LOCKS.setdefault(self._key, threading.Lock())

    def __repr__(self) -> str:
        return f"DuckDBExperimentRepository({str(self.path)!r})"

    @property
    def _lock(self) -> threading.Lock:
        return _PATH_LOCKS[self._key]  # looked up each time: a forked child replaces it

    # -- ExperimentRepository --

    def add(self, experiments: Sequence[Experiment], requests: Sequence[APIRequest] = (), *,
            usage: Sequence[Mapping[str, Any]] = (),
            sweep: Mapping[str, Any] | None = None) -> None:
        """One transaction: the experiments and their requests (ids already logged are skipped
        with their requests), the usage ledger rows of `usage` (each user's token_usage kept
        current) and, when given, the sweep's row. A crash cannot log a call without its spend."""
        batch = rows.unique_by_id(experiments)
        # The sweep's row (and the fields given) is validated before the file is opened.
        sweep_update = None if sweep is None else (
            rows.sweep_to_db(rows.sweep_row(sweep, None)), frozenset(sweep))
        usage_df = rows.usage_frame(usage) if usage else None
        if not batch and not requests and usage_df is None and sweep is None:
            return
        calls = (rows.experiments_frame(batch), rows.requests_frame(requests, batch)) \
            if batch or requests else None
        careful = False  # plain INSERTs first; OR IGNORE only for a batch logged before

        def work(conn: Conn) -> None:
            nonlocal careful
            try:
                if calls is not None:
                    _insert_calls(conn, *calls, batch, careful=careful)
                if usage_df is not None:
                    _book_usage(conn, usage_df, careful=careful)
                if sweep_update is not None:
                    _upsert_sweep(conn, *sweep_update)
            except duckdb.ConstraintException as e:
                # A row logged before (a retried batch): roll back, and the retry (this error
                # is retryable) skips what is logged. INSERT OR IGNORE costs ~3 ms more per
                # statement, and the closing batch of a sweep waits for every one of them.
                if not careful and "duplicate key" in str(e).lower():
                    careful = True
                raise

        self._run(work)

    def get(self, experiment_id: str) -> Experiment | None:
        found = self._run(lambda conn: _dicts(conn.execute(
            "SELECT * FROM experiments WHERE id = ?", [experiment_id])), write=False)
        return rows.experiment_from_row(found[0]) if found else None

    def find_cached(self, cache_keys: Sequence[str]) -> dict[str, Experiment]:
        keys = pd.DataFrame({"key": pd.Series(sorted(set(cache_keys)), dtype="str")})
        if keys.empty:
            return {}

        def work(conn: Conn) -> list[dict[str, Any]]:
            conn.register("_keys", keys)
            return _dicts(conn.execute("""
                SELECT e.* FROM experiments e JOIN _keys k ON e.cache_key = k.key
                WHERE e.status = 'ok'
                QUALIFY row_number() OVER (
                    PARTITION BY e.cache_key ORDER BY e.created_at DESC, e.rowid DESC) = 1"""))

        return {r["cache_key"]: rows.experiment_from_row(r)
                for r in self._run(work, write=False)}

    def list(self, *, user_id: str | None = None, sweep_id: str | None = None,
             limit: int | None = None) -> builtins.list[Experiment]:
        where, params = _filters(user_id=user_id, sweep_id=sweep_id)
        sql = f"SELECT * FROM experiments {where} {_NEWEST_FIRST}{_limit(limit)}"
        found = self._run(lambda conn: _dicts(conn.execute(sql, params)), write=False)
        return [rows.experiment_from_row(r) for r in found]

    # -- read models --

    def history(self, user_id: str | None = None, sweep_id: str | None = None,
                limit: int | None = None, search: str | None = None,
                model: str | None = None) -> pd.DataFrame:
        """Experiments as a DataFrame, newest first; `search` is a case-insensitive substring
        of the prompt, system message or response."""
        where, params = _filters(user_id=user_id, sweep_id=sweep_id, model=model, search=search)
        sql = f"SELECT {_EXPERIMENTS} FROM experiments {where} {_NEWEST_FIRST}{_limit(limit)}"
        return self._run(lambda conn: conn.execute(sql, params).df(), write=False)

    def requests(self, experiment_id: str | None = None) -> pd.DataFrame:
        where, params = _filters(experiment_id=experiment_id)
        sql = (f"SELECT {_REQUESTS} FROM api_requests {where} "
               "ORDER BY created_at, experiment_id, attempt, rowid")
        return self._run(lambda conn: conn.execute(sql, params).df(), write=False)

    def sweep(self, sweep_id: str) -> dict[str, Any] | None:
        found = self._run(lambda conn: _dicts(conn.execute(
            "SELECT * FROM sweeps WHERE id = ?", [sweep_id])), write=False)
        return rows.sweep_from_db(found[0]) if found else None

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
              ) -> pd.DataFrame:
        """One SELECT over the log, for analytics; it runs in a transaction that is rolled back."""
        try:
            statements = duckdb.extract_statements(sql)
        except duckdb.Error as e:
            raise InvalidInput(f"query() could not parse the SQL: {e}") from None
        if len(statements) != 1 or statements[0].type not in _READ_ONLY_STATEMENTS:
            raise InvalidInput("query() runs exactly one SELECT (or EXPLAIN) statement; "
                               "the log is written only through the repository")

        def work(conn: Conn) -> pd.DataFrame:
            try:
                return conn.execute(sql, params).df()
            except duckdb.Error as e:
                raise InvalidInput(f"query() failed: {e}") from None

        return self._run(work, write=False)

    # -- users and usage --

    def upsert_user(self, user: User, limits: dict[str, Any] | None = None) -> None:
        """Insert or replace; limits=None keeps the stored limits, created_at is kept."""

        def work(conn: Conn) -> None:
            old = _dicts(conn.execute("SELECT limits, created_at FROM users WHERE id = ?",
                                      [user.id]))
            row = rows.user_to_db(user, limits, old[0]["created_at"] if old else utcnow())
            if limits is None and old:
                row["limits"] = old[0]["limits"]
            _insert_or_replace(conn, "users", row)

        self._run(work)

    def get_user(self, user_id: str) -> User | None:
        found = self._run(lambda conn: _dicts(conn.execute(
            "SELECT * FROM users WHERE id = ?", [user_id])), write=False)
        return rows.user_from_db(found[0]) if found else None

    def user_limits(self, user_id: str) -> dict[str, Any] | None:
        found = self._run(lambda conn: conn.execute(
            "SELECT limits FROM users WHERE id = ?", [user_id]).fetchone(), write=False)
        return None if found is None or found[0] is None else dict(json.loads(found[0]))

    # -- connection handling --

    def _run(self, work: Callable[[Conn], T], *, write: bool = True) -> T:
        """Open, run `work` in one transaction, commit (or roll back a read), close.

        A file locked by another process, or a write conflict with another thread, is retried
        with exponential backoff and jitter until lock_timeout has passed.
        """
        start = time.monotonic()
        attempt = 0
        remigrated = False
        while True:
            try:
                with self._lock, self._open(write=write) as conn:
                    try:
                        conn.execute("BEGIN TRANSACTION")
                        result = work(conn)
                        conn.execute("COMMIT" if write else "ROLLBACK")
                        return result
                    except BaseException:
                        _rollback_quietly(conn)
                        raise
            except duckdb.Error as e:
                waited = time.monotonic() - start
                left = self.lock_timeout - waited
                if isinstance(e, duckdb.CatalogException) and not remigrated:
                    remigrated = forget_migrated(self.path)
                    if remigrated:
                        continue  # the file was replaced since we migrated it: migrate again
                if _retryable(e) and left > 0:
                    delay = min(0.5, 0.01 * 2**attempt) * random.uniform(0.5, 1.0)
                    time.sleep(min(delay, left))
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
        with opened(path, self._key, read_only=read_only) as conn:
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


def _dicts(cursor: Conn) -> list[dict[str, Any]]:
    columns = [d[0] for d in cursor.description or ()]
    return [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]


def _insert_or_replace(conn: Conn, table: str, row: Mapping[str, Any]) -> None:
    cols = list(row)
    conn.execute(f"INSERT OR REPLACE INTO {table} ({', '.join(cols)}) "
                 f"VALUES ({', '.join('?' for _ in cols)})", [row[c] for c in cols])


def _filters(**given: str | None) -> tuple[str, list[Any]]:
    clauses, params = [], []
    for column, value in given.items():
        if value is None:
            continue
        if column == "search":
            clauses.append("(contains(lower(prompt), ?) OR contains(lower(coalesce(system, '')),"
                           " ?) OR contains(lower(response), ?))")
            params += [value.lower()] * 3
        else:
            clauses.append(f"{column} = ?")
            params.append(value)
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), params


def _limit(limit: int | None) -> str:
    n = rows.check_limit(limit)
    return "" if n is None else f" LIMIT {n}"


def _insert_calls(conn: Conn, exp_df: pd.DataFrame, req_df: pd.DataFrame,
                  batch: Sequence[Experiment], *, careful: bool) -> None:
    conn.register("_exp_batch", exp_df)
    if not careful:
        conn.execute(f"INSERT INTO experiments ({_EXPERIMENTS}) "
                     f"SELECT {_EXPERIMENTS} FROM _exp_batch")
        conn.register("_req_batch", req_df)
        conn.execute(f"INSERT INTO api_requests ({_REQUESTS}) SELECT {_REQUESTS} FROM _req_batch")
        return
    new = {i for (i,) in conn.execute(
        f"INSERT OR IGNORE INTO experiments ({_EXPERIMENTS}) "
        f"SELECT {_EXPERIMENTS} FROM _exp_batch RETURNING id").fetchall()}
    # The requests of an experiment logged before (skipped above) are skipped too: found from
    # what the insert returned, not by joining the whole log.
    before = [e.id for e in batch if e.id not in new]
    conn.register("_req_batch", req_df[~req_df["experiment_id"].isin(before)]
                  if before else req_df)
    conn.execute(f"INSERT OR IGNORE INTO api_requests ({_REQUESTS}) "
                 f"SELECT {_REQUESTS} FROM _req_batch")


def _book_usage(conn: Conn, usage_df: pd.DataFrame, *, careful: bool) -> None:
    """The ledger rows, and each user's token_usage grown by what was booked now (not by rows
    booked before)."""
    conn.register("_usage_batch", usage_df)
    if careful:
        booked = conn.execute(
            f"INSERT OR IGNORE INTO usage ({_USAGE}) SELECT {_USAGE} "
            f"FROM _usage_batch RETURNING user_id, {TOKENS}").fetchall()
    else:
        conn.execute(f"INSERT INTO usage ({_USAGE}) SELECT {_USAGE} FROM _usage_batch")
        spent = usage_df["prompt_tokens"].fillna(0) + usage_df["completion_tokens"].fillna(0)
        booked = list(zip(usage_df["user_id"], spent.astype(int).tolist(), strict=True))
    grown: dict[str, int] = {}
    for user, tokens in booked:
        grown[user] = grown.get(user, 0) + tokens
    for user, tokens in grown.items():
        conn.execute("UPDATE users SET token_usage = coalesce(token_usage, 0) + ? "
                     "WHERE id = ?", [tokens, user])


def _upsert_sweep(conn: Conn, row: Mapping[str, Any], given: frozenset[str]) -> None:
    """The `given` fields of `row` over the stored row (created_at is kept): an UPDATE of
    those, or the whole row (defaults for the rest) when there is none yet."""
    fields = [k for k in row if k != "id" and (k in given or k == "updated_at")]
    (updated,) = conn.execute(
        f"UPDATE sweeps SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = ?",
        [row[k] for k in fields] + [row["id"]]).fetchone() or (0,)
    if not updated:
        _insert_or_replace(conn, "sweeps", row)

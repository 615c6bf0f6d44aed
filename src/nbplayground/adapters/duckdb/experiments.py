"""DuckDBExperimentRepository: the experiments, requests, sweeps and users of the log, and its
read models (pandas DataFrames).

Every method is one transaction of its LogFile (logfile.py); the rows are mapped in rows.py and
an add() is written by writes.py.
"""

from __future__ import annotations

import builtins
import json
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from nbplayground.adapters.duckdb import rows, writes
from nbplayground.adapters.duckdb.batches import DuckDBBatches
from nbplayground.adapters.duckdb.logfile import LogFile
from nbplayground.adapters.duckdb.score_rows import score_rows
from nbplayground.adapters.duckdb.sql import EXPERIMENTS, REQUESTS, Conn, dicts, insert_or_replace
from nbplayground.domain import APIRequest, Experiment, User
from nbplayground.errors import InvalidInput
from nbplayground.evaluation import Score
from nbplayground.ids import utcnow

_NEWEST_FIRST = "ORDER BY created_at DESC, rowid DESC"
_READ_ONLY_STATEMENTS = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


class DuckDBExperimentRepository(DuckDBBatches):
    """ExperimentRepository (and BatchLog) plus the read models (pandas DataFrames) of one
    DuckDB file."""

    def __init__(self, path: str | os.PathLike[str], *, lock_timeout: float = 30.0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], object] = time.sleep) -> None:
        """`clock` and `sleep`: the lock wait's time (see LogFile)."""
        self.log = LogFile(path, lock_timeout=lock_timeout, clock=clock, sleep=sleep)

    def __repr__(self) -> str:
        return f"DuckDBExperimentRepository({str(self.path)!r})"

    @property
    def path(self) -> Path:
        return self.log.path

    @property
    def lock_timeout(self) -> float:
        return self.log.lock_timeout

    @property
    def _lock(self) -> threading.Lock:
        return self.log.lock

    # -- ExperimentRepository --

    def add(self, experiments: Sequence[Experiment], requests: Sequence[APIRequest] = (), *,
            usage: Sequence[Mapping[str, Any]] = (),
            sweep: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
            scores: Sequence[Score] = ()) -> None:
        """One transaction: the experiments and their requests (ids already logged are skipped
        with their requests), the usage ledger rows of `usage` (each user's token_usage kept
        current), the scores of the batch and, when given, the sweep's row (or rows). A crash
        cannot log a call without its spend, nor a cell without its scores."""
        batch = rows.unique_by_id(experiments)
        # The sweep's row (and the fields given) is validated before the file is opened.
        sweep_updates = rows.sweep_updates(sweep)
        usage_df = rows.usage_frame(usage) if usage else None
        scores_df = score_rows(scores) if scores else None
        if not batch and not requests and usage_df is None and not sweep_updates \
                and scores_df is None:
            return
        calls = (writes.with_judge_roles(rows.experiments_frame(batch), scores_df),
                 rows.requests_frame(requests, batch)) if batch or requests else None
        careful = False  # plain INSERTs first; OR IGNORE only for a batch logged before

        def work(conn: Conn) -> None:
            nonlocal careful
            try:
                new = writes.insert_calls(conn, *calls, batch, careful=careful) \
                    if calls is not None else set()
                if usage_df is not None:
                    writes.book_usage(conn, usage_df, careful=careful)
                if scores_df is not None:
                    writes.write_scores(conn, scores_df, new)
                for update in sweep_updates:
                    writes.upsert_sweep(conn, *update)
            except duckdb.ConstraintException as e:
                # A row logged before (a retried batch): roll back, and the retry (this error
                # is retryable) skips what is logged. INSERT OR IGNORE costs ~3 ms more per
                # statement, and the closing batch of a sweep waits for every one of them.
                if not careful and "duplicate key" in str(e).lower():
                    careful = True
                raise

        self.log.run(work)

    def scores(self, *, sweep_id: str | None = None,
               experiment_ids: Sequence[str] | None = None,
               user_id: str | None = None) -> pd.DataFrame:
        """Scores of a sweep and/or of some experiments (of `user_id`'s experiments), in the
        order they were written."""
        clauses, params = [], []
        if sweep_id is not None:
            clauses.append("s.sweep_id = ?")
            params.append(sweep_id)
        if user_id is not None:
            clauses.append("e.user_id = ?")
            params.append(user_id)
        ids = None if experiment_ids is None else pd.DataFrame(
            {"id": pd.Series(list(experiment_ids), dtype="str")})
        if ids is not None:
            clauses.append("s.experiment_id IN (SELECT id FROM _ids)")
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        sql = (f"SELECT s.* EXCLUDE (created_at), s.created_at FROM scores s "
               f"JOIN experiments e ON e.id = s.experiment_id {where} ORDER BY s.rowid")

        def work(conn: Conn) -> pd.DataFrame:
            if ids is not None:
                conn.register("_ids", ids)
            return conn.execute(sql, params).df()

        return self.log.run(work, write=False)

    def save_attachments(self, items: Sequence[Mapping[str, Any]]) -> None:
        """Image bytes once per sha256: a hash already stored is left as it is."""
        if not items:
            return
        now = utcnow()

        def work(conn: Conn) -> None:
            conn.executemany(
                "INSERT OR IGNORE INTO attachments VALUES (?, ?, ?, ?, ?)",
                [[i["sha256"], i["user_id"], i["media_type"], i["bytes"], now] for i in items])

        self.log.run(work)

    def attachment(self, sha256: str) -> bytes | None:
        found = self.log.run(lambda conn: conn.execute(
            "SELECT bytes FROM attachments WHERE sha256 = ?", [sha256]).fetchone(), write=False)
        return bytes(found[0]) if found else None

    def get(self, experiment_id: str) -> Experiment | None:
        found = self.log.run(lambda conn: dicts(conn.execute(
            "SELECT * FROM experiments WHERE id = ?", [experiment_id])), write=False)
        return rows.experiment_from_row(found[0]) if found else None

    def find_cached(self, cache_keys: Sequence[str]) -> dict[str, Experiment]:
        keys = pd.DataFrame({"key": pd.Series(sorted(set(cache_keys)), dtype="str")})
        if keys.empty:
            return {}

        def work(conn: Conn) -> list[dict[str, Any]]:
            conn.register("_keys", keys)
            return dicts(conn.execute("""
                SELECT e.* FROM experiments e JOIN _keys k ON e.cache_key = k.key
                WHERE e.status = 'ok'
                QUALIFY row_number() OVER (
                    PARTITION BY e.cache_key ORDER BY e.created_at DESC, e.rowid DESC) = 1"""))

        return {r["cache_key"]: rows.experiment_from_row(r)
                for r in self.log.run(work, write=False)}

    def list(self, *, user_id: str | None = None, sweep_id: str | None = None,
             limit: int | None = None) -> builtins.list[Experiment]:
        where, params = _filters(user_id=user_id, sweep_id=sweep_id)
        sql = f"SELECT * FROM experiments {where} {_NEWEST_FIRST}{_limit(limit)}"
        found = self.log.run(lambda conn: dicts(conn.execute(sql, params)), write=False)
        return [rows.experiment_from_row(r) for r in found]

    # -- read models --

    def history(self, user_id: str | None = None, sweep_id: str | None = None,
                limit: int | None = None, search: str | None = None,
                model: str | None = None) -> pd.DataFrame:
        """Experiments as a DataFrame, newest first; `search` is a case-insensitive substring
        of the prompt, system message or response."""
        where, params = _filters(user_id=user_id, sweep_id=sweep_id, model=model, search=search)
        sql = f"SELECT {EXPERIMENTS} FROM experiments {where} {_NEWEST_FIRST}{_limit(limit)}"
        return self.log.run(lambda conn: conn.execute(sql, params).df(), write=False)

    def requests(self, experiment_id: str | None = None) -> pd.DataFrame:
        where, params = _filters(experiment_id=experiment_id)
        sql = (f"SELECT {REQUESTS} FROM api_requests {where} "
               "ORDER BY created_at, experiment_id, attempt, rowid")
        return self.log.run(lambda conn: conn.execute(sql, params).df(), write=False)

    def sweep(self, sweep_id: str) -> dict[str, Any] | None:
        found = self.log.run(lambda conn: dicts(conn.execute(
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

        return self.log.run(work, write=False)

    # -- users and usage --

    def upsert_user(self, user: User, limits: dict[str, Any] | None = None) -> None:
        """Insert or replace; limits=None keeps the stored limits, created_at is kept."""

        def work(conn: Conn) -> None:
            old = dicts(conn.execute("SELECT limits, created_at FROM users WHERE id = ?",
                                      [user.id]))
            row = rows.user_to_db(user, limits, old[0]["created_at"] if old else utcnow())
            if limits is None and old:
                row["limits"] = old[0]["limits"]
            insert_or_replace(conn, "users", row)

        self.log.run(work)

    def get_user(self, user_id: str) -> User | None:
        found = self.log.run(lambda conn: dicts(conn.execute(
            "SELECT * FROM users WHERE id = ?", [user_id])), write=False)
        return rows.user_from_db(found[0]) if found else None

    def user_limits(self, user_id: str) -> dict[str, Any] | None:
        found = self.log.run(lambda conn: conn.execute(
            "SELECT limits FROM users WHERE id = ?", [user_id]).fetchone(), write=False)
        return None if found is None or found[0] is None else dict(json.loads(found[0]))


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

"""PostgresExperimentRepository: the experiment log in a PostgreSQL database (the team log).

The same port and read models as the file log. Each call is one transaction on a pooled
connection; row security in the server decides which rows the login sees and may write.
"""

from __future__ import annotations

import builtins
import json
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from nbplayground.adapters.duckdb import frames as file_frames
from nbplayground.adapters.duckdb import rows
from nbplayground.adapters.duckdb.score_rows import score_rows as file_score_rows
from nbplayground.adapters.postgres import attachments, batches, frames
from nbplayground.adapters.postgres import scores as score_rows
from nbplayground.adapters.postgres.connection import Conn, Pool, is_url, redact
from nbplayground.adapters.postgres.migrations import check
from nbplayground.adapters.postgres.reads import (
    ReportQuery,
    history_filters,
    limit_clause,
)
from nbplayground.adapters.postgres.writes import cols as _cols
from nbplayground.adapters.postgres.writes import copy_in as _copy_in
from nbplayground.adapters.postgres.writes import dicts as _dicts
from nbplayground.adapters.postgres.writes import records as _records
from nbplayground.adapters.postgres.writes import upsert_sweep as _upsert_sweep
from nbplayground.domain import APIRequest, Experiment, User
from nbplayground.errors import InvalidInput
from nbplayground.evaluation import Score
from nbplayground.ids import utcnow

_EXP = file_frames.names(rows.EXPERIMENT_COLUMNS)
_REQ = file_frames.names(rows.REQUEST_COLUMNS)
_USAGE = file_frames.names(rows.USAGE_COLUMNS)
_USER = file_frames.names(rows.USER_COLUMNS)
_SWEEP = file_frames.names(rows.SWEEP_COLUMNS)
TOKENS = "coalesce(prompt_tokens, 0) + coalesce(completion_tokens, 0)"
_NEWEST_FIRST = "ORDER BY created_at DESC, seq DESC"


class PostgresExperimentRepository(batches.PostgresBatches):
    """ExperimentRepository plus the read models (pandas DataFrames) of a team log."""

    def __init__(self, dsn: str, *, lock_timeout: float = 30.0) -> None:
        if not is_url(dsn):
            raise InvalidInput("the team log needs a postgresql:// URL, e.g. "
                               "'postgresql://alice@db.example/nbplayground'")
        self.dsn = dsn
        self.lock_timeout = lock_timeout
        self._pool = Pool(dsn, connect_timeout=min(10.0, lock_timeout))
        # A Playground dropped without close() still says goodbye to the server.
        weakref.finalize(self, self._pool.close)
        self._login: str | None = None
        self._admin = False
        self.report_query = ReportQuery(self._run)
        """What the reports run their SQL with: in the server, over the visible rows."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({redact(self.dsn)!r})"

    @property
    def where(self) -> str:
        return redact(self.dsn)

    def close(self) -> None:
        self._pool.close()

    # -- identity --

    @property
    def login(self) -> str:
        """The database login (current_user): the identity of everything written here. The
        first call also checks that the database holds a team log of this schema."""
        if self._login is None:
            def work(conn: Conn) -> tuple[str, bool]:
                check(conn, self.where)
                (user, admin) = conn.execute(
                    "SELECT current_user, coalesce(pg_has_role(current_user, oid, 'USAGE'), "
                    "false) FROM (SELECT (SELECT oid FROM pg_roles WHERE rolname = "
                    "'nbplayground_admin') AS oid) r").fetchone() or ("", False)
                return str(user), bool(admin)

            self._login, self._admin = self._pool.run(work, write=False,
                                                      timeout=self.lock_timeout)
        return self._login

    @property
    def login_is_admin(self) -> bool:
        """A member of nbplayground_admin (team init --admin): row security lets it read all."""
        _ = self.login
        return self._admin

    def _run(self, work: Any, *, write: bool = True) -> Any:
        _ = self.login
        return self._pool.run(work, write=write, timeout=self.lock_timeout)

    # -- ExperimentRepository --

    def add(self, experiments: Sequence[Experiment], requests: Sequence[APIRequest] = (), *,
            usage: Sequence[Mapping[str, Any]] = (),
            sweep: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
            scores: Sequence[Score] = ()) -> None:
        """One transaction: the experiments and their requests (ids already logged are skipped
        with their requests), the usage rows (each user's token_usage kept current), the
        batch's scores and the sweep's row (or rows). A crash cannot log a call without its
        spend, nor a cell without its scores."""
        batch = rows.unique_by_id(experiments)
        sweep_updates = rows.sweep_updates(sweep)
        usage_df = rows.usage_frame(usage) if usage else None
        scores_df = file_score_rows(scores) if scores else None
        if not batch and not requests and usage_df is None and not sweep_updates \
                and scores_df is None:
            return
        exp_records = _records(rows.experiments_frame(batch), _EXP) if batch else []
        req_records = _records(rows.requests_frame(requests, batch), _REQ) if requests else []
        usage_records = _records(usage_df, _USAGE) if usage_df is not None else []

        def work(conn: Conn) -> None:
            new: set[str] = set()
            if exp_records:
                new = {str(i) for (i,) in _copy_in(conn, "experiments", _EXP, exp_records,
                                                   returning="id")}
            if req_records:
                before = {e.id for e in batch} - new
                fresh = [r for r in req_records if r[1] not in before]
                if fresh:
                    _copy_in(conn, "api_requests", _REQ, fresh)
            if usage_records:
                booked = _copy_in(conn, "usage", _USAGE, usage_records,
                                  returning=f"user_id, {TOKENS}")
                grown: dict[str, int] = {}
                for user, tokens in booked:
                    grown[str(user)] = grown.get(str(user), 0) + int(tokens)
                for user, tokens in grown.items():
                    conn.execute("UPDATE users SET token_usage = coalesce(token_usage, 0) + %s "
                                 "WHERE id = %s", (tokens, user))
            if scores_df is not None:
                score_rows.write(conn, scores_df)
            for update in sweep_updates:
                _upsert_sweep(conn, *update)

        self._run(work)

    def scores(self, *, sweep_id: str | None = None,
               experiment_ids: Sequence[str] | None = None,
               user_id: str | None = None) -> pd.DataFrame:
        """Scores of a sweep and/or of some experiments (of `user_id`'s experiments), in the
        order they were written; the file log's frame."""
        found = self._run(lambda conn: score_rows.read(
            conn, sweep_id=sweep_id, experiment_ids=experiment_ids, user_id=user_id),
            write=False)
        return frames.frame(frames.SCORE_COLUMNS, found)

    def save_attachments(self, items: Sequence[Mapping[str, Any]]) -> None:
        """Image bytes once per user and sha256 (row security keeps each user's own)."""
        if items:
            self._run(lambda conn: attachments.save(conn, items))

    def attachment(self, sha256: str) -> bytes | None:
        return self._run(lambda conn: attachments.load(conn, sha256), write=False)  # type: ignore[no-any-return]

    def get(self, experiment_id: str) -> Experiment | None:
        found = self._run(lambda conn: _dicts(conn, f"SELECT {_cols(_EXP)} FROM experiments "
                                                    "WHERE id = %s", [experiment_id]),
                          write=False)
        return rows.experiment_from_row(found[0]) if found else None

    def find_cached(self, cache_keys: Sequence[str]) -> dict[str, Experiment]:
        keys = sorted(set(cache_keys))
        if not keys:
            return {}
        found = self._run(lambda conn: _dicts(conn, f"""
            SELECT DISTINCT ON (cache_key) {_cols(_EXP)} FROM experiments
            WHERE status = 'ok' AND cache_key = ANY(%s)
            ORDER BY cache_key, created_at DESC, seq DESC""", [keys]), write=False)
        return {r["cache_key"]: rows.experiment_from_row(r) for r in found}

    def list(self, *, user_id: str | None = None, sweep_id: str | None = None,
             limit: int | None = None) -> builtins.list[Experiment]:
        where, params = history_filters(user_id=user_id, sweep_id=sweep_id)
        sql = (f"SELECT {_cols(_EXP)} FROM experiments {where} {_NEWEST_FIRST}"
               f"{limit_clause(limit)}")
        found = self._run(lambda conn: _dicts(conn, sql, params), write=False)
        return [rows.experiment_from_row(r) for r in found]

    def logged(self, ids: Sequence[str]) -> set[str]:
        """Which of `ids` the log has (among the rows this login sees)."""
        found = self._run(lambda conn: conn.execute(
            "SELECT id FROM experiments WHERE id = ANY(%s)", [list(ids)]).fetchall(),
            write=False)
        return {str(i) for (i,) in found}

    # -- read models --

    def history(self, user_id: str | None = None, sweep_id: str | None = None,
                limit: int | None = None, search: str | None = None,
                model: str | None = None) -> pd.DataFrame:
        """Experiments as a DataFrame, newest first; `search` is a case-insensitive substring
        of the prompt, system message or response."""
        where, params = history_filters(user_id=user_id, sweep_id=sweep_id, model=model,
                                        search=search)
        sql = (f"SELECT {_cols(_EXP)} FROM experiments {where} {_NEWEST_FIRST}"
               f"{limit_clause(limit)}")
        found = self._run(lambda conn: conn.execute(sql, params).fetchall(), write=False)
        return frames.frame(rows.EXPERIMENT_COLUMNS, found)

    def requests(self, experiment_id: str | None = None) -> pd.DataFrame:
        where, params = history_filters(experiment_id=experiment_id)
        sql = (f"SELECT {_cols(_REQ)} FROM api_requests {where} "
               "ORDER BY created_at, experiment_id, attempt, seq")
        found = self._run(lambda conn: conn.execute(sql, params).fetchall(), write=False)
        return frames.frame(rows.REQUEST_COLUMNS, found)

    def sweep(self, sweep_id: str) -> dict[str, Any] | None:
        found = self._run(lambda conn: _dicts(conn, f"SELECT {_cols(_SWEEP)} FROM sweeps "
                                                    "WHERE id = %s", [sweep_id]), write=False)
        return rows.sweep_from_db(found[0]) if found else None

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
              ) -> pd.DataFrame:
        """One SELECT in DuckDB's SQL (the reports' dialect) over the rows this login may see
        of the tables it names."""
        frames.check_query(sql)
        wanted = frames.tables_named(sql)

        def work(conn: Conn) -> dict[str, builtins.list[tuple[Any, ...]]]:
            return {t: conn.execute(f"SELECT {_cols(file_frames.names(frames.TABLES[t]))} "
                                    f"FROM {t}").fetchall() for t in wanted}

        return frames.run_query(sql, params, self._run(work, write=False))

    # -- users --

    def upsert_user(self, user: User, limits: dict[str, Any] | None = None) -> None:
        """Insert or replace; limits=None keeps the stored limits, created_at is kept."""

        def work(conn: Conn) -> None:
            old = _dicts(conn, "SELECT limits, created_at FROM users WHERE id = %s", [user.id])
            row = rows.user_to_db(user, limits, old[0]["created_at"] if old else utcnow())
            if limits is None and old:
                row["limits"] = old[0]["limits"]
            cols = list(row)
            updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in ("id",))
            conn.execute(f"INSERT INTO users ({', '.join(cols)}) VALUES "
                         f"({', '.join(['%s'] * len(cols))}) "
                         f"ON CONFLICT (id) DO UPDATE SET {updates}", [row[c] for c in cols])

        self._run(work)

    def get_user(self, user_id: str) -> User | None:
        found = self._run(lambda conn: _dicts(conn, f"SELECT {_cols(_USER)} FROM users "
                                                    "WHERE id = %s", [user_id]), write=False)
        return rows.user_from_db(found[0]) if found else None

    def user_limits(self, user_id: str) -> dict[str, Any] | None:
        found = self._run(lambda conn: conn.execute(
            "SELECT limits FROM users WHERE id = %s", [user_id]).fetchone(), write=False)
        return None if found is None or found[0] is None else dict(json.loads(found[0]))



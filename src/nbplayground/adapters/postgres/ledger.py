"""PostgresUsageLedger: the `usage` ledger and `users` table of the team log.

Limits are the admins' to set: a user's login may insert and refresh its own users row but
has no privilege on its plan (subscription_type), limits or role (team init grants it so).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

import pandas as pd

from nbplayground.accounts.gate import Room, Snapshot
from nbplayground.accounts.limits import FREE_PROVIDERS, Limits
from nbplayground.adapters.duckdb import frames as file_frames
from nbplayground.adapters.duckdb import rows
from nbplayground.adapters.postgres import frames
from nbplayground.adapters.postgres.connection import Conn
from nbplayground.adapters.postgres.store import TOKENS, PostgresExperimentRepository
from nbplayground.adapters.postgres.writes import dicts as _dicts
from nbplayground.errors import InvalidInput
from nbplayground.ids import new_id, utcnow

# The file log's report SQL (duckdb_ledger), repeated: it runs in DuckDB over the visible rows.
_FREE = ", ".join(f"'{p}'" for p in sorted(FREE_PROVIDERS))
_BILLABLE = f"coalesce(provider, '') NOT IN ({_FREE})"
USAGE_GROUPS = {"day": ("day",), "model": ("model", "provider"), "user": ("user_id",)}
HOLD_TTL = "15 minutes"
"""How long a hold outlives its last settle: a crashed kernel's reservation frees itself."""
NO_PLAN = "free"
"""A login without a plan in the users row gets the strictest, whatever the kernel's
NBPLAYGROUND_PLAN says: the environment is the user's to change, the team log is not."""


class PostgresUsageLedger(PostgresExperimentRepository):
    """UsageLedger (for the BudgetGate) plus users' plans, limits, key references and reports."""

    def snapshot(self, user_id: str, day: date) -> Snapshot:
        return self._run(lambda conn: snapshot(conn, user_id, day), write=False)  # type: ignore[no-any-return]

    # -- SharedHolds: budget reservations in the database --

    def reserve_hold(self, user_id: str, day: date, usd: float, tokens: int, room: Room
                     ) -> tuple[str, Limits]:
        """Under a row lock on the user's users row (every machine of the user queues here):
        spend and live holds read, room(...) checked, the hold stored, in one transaction."""
        hold_id = new_id()

        def work(conn: Conn) -> Limits:
            conn.execute("INSERT INTO users (id, token_usage, created_at) VALUES (%s, 0, %s) "
                         "ON CONFLICT (id) DO NOTHING", (user_id, utcnow()))
            conn.execute("SELECT 1 FROM users WHERE id = %s FOR UPDATE", (user_id,))
            (held, held_tokens) = _held(conn, user_id)
            limits = room(snapshot(conn, user_id, day), held, held_tokens)
            conn.execute("INSERT INTO holds (id, user_id, usd, tokens, expires_at) VALUES "
                         f"(%s, %s, %s, %s, now() + interval '{HOLD_TTL}')",
                         (hold_id, user_id, usd, tokens))
            return limits

        return hold_id, self._run(work)

    def settle_hold(self, hold_id: str, usd: float, tokens: int) -> None:
        self._run(lambda conn: conn.execute(
            "UPDATE holds SET usd = greatest(0, usd - %s), tokens = greatest(0, tokens - %s), "
            f"expires_at = now() + interval '{HOLD_TTL}' WHERE id = %s",
            (usd, tokens, hold_id)))

    def release_hold(self, hold_id: str) -> None:
        self._run(lambda conn: conn.execute("DELETE FROM holds WHERE id = %s", (hold_id,)))

    def held(self, user_id: str) -> tuple[float, int]:
        return self._run(lambda conn: _held(conn, user_id), write=False)  # type: ignore[no-any-return]

    def save_user(self, user_id: str, *, plan: str, role: str = "user",
                  key_ref: str | None = None, key_fingerprint: str | None = None) -> None:
        """Create the login's row or refresh its key reference and token count; plan and role
        are team init's and the admins' (`plan` and `role` are ignored here)."""

        def work(conn: Conn) -> None:
            conn.execute(f"""
                INSERT INTO users (id, token_usage, api_key_ref, api_key_fingerprint,
                                   created_at)
                VALUES (%s, (SELECT coalesce(sum({TOKENS}), 0) FROM usage WHERE user_id = %s),
                        %s, %s, %s)
                ON CONFLICT (id) DO UPDATE SET
                    api_key_ref = coalesce(excluded.api_key_ref, users.api_key_ref),
                    api_key_fingerprint = coalesce(excluded.api_key_fingerprint,
                                                   users.api_key_fingerprint),
                    token_usage = excluded.token_usage""",
                         (user_id, user_id, key_ref, key_fingerprint, utcnow()))

        self._run(work)

    def set_limits(self, user_id: str, *, default_plan: str, plan: str | None = None,
                   overrides: Mapping[str, Any] | None = None) -> None:
        """Change the user's plan and merge `overrides` into users.limits (admins only: the
        server refuses anyone else)."""

        def work(conn: Conn) -> None:
            old = _dicts(conn, "SELECT subscription_type, limits FROM users WHERE id = %s "
                               "FOR UPDATE", [user_id])
            merged = json.loads(old[0]["limits"]) if old and old[0]["limits"] else {}
            merged.update(overrides or {})
            limits = file_frames.dumps(merged) if merged else None
            if old:
                conn.execute("UPDATE users SET subscription_type = %s, limits = %s "
                             "WHERE id = %s",
                             (plan or old[0]["subscription_type"] or NO_PLAN, limits, user_id))
                return
            conn.execute("INSERT INTO users (id, subscription_type, token_usage, role, limits, "
                         "created_at) VALUES (%s, %s, 0, 'user', %s, %s)",
                         (user_id, plan or NO_PLAN, limits, utcnow()))

        self._run(work)

    def usage_report(self, by: str, user_id: str | None = None) -> pd.DataFrame:
        """Requests, tokens and cost grouped by day, model or user, of the visible rows."""
        if by not in USAGE_GROUPS:
            raise InvalidInput(f"by must be one of {', '.join(USAGE_GROUPS)}, not {by!r}")
        keys = ", ".join(USAGE_GROUPS[by])
        where, params = ("WHERE user_id = %s", [user_id]) if user_id is not None else ("", [])
        cols = ", ".join(file_frames.names(rows.USAGE_COLUMNS))
        found = self._run(lambda conn: conn.execute(f"SELECT {cols} FROM usage {where}",
                                                    params).fetchall(), write=False)
        sql = f"""
            SELECT {keys}, count(*) AS requests,
                   CAST(coalesce(sum(prompt_tokens), 0) AS BIGINT) AS prompt_tokens,
                   CAST(coalesce(sum(completion_tokens), 0) AS BIGINT) AS completion_tokens,
                   CAST(coalesce(sum({TOKENS}), 0) AS BIGINT) AS tokens,
                   coalesce(sum(cost), 0) AS cost,
                   coalesce(sum(cost) FILTER (WHERE {_BILLABLE}), 0) AS billable_cost
            FROM usage GROUP BY {keys} ORDER BY {keys}"""
        return frames.run_query(sql, None, {"usage": found})


def _held(conn: Conn, user_id: str) -> tuple[float, int]:
    found = conn.execute("SELECT coalesce(sum(usd), 0), coalesce(sum(tokens), 0) FROM holds "
                         "WHERE user_id = %s AND expires_at > now()", (user_id,)).fetchone()
    return (float(found[0]), int(found[1])) if found else (0.0, 0)


def snapshot(conn: Conn, user_id: str, day: date) -> Snapshot:
    """The user's plan, overrides and billable spend, read in the caller's transaction."""
    month = day.replace(day=1)
    user = conn.execute("SELECT subscription_type, limits FROM users WHERE id = %s",
                        (user_id,)).fetchone()
    spent = conn.execute(f"""
        SELECT coalesce(sum(cost) FILTER (WHERE day = %s), 0),
               coalesce(sum(cost), 0),
               coalesce(sum({TOKENS}) FILTER (WHERE day = %s), 0)
        FROM usage
        WHERE user_id = %s AND day >= %s AND day <= %s AND {_BILLABLE}""",
                         (day, day, user_id, month, day)).fetchone()
    today, this_month, tokens = spent or (0.0, 0.0, 0)
    return Snapshot(plan=str(user[0]) if user and user[0] else NO_PLAN,
                    overrides=json.loads(str(user[1])) if user and user[1] else {},
                    spent_today=float(today), spent_month=float(this_month),
                    tokens_today=int(tokens))

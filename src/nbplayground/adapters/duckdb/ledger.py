"""DuckDBUsageLedger: the `usage` ledger and `users` table of the experiment log, for the
BudgetGate and the accounts' reports.

It is given the log's LogFile (or a path, and opens its own: two LogFiles on one file share its
lock and connection) and runs each method as one transaction of it, as the repository does.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from nbplayground.accounts.gate import Snapshot
from nbplayground.accounts.limits import FREE_PROVIDERS
from nbplayground.adapters.duckdb.batches import HELD
from nbplayground.adapters.duckdb.frames import dumps
from nbplayground.adapters.duckdb.logfile import LogFile
from nbplayground.adapters.duckdb.sql import TOKENS, Conn, dicts
from nbplayground.errors import InvalidInput
from nbplayground.ids import utcnow

_FREE = ", ".join(f"'{p}'" for p in sorted(FREE_PROVIDERS))
_BILLABLE = f"coalesce(provider, '') NOT IN ({_FREE})"
_TOKEN_USAGE = f"(SELECT coalesce(sum({TOKENS}), 0) FROM usage WHERE user_id = ?)"
USAGE_GROUPS = {"day": ("day",), "model": ("model", "provider"), "user": ("user_id",)}


class DuckDBUsageLedger:
    """UsageLedger (for the BudgetGate) plus users' plans, limits, key references and reports."""

    def __init__(self, log: LogFile | str | os.PathLike[str], *,
                 lock_timeout: float = 30.0) -> None:
        """`lock_timeout` is for a path; a LogFile given keeps its own."""
        self.log = log if isinstance(log, LogFile) else LogFile(log, lock_timeout=lock_timeout)

    def __repr__(self) -> str:
        return f"DuckDBUsageLedger({str(self.path)!r})"

    @property
    def path(self) -> Path:
        return self.log.path

    def snapshot(self, user_id: str, day: date) -> Snapshot:
        month = day.replace(day=1)

        def work(conn: Conn) -> Snapshot:
            user = conn.execute("SELECT subscription_type, limits FROM users WHERE id = ?",
                                [user_id]).fetchone()
            spent = conn.execute(f"""
                SELECT coalesce(sum(cost) FILTER (WHERE day = ?), 0),
                       coalesce(sum(cost), 0),
                       coalesce(sum({TOKENS}) FILTER (WHERE day = ?), 0)
                FROM usage
                WHERE user_id = ? AND day >= ? AND day <= ? AND {_BILLABLE}""",
                                 [day, day, user_id, month, day]).fetchone()
            today, this_month, tokens = spent or (0.0, 0.0, 0)
            held = (conn.execute(HELD, [user_id]).fetchone() or (0.0,))[0]  # unread batches
            return Snapshot(plan=user[0] if user else None,
                            overrides=json.loads(user[1]) if user and user[1] else {},
                            spent_today=float(today + held),
                            spent_month=float(this_month + held),
                            tokens_today=int(tokens))

        return self.log.run(work, write=False)

    def save_user(self, user_id: str, *, plan: str, role: str = "user",
                  key_ref: str | None = None, key_fingerprint: str | None = None) -> None:
        """Create the user's row (on the plan given) or refresh its role and key reference;
        a stored plan, email and limits are kept, and a missing key reference keeps the old."""

        def work(conn: Conn) -> None:
            conn.execute(f"""
                INSERT INTO users (id, subscription_type, token_usage, api_key_ref,
                                   api_key_fingerprint, role, created_at)
                VALUES (?, ?, {_TOKEN_USAGE}, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET
                    api_key_ref = coalesce(excluded.api_key_ref, api_key_ref),
                    api_key_fingerprint = coalesce(excluded.api_key_fingerprint,
                                                   api_key_fingerprint),
                    role = excluded.role, token_usage = excluded.token_usage""",
                         [user_id, plan, user_id, key_ref, key_fingerprint, role, utcnow()])

        self.log.run(work)

    def set_limits(self, user_id: str, *, default_plan: str, plan: str | None = None,
                   overrides: Mapping[str, Any] | None = None) -> None:
        """Change the user's plan and merge `overrides` into users.limits (JSON)."""

        def work(conn: Conn) -> None:
            old = dicts(conn.execute("SELECT subscription_type, limits FROM users WHERE id = ?",
                                      [user_id]))
            merged = json.loads(old[0]["limits"]) if old and old[0]["limits"] else {}
            merged.update(overrides or {})
            limits = dumps(merged) if merged else None
            if old:
                conn.execute("UPDATE users SET subscription_type = ?, limits = ? WHERE id = ?",
                             [plan or old[0]["subscription_type"] or default_plan, limits,
                              user_id])
                return
            conn.execute(f"""
                INSERT INTO users (id, subscription_type, token_usage, role, limits, created_at)
                VALUES (?, ?, {_TOKEN_USAGE}, 'user', ?, ?)""",
                         [user_id, plan or default_plan, user_id, limits, utcnow()])

        self.log.run(work)

    def usage_report(self, by: str, user_id: str | None = None) -> pd.DataFrame:
        """Requests, tokens and cost grouped by day, model or user; `billable_cost` is what
        budgets count (simulated and local runs are priced but not billed)."""
        if by not in USAGE_GROUPS:
            raise InvalidInput(f"by must be one of {', '.join(USAGE_GROUPS)}, not {by!r}")
        keys = ", ".join(USAGE_GROUPS[by])
        where, params = ("WHERE user_id = ?", [user_id]) if user_id is not None else ("", [])
        sql = f"""
            SELECT {keys}, count(*) AS requests,
                   CAST(coalesce(sum(prompt_tokens), 0) AS BIGINT) AS prompt_tokens,
                   CAST(coalesce(sum(completion_tokens), 0) AS BIGINT) AS completion_tokens,
                   CAST(coalesce(sum({TOKENS}), 0) AS BIGINT) AS tokens,
                   coalesce(sum(cost), 0) AS cost,
                   coalesce(sum(cost) FILTER (WHERE {_BILLABLE}), 0) AS billable_cost
            FROM usage {where} GROUP BY {keys} ORDER BY {keys}"""
        return self.log.run(lambda conn: conn.execute(sql, params).df(), write=False)

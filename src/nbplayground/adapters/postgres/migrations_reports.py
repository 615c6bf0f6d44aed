"""Migration 7 of the team log: the indexes its reports and read models need (no new columns).

Registered in a module of its own, imported last by migrations.py, so that it follows
migrations 4-6 (scores, prompts, batches) whatever order their modules land in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

REPORT_COLUMNS = ("created_at", "status", "finish_reason", "provider", "model",
                  "prompt_tokens", "completion_tokens", "token_count", "generation_time_ms",
                  "cost_estimate", "cost_as")
"""Every column the cost and latency reports (and their charts) and pivot by model read:
bounded short values only, since a B-tree entry must stay under ~2.7 kB (no prompts, answers
or JSON)."""


def m007_report_indexes(conn: psycopg.Connection[tuple[Any, ...]]) -> None:
    """Reports read a user's rows (row security adds user_id = current_user) or a sweep's by
    index only: the covering index holds what cost, latency and their charts aggregate, so the
    server reads it instead of every row's answer and prompt. Newest-first reads (history,
    the newest rows of variety and answers) of every user, an admin's, walk the log's time
    index instead of sorting it. The usage report reads its own covering index."""
    conn.execute(f"CREATE INDEX experiments_report ON experiments (user_id, sweep_id) "
                 f"INCLUDE ({', '.join(REPORT_COLUMNS)})")
    conn.execute("CREATE INDEX experiments_created ON experiments (created_at, seq)")
    conn.execute("CREATE INDEX usage_report ON usage (user_id, day) "
                 "INCLUDE (model, provider, prompt_tokens, completion_tokens, cost)")

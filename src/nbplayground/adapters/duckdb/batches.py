"""The `batches` table of the file log (the BatchLog port), and what its unread batches hold
of a user's budget."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING

from nbplayground.adapters.duckdb.batch_rows import BATCH_NAMES, batch_from_row, batch_to_row
from nbplayground.adapters.duckdb.sql import Conn, dicts, insert_or_replace
from nbplayground.domain.batch import BatchRecord

if TYPE_CHECKING:
    from nbplayground.adapters.duckdb.logfile import LogFile

HELD = ("SELECT coalesce(sum(max_cost), 0) FROM batches "
        "WHERE user_id = ? AND ingested_at IS NULL")
"""USD a user's batches hold until their results are booked (their maximum cost)."""


class DuckDBBatches:
    """BatchLog over the repository's LogFile (mixed into DuckDBExperimentRepository)."""

    log: LogFile

    def save_batch(self, batch: BatchRecord) -> None:
        row = batch_to_row(batch)
        self.log.run(lambda conn: insert_or_replace(conn, "batches", row))

    def batches(self, *, user_id: str | None = None, sweep_id: str | None = None
                ) -> builtins.list[BatchRecord]:
        where, params = [], []
        for column, value in (("user_id", user_id), ("sweep_id", sweep_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        sql = (f"SELECT {', '.join(BATCH_NAMES)} FROM batches "
               f"{'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY created_at, rowid")

        def work(conn: Conn) -> builtins.list[BatchRecord]:
            return [batch_from_row(r) for r in dicts(conn.execute(sql, params))]

        return self.log.run(work, write=False)

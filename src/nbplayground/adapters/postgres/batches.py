"""The `batches` table of the team log (the BatchLog port) and what unread batches hold of a
user's budget; row security keeps each user's own rows."""

from __future__ import annotations

import builtins
from typing import Any

from nbplayground.adapters.duckdb.batch_rows import BATCH_NAMES, batch_from_row, batch_to_row
from nbplayground.domain.batch import BatchRecord

HELD = ("SELECT coalesce(sum(max_cost), 0) FROM batches "
        "WHERE user_id = %s AND ingested_at IS NULL")
_COLS = ", ".join(f'"{n}"' for n in BATCH_NAMES)
_UPSERT = (f"INSERT INTO batches ({_COLS}) VALUES ({', '.join(['%s'] * len(BATCH_NAMES))}) "
           "ON CONFLICT (id) DO UPDATE SET " +
           ", ".join(f'"{n}" = excluded."{n}"' for n in BATCH_NAMES if n != "id"))


class PostgresBatches:
    """BatchLog over the repository's pool (mixed into PostgresExperimentRepository)."""

    def _run(self, work: Any, *, write: bool = True) -> Any: ...

    def save_batch(self, batch: BatchRecord) -> None:
        row = batch_to_row(batch)
        self._run(lambda conn: conn.execute(_UPSERT, [row[n] for n in BATCH_NAMES]))

    def batches(self, *, user_id: str | None = None, sweep_id: str | None = None
                ) -> builtins.list[BatchRecord]:
        where, params = [], []
        for column, value in (("user_id", user_id), ("sweep_id", sweep_id)):
            if value is not None:
                where.append(f"{column} = %s")
                params.append(value)
        sql = (f"SELECT {_COLS} FROM batches "
               f"{'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY created_at, seq")

        def work(conn: Any) -> builtins.list[BatchRecord]:
            cur = conn.execute(sql, params)
            names = [d.name for d in cur.description or ()]
            return [batch_from_row(dict(zip(names, r, strict=True))) for r in cur.fetchall()]

        return self._run(work, write=False)  # type: ignore[no-any-return]

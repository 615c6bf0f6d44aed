"""DuckDBEmbeddingCache: the `embeddings` table of the file log (the cosine scorer's cache)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from nbplayground.adapters.duckdb.logfile import LogFile
from nbplayground.adapters.duckdb.sql import Conn
from nbplayground.ids import utcnow


class DuckDBEmbeddingCache:
    """EmbeddingCache over the log's LogFile (or a path: it opens its own)."""

    def __init__(self, log: LogFile | str | os.PathLike[str], *,
                 lock_timeout: float = 30.0) -> None:
        self.log = log if isinstance(log, LogFile) else LogFile(log, lock_timeout=lock_timeout)

    def __repr__(self) -> str:
        return f"DuckDBEmbeddingCache({str(self.log.path)!r})"

    def embeddings(self, keys: Sequence[str]) -> dict[str, list[float]]:
        if not keys:
            return {}

        def work(conn: Conn) -> list[tuple[Any, ...]]:
            return conn.execute("SELECT key, vector FROM embeddings WHERE key IN "
                                "(SELECT unnest(?::VARCHAR[]))", [list(keys)]).fetchall()

        return {str(k): [float(x) for x in v] for k, v in self.log.run(work, write=False)}

    def add_embeddings(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        now = utcnow()
        values = [[r["key"], r["model"], len(r["vector"]), list(r["vector"]), now]
                  for r in rows]

        def work(conn: Conn) -> None:
            conn.executemany("INSERT OR IGNORE INTO embeddings (key, model, dims, vector, "
                             "created_at) VALUES (?, ?, ?, ?::FLOAT[], ?)", values)

        self.log.run(work)

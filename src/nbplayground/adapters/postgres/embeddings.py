"""PostgresEmbeddingCache: the `embeddings` table of the team log, on the repository's pool;
row security keeps each login to its own vectors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nbplayground.adapters.postgres.connection import Conn
from nbplayground.adapters.postgres.store import PostgresExperimentRepository
from nbplayground.ids import utcnow


class PostgresEmbeddingCache:
    """EmbeddingCache of a team log, sharing its repository's connections."""

    def __init__(self, store: PostgresExperimentRepository) -> None:
        self.store = store

    def __repr__(self) -> str:
        return f"PostgresEmbeddingCache({self.store.where!r})"

    def embeddings(self, keys: Sequence[str]) -> dict[str, list[float]]:
        if not keys:
            return {}

        def work(conn: Conn) -> list[tuple[Any, ...]]:
            # Only the login's own rows (an admin reads all rows, but wants its own vectors).
            return conn.execute("SELECT key, vector FROM embeddings WHERE user_id = "
                                "current_user AND key = ANY(%s)", (list(keys),)).fetchall()

        import numpy as np

        # real[] comes back as its shortest decimal (0.1): the float32 value it stands for
        found = self.store._run(work, write=False)
        return {str(k): np.asarray(v, dtype=np.float32).astype(np.float64).tolist()
                for k, v in found}

    def add_embeddings(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        now = utcnow()
        values = [(r["key"], r["model"], len(r["vector"]), list(r["vector"]), now)
                  for r in rows]

        def work(conn: Conn) -> None:
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO embeddings (key, model, dims, vector, created_at) "
                                "VALUES (%s, %s, %s, %s::real[], %s) "
                                "ON CONFLICT (user_id, key) DO NOTHING", values)

        self.store._run(work)

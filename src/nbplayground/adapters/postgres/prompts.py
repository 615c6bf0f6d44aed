"""PostgresPromptRepository: the `prompts` table of the team log, on the repository's pool;
row security keeps each login to its own prompts (admins read all)."""

from __future__ import annotations

from typing import Any

from nbplayground.adapters.duckdb.frames import names
from nbplayground.adapters.duckdb.prompts import (
    PROMPT_COLUMNS,
    by_name,
    prompt_from_row,
    prompt_row,
)
from nbplayground.adapters.postgres.connection import Conn
from nbplayground.adapters.postgres.store import PostgresExperimentRepository
from nbplayground.adapters.postgres.writes import dicts as _dicts
from nbplayground.domain.prompts import PromptVersion

_COLUMNS = names(PROMPT_COLUMNS)
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM prompts"


class PostgresPromptRepository:
    """PromptRepository of a team log, sharing its repository's connections."""

    def __init__(self, store: PostgresExperimentRepository) -> None:
        self.store = store

    def __repr__(self) -> str:
        return f"PostgresPromptRepository({self.store.where!r})"

    def save(self, draft: PromptVersion) -> PromptVersion:
        def work(conn: Conn) -> PromptVersion:
            # Two machines saving the same name queue here: one number, one version each.
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                         (f"nbplayground prompt {draft.author}\x1f{draft.name}",))
            same = _dicts(conn, f"{_SELECT} WHERE user_id = %s AND name = %s AND "
                                "content_hash = %s ORDER BY version LIMIT 1",
                          [draft.author, draft.name, draft.content_hash])
            if same:
                return prompt_from_row(same[0])
            (newest,) = conn.execute(
                "SELECT coalesce(max(version), 0) FROM prompts WHERE user_id = %s AND "
                "name = %s", (draft.author, draft.name)).fetchone() or (0,)
            saved = draft.model_copy(update={"version": int(newest) + 1})
            row = prompt_row(saved)
            conn.execute(f"INSERT INTO prompts ({', '.join(row)}) VALUES "
                         f"({', '.join(['%s'] * len(row))})", list(row.values()))
            return saved

        return self.store._run(work)  # type: ignore[no-any-return]

    def versions(self, user_id: str, name: str | None = None) -> list[PromptVersion]:
        sql, params = f"{_SELECT} WHERE user_id = %s", [user_id]
        if name is not None:
            sql += " AND name = %s"
            params.append(name)

        def work(conn: Conn) -> list[dict[str, Any]]:
            return _dicts(conn, sql, params)

        return by_name(prompt_from_row(r) for r in self.store._run(work, write=False))

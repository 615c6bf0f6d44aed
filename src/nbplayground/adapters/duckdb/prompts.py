"""DuckDBPromptRepository: the `prompts` table of the file log, and the mapping of a
PromptVersion to its row (shared with the team log)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from nbplayground.adapters.duckdb.frames import Columns, as_utc, dumps, names
from nbplayground.adapters.duckdb.logfile import LogFile
from nbplayground.adapters.duckdb.sql import Conn, dicts
from nbplayground.domain.prompts import PromptVersion

PROMPT_COLUMNS: Columns = (
    ("user_id", "VARCHAR"), ("name", "VARCHAR"), ("version", "INTEGER"),
    ("template", "VARCHAR"), ("system", "VARCHAR"), ("model", "VARCHAR"),
    ("params", "VARCHAR"), ("content_hash", "VARCHAR"), ("created_at", "TIMESTAMPTZ"),
)
PROMPTS = ", ".join(names(PROMPT_COLUMNS))


TURNS = "messages"
"""The key of a conversation's turns in the params JSON (no request field has that name)."""


def prompt_row(v: PromptVersion) -> dict[str, Any]:
    """A version as the prompts table's row (params as JSON text, with a conversation's turns
    under "messages"; the author as user_id)."""
    params = {**v.params, TURNS: list(v.messages)} if v.messages else v.params
    return {"user_id": v.author, "name": v.name, "version": v.version, "template": v.template,
            "system": v.system, "model": v.model, "params": dumps(params),
            "content_hash": v.content_hash, "created_at": as_utc(v.created_at)}


def prompt_from_row(row: Mapping[str, Any]) -> PromptVersion:
    params = json.loads(row["params"] or "{}")
    return PromptVersion(name=row["name"], version=row["version"], template=row["template"],
                         system=row["system"], model=row["model"],
                         messages=params.pop(TURNS, ()), params=params,
                         content_hash=row["content_hash"], created_at=as_utc(row["created_at"]),
                         author=row["user_id"])


class DuckDBPromptRepository:
    """PromptRepository over the log's LogFile (or a path: it opens its own)."""

    def __init__(self, log: LogFile | str | os.PathLike[str], *,
                 lock_timeout: float = 30.0) -> None:
        self.log = log if isinstance(log, LogFile) else LogFile(log, lock_timeout=lock_timeout)

    def __repr__(self) -> str:
        return f"DuckDBPromptRepository({str(self.log.path)!r})"

    def save(self, draft: PromptVersion) -> PromptVersion:
        # One transaction on a file whose writers queue for it: the lookup, the next number
        # and the insert cannot interleave with another writer's.
        def work(conn: Conn) -> PromptVersion:
            same = dicts(conn.execute(
                f"SELECT {PROMPTS} FROM prompts WHERE user_id = ? AND name = ? AND "
                "content_hash = ? ORDER BY version LIMIT 1",
                [draft.author, draft.name, draft.content_hash]))
            if same:
                return prompt_from_row(same[0])
            (newest,) = conn.execute(
                "SELECT coalesce(max(version), 0) FROM prompts WHERE user_id = ? AND name = ?",
                [draft.author, draft.name]).fetchone() or (0,)
            saved = draft.model_copy(update={"version": int(newest) + 1})
            row = prompt_row(saved)
            conn.execute(f"INSERT INTO prompts ({PROMPTS}) VALUES "
                         f"({', '.join('?' for _ in row)})", list(row.values()))
            return saved

        return self.log.run(work)

    def versions(self, user_id: str, name: str | None = None) -> list[PromptVersion]:
        sql = f"SELECT {PROMPTS} FROM prompts WHERE user_id = ?"
        params: list[Any] = [user_id]
        if name is not None:
            sql += " AND name = ?"
            params.append(name)
        found = self.log.run(lambda conn: dicts(conn.execute(sql, params)), write=False)
        return by_name(prompt_from_row(r) for r in found)


def by_name(versions: Iterable[PromptVersion]) -> list[PromptVersion]:
    """By name (in Python's order, whatever the database's collation) then version."""
    return sorted(versions, key=lambda v: (v.name, v.version))

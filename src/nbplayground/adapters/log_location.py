"""Which experiment log a Playground opens: a DuckDB file for a path, the team log for a URL.

Kept apart from the composition root so that choosing the backend is one call there.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

Location = Path | str
"""A DuckDB file's path, or a postgresql:// URL (kept as text: a Path would eat its //)."""
_SCHEMES = ("postgresql://", "postgres://")


def is_url(db: object) -> bool:
    return isinstance(db, str) and db.startswith(_SCHEMES)


def location(db: str | os.PathLike[str]) -> Location:
    return db if is_url(db) else Path(db)  # type: ignore[return-value]


def shown(db: Location) -> Location:
    """What may be printed: a URL's password replaced by ***."""
    if not is_url(db):
        return db
    text = re.sub(r"(://[^:/@?#]*):[^@/?#]*@", r"\1:***@", str(db))
    return re.sub(r"(password=)[^&\s]*", r"\1***", text, flags=re.IGNORECASE)


def open_repository(db: Location) -> Any:
    """The log's repository: the team log's ledger (it is the repository too) for a URL."""
    if is_url(db):
        from nbplayground.adapters.postgres import PostgresUsageLedger

        return PostgresUsageLedger(str(db))
    from nbplayground.adapters.duckdb import DuckDBExperimentRepository

    return DuckDBExperimentRepository(db)


def open_ledger(db: Location, repository: Any) -> Any:
    """The usage ledger of the same log (for the team log, the repository itself: one pool)."""
    if is_url(db):
        return repository
    from nbplayground.adapters.duckdb import DuckDBUsageLedger

    return DuckDBUsageLedger(db)


def open_prompts(db: Location, repository: Any) -> Any:
    """The saved prompts of the same log, on the repository's file or connections."""
    if is_url(db):
        from nbplayground.adapters.postgres.prompts import PostgresPromptRepository

        return PostgresPromptRepository(repository)
    from nbplayground.adapters.duckdb.prompts import DuckDBPromptRepository

    return DuckDBPromptRepository(getattr(repository, "log", db))


def scope(db: Location) -> str:
    """What budget holds in this process are shared by: the file, or the database."""
    return str(shown(db)) if is_url(db) else str(Path(db).expanduser().resolve())


def identity(repository: Any, user: str) -> str:
    """Who writes: on the team log the database login, whatever `user=` said."""
    login = getattr(repository, "login", None)
    return user if login is None else str(login)


def is_admin(ledger: Any) -> bool:
    """An admin of the team log (a member of its admin role); the file log has no such role."""
    return bool(getattr(ledger, "login_is_admin", False))


def push(db: Location, dsn: str, user: str) -> dict[str, Any]:
    """Copy the file log's rows of `user` up to the team log at `dsn`, exactly once."""
    from nbplayground.errors import InvalidInput

    if is_url(db) or not is_url(dsn):
        raise InvalidInput("push copies a file log up to a team log: call it on a Playground "
                           "of a DuckDB file, with the team log's postgresql:// URL")
    from nbplayground.adapters.postgres.push import push as copy_up

    return copy_up(Path(db), dsn, user)

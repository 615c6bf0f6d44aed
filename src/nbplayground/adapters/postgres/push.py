"""pg.push(dsn): copy this file log's rows of the current user (and saved prompts) up to a
team log, exactly once.

Rows keep their ids, so a second push (or one interrupted and run again) skips what is there;
they take the team log's login as their user, the only identity the server accepts.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from nbplayground.adapters.duckdb import DuckDBExperimentRepository
from nbplayground.adapters.duckdb.prompts import DuckDBPromptRepository
from nbplayground.adapters.postgres.ledger import PostgresUsageLedger
from nbplayground.adapters.postgres.prompts import PostgresPromptRepository
from nbplayground.domain import APIRequest

_BATCH = 1_000


def push(path: Path, dsn: str, user: str) -> dict[str, Any]:
    """What was copied and what the team log had already."""
    local = DuckDBExperimentRepository(path)
    target = PostgresUsageLedger(dsn)
    try:
        login = target.login
        numbers = _prompts(local, target, user, login)
        mine = [e.model_copy(update={"user_id": login, "prompt_version": numbers.get(
            (e.prompt_name, e.prompt_version), e.prompt_version)})
            for e in local.list(user_id=user)]
        mine.reverse()  # oldest first: an interrupted push leaves a prefix of the history
        requests = _requests(local, user, login)
        usage = _usage(local, user, login)
        sweeps = local.query("SELECT id FROM sweeps WHERE user_id = ?", [user])["id"].tolist()
        copied = 0
        for i in range(0, max(len(mine), 1), _BATCH):
            batch = mine[i:i + _BATCH]
            ids = {e.id for e in batch}
            known = target.logged(sorted(ids)) if batch else set()
            target.add(batch, [r for r in requests if r.experiment_id in ids],
                       usage=[u for u in usage if u["experiment_id"] in ids])
            copied += len(ids - known)
        for sweep_id in sweeps:
            row = local.sweep(sweep_id) or {}
            row["user_id"] = login
            target.add([], sweep=row)
        return {"user": login, "experiments": copied, "already_there": len(mine) - copied,
                "sweeps": len(sweeps), "prompt_versions": len(numbers)}
    finally:
        target.close()


def _prompts(local: DuckDBExperimentRepository, target: PostgresUsageLedger, user: str,
             login: str) -> dict[tuple[str | None, int | None], int]:
    """The user's saved prompt versions saved up, oldest first: (name, number here) -> number
    there (the same content keeps the version the team log has; new content is its next)."""
    here = DuckDBPromptRepository(local.log).versions(user)
    there = PostgresPromptRepository(target)
    return {(v.name, v.version): there.save(v.model_copy(update={"author": login})).version
            for v in sorted(here, key=lambda v: (v.created_at, v.name, v.version))}


def _requests(local: DuckDBExperimentRepository, user: str, login: str) -> list[APIRequest]:
    df = local.query("SELECT r.* FROM api_requests r JOIN experiments e "
                     "ON r.experiment_id = e.id WHERE e.user_id = ?", [user])
    fields = set(APIRequest.model_fields)
    return [APIRequest.model_validate({**{k: _value(v) for k, v in r.items() if k in fields},
                                       "user_id": login})
            for r in df.to_dict("records")]


def _usage(local: DuckDBExperimentRepository, user: str, login: str) -> list[dict[str, Any]]:
    df = local.query("SELECT * FROM usage WHERE user_id = ?", [user])
    return [{**{str(k): _value(v) for k, v in r.items()}, "user_id": login}
            for r in df.to_dict("records")]


def _value(v: Any) -> Any:
    """pandas' missing markers as None, numpy scalars as Python ones."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    try:
        import pandas as pd

        if v is pd.NaT or v is pd.NA:
            return None
    except ImportError:  # pragma: no cover
        pass
    return v.item() if hasattr(v, "item") and not isinstance(v, str) else v

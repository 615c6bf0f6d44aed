"""Scores in the team log: written in the transaction of the cells they score, read back as the
file log's frame. Row security keeps each login to its own scores (user_id = current_user)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nbplayground.adapters.duckdb import frames as file_frames
from nbplayground.adapters.postgres.connection import Conn
from nbplayground.adapters.postgres.frames import SCORE_COLUMNS
from nbplayground.adapters.postgres.writes import cols, records

if TYPE_CHECKING:
    import pandas as pd

NAMES = file_frames.names(SCORE_COLUMNS)


def write(conn: Conn, df: pd.DataFrame) -> None:
    """A score replaces this login's score of the same (experiment, sweep, scorer); a judge's
    call is marked role 'judge' with the experiment it judged."""
    rows = records(df, NAMES)
    keys = [(r[0], r[1], r[2]) for r in rows]
    with conn.cursor() as cur:
        cur.executemany("DELETE FROM scores WHERE experiment_id = %s AND sweep_id IS NOT "
                        "DISTINCT FROM %s AND scorer = %s", keys)
        cur.executemany(f"INSERT INTO scores ({cols(NAMES)}) VALUES "
                        f"({', '.join(['%s'] * len(NAMES))})", rows)
        judged = [(r[0], r[7]) for r in rows if r[7] is not None]
        if judged:
            cur.executemany("UPDATE experiments SET role = 'judge', judged_experiment_id = %s "
                            "WHERE id = %s", judged)


def read(conn: Conn, *, sweep_id: str | None, experiment_ids: Sequence[str] | None,
         user_id: str | None) -> list[tuple[Any, ...]]:
    """Scores of a sweep and/or some experiments (of `user_id`'s experiments), in the order
    they were written."""
    clauses: list[str] = []
    params: list[Any] = []
    if sweep_id is not None:
        clauses.append("s.sweep_id = %s")
        params.append(sweep_id)
    if user_id is not None:
        clauses.append("e.user_id = %s")
        params.append(user_id)
    if experiment_ids is not None:
        clauses.append("s.experiment_id = ANY(%s)")
        params.append(list(experiment_ids))
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    names = ", ".join(f"s.{n}" for n in cols(NAMES).split(", "))
    return conn.execute(f"SELECT {names} FROM scores s JOIN experiments e ON "
                        f"e.id = s.experiment_id {where} ORDER BY s.seq", params).fetchall()

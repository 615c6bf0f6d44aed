"""Scores in the team log: written in the transaction of the cells they score, read back as the
file log's frame. Row security keeps each login to its own scores (user_id = current_user)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nbplayground.adapters.duckdb import frames as file_frames
from nbplayground.adapters.postgres.connection import Conn
from nbplayground.adapters.postgres.frames import SCORE_COLUMNS
from nbplayground.adapters.postgres.writes import PG_TYPES, cols, records

if TYPE_CHECKING:
    import pandas as pd

NAMES = file_frames.names(SCORE_COLUMNS)


def write(conn: Conn, df: pd.DataFrame) -> None:
    """A score replaces this login's score of the same (experiment, sweep, scorer); a judge's
    call is marked role 'judge' with the experiment it judged. The batch is COPied into a
    session temp table (COPY cannot write through row security) and applied in three
    set-based statements, not one statement per score."""
    rows = records(df, NAMES)
    stage = "_stage_scores"
    columns = ", ".join(f'"{n}" {PG_TYPES[t]}' for n, t in SCORE_COLUMNS)
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} ({columns}, ord bigint) "
                 "ON COMMIT DELETE ROWS")
    with conn.cursor().copy(f"COPY {stage} ({cols(NAMES)}, ord) FROM STDIN") as copy:
        for i, row in enumerate(rows):
            copy.write_row((*row, i))
    conn.execute(f"DELETE FROM scores s USING {stage} b WHERE s.experiment_id = "
                 "b.experiment_id AND s.sweep_id IS NOT DISTINCT FROM b.sweep_id AND "
                 "s.scorer = b.scorer")
    conn.execute(f"INSERT INTO scores ({cols(NAMES)}) SELECT {cols(NAMES)} FROM {stage} "
                 "ORDER BY ord")  # seq in the batch's order: scores read back as written
    if any(r[7] is not None for r in rows):
        conn.execute(f"UPDATE experiments e SET role = 'judge', judged_experiment_id = "
                     f"b.experiment_id FROM {stage} b WHERE e.id = b.judge_experiment_id")
    conn.execute(f"TRUNCATE {stage}")  # a second batch in the same transaction starts empty


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

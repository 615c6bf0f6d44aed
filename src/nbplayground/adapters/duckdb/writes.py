"""The statements of one add() transaction: experiments and their requests, usage ledger rows
(and each user's token_usage), the sweep's row."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import pandas as pd

from nbplayground.adapters.duckdb.sql import (
    EXPERIMENTS,
    REQUESTS,
    TOKENS,
    USAGE,
    Conn,
    insert_or_replace,
)
from nbplayground.domain import Experiment

JUDGE_ROLE = "role, judged_experiment_id"


def with_judge_roles(exp_df: pd.DataFrame, scores_df: pd.DataFrame | None) -> pd.DataFrame:
    """The rows of judge calls whose verdicts come in the same batch get role 'judge' and the
    experiment they judged as they are inserted: the UPDATE that would set them afterwards
    joins every experiment of the log (and makes the checkpoint rewrite what it touched)."""
    if scores_df is None or not len(exp_df):
        return exp_df
    links = scores_df[scores_df["judge_experiment_id"].notna()]
    if not len(links):
        return exp_df
    judged = exp_df["id"].map(dict(zip(links["judge_experiment_id"], links["experiment_id"],
                                       strict=True)))
    if not judged.notna().any():
        return exp_df
    out = exp_df.copy(deep=False)
    out["judged_experiment_id"] = judged.astype(object).where(judged.notna(), None)
    out["role"] = pd.Series(["judge" if j is not None else None
                             for j in out["judged_experiment_id"]], index=out.index,
                            dtype=object)
    return out


def insert_calls(conn: Conn, exp_df: pd.DataFrame, req_df: pd.DataFrame,
                 batch: Sequence[Experiment], *, careful: bool) -> set[str]:
    """The ids of the experiments inserted now (those logged before are skipped)."""
    conn.register("_exp_batch", exp_df)
    cols = EXPERIMENTS + (f", {JUDGE_ROLE}" if "role" in exp_df.columns else "")
    if not careful:
        conn.execute(f"INSERT INTO experiments ({cols}) SELECT {cols} FROM _exp_batch")
        conn.register("_req_batch", req_df)
        conn.execute(f"INSERT INTO api_requests ({REQUESTS}) SELECT {REQUESTS} FROM _req_batch")
        return {e.id for e in batch}
    new = {i for (i,) in conn.execute(
        f"INSERT OR IGNORE INTO experiments ({cols}) "
        f"SELECT {cols} FROM _exp_batch RETURNING id").fetchall()}
    # The requests of an experiment logged before (skipped above) are skipped too: found from
    # what the insert returned, not by joining the whole log.
    before = [e.id for e in batch if e.id not in new]
    conn.register("_req_batch", req_df[~req_df["experiment_id"].isin(before)]
                  if before else req_df)
    conn.execute(f"INSERT OR IGNORE INTO api_requests ({REQUESTS}) "
                 f"SELECT {REQUESTS} FROM _req_batch")
    return new


def book_usage(conn: Conn, usage_df: pd.DataFrame, *, careful: bool) -> None:
    """The ledger rows, and each user's token_usage grown by what was booked now (not by rows
    booked before)."""
    conn.register("_usage_batch", usage_df)
    if careful:
        booked = conn.execute(
            f"INSERT OR IGNORE INTO usage ({USAGE}) SELECT {USAGE} "
            f"FROM _usage_batch RETURNING user_id, {TOKENS}").fetchall()
    else:
        conn.execute(f"INSERT INTO usage ({USAGE}) SELECT {USAGE} FROM _usage_batch")
        spent = usage_df["prompt_tokens"].fillna(0) + usage_df["completion_tokens"].fillna(0)
        booked = list(zip(usage_df["user_id"], spent.astype(int).tolist(), strict=True))
    grown: dict[str, int] = {}
    for user, tokens in booked:
        grown[user] = grown.get(user, 0) + tokens
    for user, tokens in grown.items():
        conn.execute("UPDATE users SET token_usage = coalesce(token_usage, 0) + ? "
                     "WHERE id = ?", [tokens, user])


def upsert_sweep(conn: Conn, row: Mapping[str, Any], given: frozenset[str]) -> None:
    """The `given` fields of `row` over the stored row (created_at is kept): an UPDATE of
    those, or the whole row (defaults for the rest) when there is none yet."""
    fields = [k for k in row if k != "id" and (k in given or k == "updated_at")]
    (updated,) = conn.execute(
        f"UPDATE sweeps SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = ?",
        [row[k] for k in fields] + [row["id"]]).fetchone() or (0,)
    if not updated:
        insert_or_replace(conn, "sweeps", row)


SCORES = ("experiment_id, sweep_id, scorer, kind, score, passed, reason, judge_experiment_id, "
          "created_at")


def write_scores(conn: Conn, scores_df: pd.DataFrame, new: Collection[str] = ()) -> None:
    """A score replaces the one of the same (experiment, sweep, scorer) (scoring again after a
    change of rubric); a judge's call is marked role 'judge' with the experiment it judged.
    The experiments `new` were inserted in this transaction: they have no scores to replace
    (a sweep's fresh cells, most of its scores, skip the DELETE's join)."""
    again = scores_df[~scores_df["experiment_id"].isin(new)] if new else scores_df
    if len(again):
        conn.register("_score_again", again)
        conn.execute("DELETE FROM scores USING _score_again b WHERE scores.experiment_id = "
                     "b.experiment_id AND scores.scorer = b.scorer AND "
                     "scores.sweep_id IS NOT DISTINCT FROM b.sweep_id")
    conn.register("_score_batch", scores_df)
    conn.execute(f"INSERT INTO scores ({SCORES}) SELECT {SCORES} FROM _score_batch")
    links = scores_df[scores_df["judge_experiment_id"].notna()]
    if new and len(links):  # judge calls inserted now have their role (with_judge_roles)
        links = links[~links["judge_experiment_id"].isin(new)]
    if len(links):  # verdicts of judge calls logged before (taken from the log)
        conn.register("_judge_links", links)
        conn.execute("UPDATE experiments SET role = 'judge', judged_experiment_id = "
                     "b.experiment_id FROM _judge_links b "
                     "WHERE experiments.id = b.judge_experiment_id")

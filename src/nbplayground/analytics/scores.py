"""Reports over the scores table: pass rates and mean scores with 95% intervals, the failures
side by side, and the data of the score-against-cost frontier.

Counts are taken in the store's SQL; the intervals come from scipy (Wilson's score interval for
a pass rate, Student's t for a mean score).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nbplayground.analytics.log_sql import AXES, Query, SweepScope, axes, positive, q, scope
from nbplayground.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

ALL_PASSED = "passed"
"""The scorer name of "every scorer passed" in reports (a cell's `passed` column)."""


def _scored(user_id: str | None, sweep_id: SweepScope, scored_in: str | None,
            names: Sequence[str] | None = None) -> tuple[str, list[Any]]:
    """CTEs `e` (the experiments in scope) and `s` (their newest score per scorer, of the
    sweep `scored_in` when given: a cell taken from the cache is scored in each sweep; of the
    scorers `names` when given)."""
    where, params = scope(user_id, sweep_id, ok=False)
    only = ""
    if scored_in is not None:
        only, params = " AND sweep_id = ?", [*params, scored_in]
    if names is not None:
        only += " AND scorer IN (SELECT unnest(CAST(? AS VARCHAR[])))"
        params = [*params, [str(n) for n in names]]
    return (f"WITH e AS (SELECT * FROM experiments {where}), "
            f"s AS (SELECT * FROM scores WHERE experiment_id IN (SELECT id FROM e){only} "
            "QUALIFY row_number() OVER (PARTITION BY experiment_id, scorer "
            "ORDER BY created_at DESC) = 1)"), params


def wilson(passed: int, n: int) -> tuple[float, float]:
    """The 95% Wilson score interval of passed/n (scipy's binomtest)."""
    if n == 0:
        return math.nan, math.nan
    from scipy.stats import binomtest

    ci = binomtest(int(passed), int(n)).proportion_ci(confidence_level=0.95, method="wilson")
    return float(ci.low), float(ci.high)


def t_interval(mean: float, std: float, n: int) -> tuple[float, float]:
    """The 95% Student's t interval of a mean of n values (NaN below two values)."""
    if n < 2 or math.isnan(std):
        return math.nan, math.nan
    from scipy.stats import t

    half = float(t.ppf(0.975, n - 1)) * std / math.sqrt(n)
    return mean - half, mean + half


def scores(query: Query, user_id: str | None, sweep_id: SweepScope = None,
           scored_in: str | None = None, by: str | Sequence[str] | None = "model",
           names: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per group and scorer (and `passed`: every scorer passed): n, passed, pass_rate
    with its Wilson 95% interval, mean_score with its t 95% interval."""
    keys = axes(by, AXES, "by")
    ctes, params = _scored(user_id, sweep_id, scored_in, names)
    cols = "".join(f"e.{q(k)}, " for k in keys)
    group = "".join(f"{i}, " for i in range(1, len(keys) + 1))
    total = "(SELECT count(DISTINCT scorer) FROM s)"
    sql = (f"{ctes}, every AS (SELECT experiment_id, CAST(bool_and(passed) AND "
           f"count(DISTINCT scorer) = {total} AS DOUBLE) AS ok FROM s GROUP BY experiment_id), "
           f"per AS (SELECT {cols}s.scorer, count(*) AS n, count(s.score) AS scored, "
           "CAST(count_if(s.passed) AS BIGINT) AS passed, avg(s.score) AS mean_score, "
           "stddev_samp(s.score) AS std FROM s JOIN e ON e.id = s.experiment_id "
           f"GROUP BY {group}s.scorer), "
           f"alls AS (SELECT {cols}'{ALL_PASSED}' AS scorer, count(*) AS n, count(*) AS scored, "
           "CAST(sum(a.ok) AS BIGINT) AS passed, avg(a.ok) AS mean_score, stddev_samp(a.ok) "
           f"AS std FROM every a JOIN e ON e.id = a.experiment_id GROUP BY {group}scorer) "
           f"SELECT * FROM per UNION ALL SELECT * FROM alls "
           f"ORDER BY {group}scorer = '{ALL_PASSED}', scorer")
    df = query(sql, params)
    low, high, mlow, mhigh = [], [], [], []
    for row in df.to_dict("records"):
        a, b = wilson(int(row["passed"]), int(row["n"]))
        low.append(a)
        high.append(b)
        c, d = t_interval(float(row["mean_score"]) if row["mean_score"] is not None
                          else math.nan, float(row["std"]) if row["std"] is not None
                          else math.nan, int(row["scored"]))
        mlow.append(c)
        mhigh.append(d)
    df["pass_rate"] = df["passed"] / df["n"]
    df["pass_low"], df["pass_high"] = low, high
    df["score_low"], df["score_high"] = mlow, mhigh
    return df[[*keys, "scorer", "n", "passed", "pass_rate", "pass_low", "pass_high",
               "mean_score", "score_low", "score_high"]]


def failures(query: Query, user_id: str | None, sweep_id: SweepScope = None,
             scored_in: str | None = None, limit: int = 100,
             names: Sequence[str] | None = None) -> pd.DataFrame:
    """The failing (cell, scorer) pairs, oldest cell first: the answer and the reason beside
    each other (the facade adds the reference when it knows the sweep's scorers)."""
    positive(limit, "limit")
    ctes, params = _scored(user_id, sweep_id, scored_in, names)
    sql = (f"{ctes} SELECT e.model, e.prompt, e.response AS answer, s.scorer, s.kind, "
           "s.score, s.reason, s.experiment_id, s.judge_experiment_id "
           "FROM s JOIN e ON e.id = s.experiment_id WHERE NOT s.passed "
           f"ORDER BY e.created_at, e.id, s.scorer LIMIT {int(limit)}")
    return query(sql, params)


def frontier(query: Query, user_id: str | None, sweep_id: SweepScope, scored_in: str | None,
             score: str, by: Sequence[str], names: Sequence[str] | None = None
             ) -> pd.DataFrame:
    """Per group: mean cost of a call and mean `score` (a scorer, or `passed`: the share of
    cells every scorer passed), and whether the group is on the Pareto front (no other group
    scores at least as well for less)."""
    keys = axes(list(by), AXES, "by")
    if not keys:
        raise InvalidInput("by must name at least one axis such as 'model'")
    ctes, params = _scored(user_id, sweep_id, scored_in, names)
    cols = ", ".join(f"e.{q(k)}" for k in keys)
    if score == ALL_PASSED:
        value = ("CAST(bool_and(s.passed) AND count(DISTINCT s.scorer) = "
                 "(SELECT count(DISTINCT scorer) FROM s) AS DOUBLE)")
        per = (f"SELECT e.id, {cols}, e.cost_estimate, {value} AS v FROM s JOIN e ON "
               f"e.id = s.experiment_id GROUP BY e.id, {cols}, e.cost_estimate")
    else:
        per = (f"SELECT e.id, {cols}, e.cost_estimate, s.score AS v FROM s JOIN e ON "
               "e.id = s.experiment_id WHERE s.scorer = ?")
        params = [*params, score]
    plain = ", ".join(map(q, keys))
    sql = (f"{ctes}, per AS ({per}) SELECT {plain}, count(*) AS n, avg(cost_estimate) AS cost, "
           f"avg(v) AS score FROM per GROUP BY {plain} ORDER BY cost NULLS LAST, score DESC")
    df = query(sql, params)
    best, front = -math.inf, []
    for cost, value in zip(df["cost"], df["score"], strict=True):
        on = bool(not math.isnan(value) and not math.isnan(cost) and value > best)
        front.append(on)
        best = max(best, value) if on else best
    df["pareto"] = front
    return df


def score_value(scorer: str, scored_in: str | None) -> tuple[str, list[Any]]:
    """A scorer's score of each experiment as a SQL expression over `experiments` (for
    compare's y): the mean when it was scored in several sweeps and none is named."""
    only = " AND s.sweep_id = ?" if scored_in is not None else ""
    return (f"(SELECT avg(s.score) FROM scores s WHERE s.experiment_id = experiments.id "
            f"AND s.scorer = ?{only})"), [scorer, *([scored_in] if scored_in is not None else [])]

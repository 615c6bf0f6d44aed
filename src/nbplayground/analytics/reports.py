"""Reports over the experiment log: pandas DataFrames whose aggregation runs as SQL in the store.

Each takes the repository's `query(sql, params)` and a user (None: every user) and optionally a
sweep; the facade passes its own user, so people see their own rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nbplayground.analytics import cells
from nbplayground.analytics.dialect import dialect_of, q
from nbplayground.analytics.log_sql import (
    ALIASES,
    AXES,
    GROUPS,
    MAX_SERIES,
    METRICS,
    PARAMETERS,
    Query,
    SweepScope,
    axes,
    distinct,
    metric,
    positive,
    scope,
    unit,
    varying,
)
from nbplayground.analytics.texts import answers, text_diff, variety
from nbplayground.domain.providers import sql_billed
from nbplayground.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ALIASES",
    "AXES",
    "MAX_SERIES",
    "METRICS",
    "PARAMETERS",
    "Query",
    "SweepScope",
    "answers",
    "compare",
    "cost",
    "distinct",
    "latency",
    "length",
    "metric",
    "pivot",
    "text_diff",
    "tokens_cost",
    "unit",
    "variety",
    "varying",
]


def pivot(query: Query, user_id: str | None, sweep_id: SweepScope = None,
          by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """One row per cell (axes `by`, default the ones that vary): mean and spread over repeats;
    `cut` counts the answers that stopped at max_tokens (their length measures the cap)."""
    cols = axes(by, AXES, "by") if by is not None else varying(query, user_id, sweep_id)
    d = dialect_of(query)
    where, params = scope(user_id, sweep_id, ok=False, dialect=d)
    keys = ", ".join(map(q, cols))
    stats = "".join(f", {cells.mean(m + '_s1', m + '_k')} AS {name}_mean, "
                    f"{cells.std(m + '_s1', m + '_s2', m + '_k')} AS {name}_std"
                    for m, name in (("completion_tokens", "completion_tokens"),
                                    ("cost_estimate", "cost"),
                                    ("generation_time_ms", "latency_ms")))
    sql = (f"SELECT {keys + ', ' if keys else ''}{cells.total('ok')} AS n, "
           f"{cells.total('errors')} AS errors, {cells.total('cut')} AS cut{stats} "
           f"FROM {cells.source(d, where, d.summed(sweep_id), ok=False)}"
           f"{' GROUP BY ' + keys + ' ORDER BY ' + keys if keys else ''}")
    df = query(sql, params)
    return df.set_index(cols) if cols else df


def compare(query: Query, user_id: str | None, sweep_id: SweepScope, x: str, y: str,
            color: str | None = "model", value: tuple[str, list[Any]] | None = None
            ) -> pd.DataFrame:
    """Chart data: mean and std of `y` over repeats per (x, color, other varying axes).

    `series` names a line: the color value plus the other axes that vary (e.g. the prompt), so
    an error bar spans the repeats of one cell; past MAX_SERIES lines those axes are pooled
    (the hover then says e.g. "400 prompts"). One scan: rows are summed per cell (every axis),
    and which axes vary, and the mean and std, are worked out from those few cells.
    """
    [x] = axes(x, AXES, "x")
    keys = [x] if color in (None, x) else [x, *axes(color, AXES, "color")]
    y, (expr, extra) = (y, value) if value else (metric(y), (METRICS[metric(y)][0], []))
    others = [a for a in AXES if a not in keys]
    d = dialect_of(query)
    cols = ", ".join(map(q, AXES))
    if value:  # `value` (e.g. a scorer's score, a subquery) is a SQL expression of each row
        where, params = scope(user_id, sweep_id, dialect=d)
        params = extra + params
        summed = (f"SELECT {cols}, count(*) AS n, count(v) AS k, sum(v) AS s1, "
                  f"sum(v * v) AS s2 FROM (SELECT {cols}, CAST({expr} AS DOUBLE PRECISION) "
                  f"AS v FROM experiments {where}) AS picked GROUP BY {cols}")
    else:
        where, params = scope(user_id, sweep_id, ok=False, dialect=d)
        summed = (f"SELECT {cols}, sum(ok) AS n, sum({y}_k) AS k, sum({y}_s1) AS s1, "
                  f"sum({y}_s2) AS s2 FROM {cells.source(d, where, d.summed(sweep_id), ok=True)}"
                  f" GROUP BY {cols}")
    counts = ", ".join(f"count(DISTINCT {q(a)}) + CAST(count({q(a)}) < count(*) AS INTEGER) "
                       f"AS {q('c_' + a)}" for a in AXES)
    lines = " * ".join(f"CAST(greatest({q('c_' + a)}, 1) AS DOUBLE PRECISION)"
                       for a in [*keys[1:], *others])
    # an axis nobody asked for splits a line when it varies, unless that makes too many lines
    flags = ", ".join(f"{q('c_' + a)} > 1 AND {lines} <= {MAX_SERIES} AS {q('f_' + a)}"
                      for a in others)
    labels = [f"coalesce({d.text(q(a), a)}, 'default')" for a in keys[1:]] + [
        f"CASE WHEN {q('f_' + a)} THEN " + (f"left({q(a)}, 40)" if a in ("prompt", "system")
        else f"'{a}=' || coalesce({d.text(q(a), a)}, 'default')") + " END"
        for a in others]
    split = [f"CASE WHEN {q('f_' + a)} THEN {q(a)} END" for a in others]
    info = "".join(f", CASE WHEN {d.least(p)} = {d.most(p)} THEN {d.text(d.least(p), p)} "
                   f"ELSE {d.text(d.least(p), p)} || ' … ' || {d.text(d.most(p), p)}"
                   f" END AS {q(p)}" for p in PARAMETERS if p not in keys)
    series = f"nullif(min(concat_ws(' · ', {', '.join(labels)})), '')"
    std = cells.std("s1", "s2", "k")
    prompts = ("CASE WHEN count(DISTINCT prompt) <= 1 THEN min(left(prompt, 80)) ELSE "
               "count(DISTINCT prompt) || ' prompts, e.g. ' || min(left(prompt, 60)) END")
    group = ", ".join([*map(q, keys), *split])
    order = ", ".join([*(f"{q(a)} NULLS FIRST" for a in keys[1:]),
                       *(f"{d.least(a, e)} NULLS FIRST" for a, e in zip(others, split,
                                                                        strict=True)), q(x)])
    sql = (f"WITH cells AS ({summed}), counts AS (SELECT {counts} FROM cells), marked AS "
           f"(SELECT cells.*, {flags} FROM cells, counts) "
           f"SELECT {', '.join(map(q, keys))}, {series} AS series, CAST(sum(n) AS BIGINT) AS n, "
           f"{cells.mean('s1', 'k')} AS {y}_mean, {std} AS {y}_std, "
           f"{prompts} AS prompts{info} "
           f"FROM marked GROUP BY {group} ORDER BY {order}")
    return query(sql, params)


def cost(query: Query, user_id: str | None, sweep_id: SweepScope = None,
         by: str | Sequence[str] = "model") -> pd.DataFrame:
    """Calls, tokens and USD per model / user / day / provider / sweep (errors counted too).

    `cost` is spend: what billed providers charged. An unbilled provider's price (a simulated
    answer's) is `would_cost`, never added to spend."""
    keys = axes(by, tuple(GROUPS), "by")
    if not keys:
        raise InvalidInput(f"by must name at least one of {', '.join(GROUPS)}")
    d = dialect_of(query)
    where, params = scope(user_id, sweep_id, ok=False, dialect=d)
    billed = sql_billed("provider")
    names = ", ".join(map(q, keys))
    order = names + ", cost DESC" if "day" in keys else "cost DESC, " + names
    group = ", ".join(map(str, range(1, len(keys) + 1)))
    sql = (f"SELECT {', '.join(f'{cells.GROUPS.get(k, GROUPS[k])} AS {q(k)}' for k in keys)}, "
           f"{cells.total('calls')} AS calls, {cells.total('errors')} AS errors, "
           f"{cells.total('prompt_tokens_all')} AS prompt_tokens, "
           f"{cells.total('completion_tokens_all')} AS completion_tokens, "
           f"{cells.total('token_count_all')} AS tokens, "
           f"coalesce(sum(cost_estimate_all) FILTER (WHERE {billed}), 0.0) AS cost, "
           f"sum(cost_estimate_all) FILTER (WHERE NOT {billed}) AS would_cost, "
           f"{cells.total('unpriced')} AS unpriced, sum(cost_as_all) AS cost_as "
           f"FROM {cells.source(d, where, d.summed(sweep_id), ok=False)} "
           f"GROUP BY {group} ORDER BY {order}")
    return query(sql, params)


def latency(query: Query, user_id: str | None, sweep_id: SweepScope = None,
            by: str | Sequence[str] = "model") -> pd.DataFrame:
    """Generation time percentiles (p05, p25, p50, p75, p95, quantile_cont) and throughput."""
    keys = axes(by, (*AXES, "day"), "by")
    d = dialect_of(query)
    where, params = scope(user_id, sweep_id, dialect=d)
    exprs = ", ".join("CAST(created_at AS DATE) AS day" if k == "day" else q(k) for k in keys)
    names = ", ".join(map(q, keys))
    group = f" GROUP BY {', '.join(map(str, range(1, len(keys) + 1)))}" if keys else ""
    inner = (f"SELECT {exprs + ', ' if exprs else ''}count(*) AS n, "
             "avg(generation_time_ms) AS mean_ms, "
             f"{d.quantiles('generation_time_ms', (0.05, 0.25, 0.5, 0.75, 0.95))} AS q, "
             "max(generation_time_ms) AS max_ms, CAST(sum(completion_tokens) * 1000.0 / "
             "nullif(sum(generation_time_ms), 0) AS DOUBLE PRECISION) AS tokens_per_s"
             f" FROM experiments {where} AND generation_time_ms IS NOT NULL{group}")
    cols = ", ".join(f"q[{i}] AS p{p:02d}_ms" for i, p in enumerate((5, 25, 50, 75, 95), 1))
    sql = (f"SELECT {names + ', ' if names else ''}n, mean_ms, {cols}, max_ms, tokens_per_s "
           f"FROM ({inner}) AS cells{' ORDER BY ' + names if names else ''}")
    return query(sql, params)


def length(query: Query, user_id: str | None, sweep_id: SweepScope = None,
           params: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Answer length (characters, completion tokens) against each parameter's values, long."""
    cols = (axes(params, PARAMETERS, "params") if params is not None
            else varying(query, user_id, sweep_id, PARAMETERS))
    if not cols:
        cols = ["model"]
    d = dialect_of(query)
    raw = ", ".join(map(q, cols))
    as_text = ", ".join(f"coalesce({d.text(q(c), c)}, 'default') AS {q(c)}" for c in cols)
    # Sums per combination first; only those few rows are unpivoted and combined.
    where, args = scope(user_id, sweep_id, ok=False, dialect=d)
    # Sums per combination first; only those few rows are unpivoted and combined.
    summed = (f"SELECT {as_text}, sum(ok) AS n, sum(answer_chars_s1) AS c1, "
              "sum(answer_chars_s2) AS c2, sum(completion_tokens_s1) AS t1, "
              "sum(completion_tokens_s2) AS t2 "
              f"FROM {cells.source(d, where, d.summed(sweep_id), ok=True)} GROUP BY {raw}")

    def std(s1: str, s2: str) -> str:
        return f"sqrt(greatest(sum({s2}) - sum({s1}) ^ 2 / sum(n), 0) / nullif(sum(n) - 1, 0))"

    def mean(s1: str) -> str:
        return f"CAST(sum({s1}) / sum(n) AS DOUBLE PRECISION)"

    sql = (f"SELECT parameter, value, {d.try_double('value')} AS numeric, "
           f"CAST(sum(n) AS BIGINT) AS n, {mean('c1')} AS answer_chars_mean, "
           f"{std('c1', 'c2')} AS answer_chars_std, {mean('t1')} AS completion_tokens_mean, "
           f"{std('t1', 't2')} AS completion_tokens_std FROM {d.unpivot(summed, cols)} "
           "GROUP BY parameter, value ORDER BY parameter, numeric NULLS LAST, value")
    return query(sql, args)


def tokens_cost(query: Query, user_id: str | None, sweep_id: SweepScope = None,
                limit: int = 5000) -> pd.DataFrame:
    """Chart data: the newest `limit` ok experiments, one point each, with prompt and params."""
    positive(limit, "limit")
    where, params = scope(user_id, sweep_id, dialect=dialect_of(query))
    cols = ", ".join(map(q, PARAMETERS))
    sql = (f"SELECT id, left(prompt, 120) AS prompt, {cols}, repeat, prompt_tokens, "
           "completion_tokens, token_count, cost_estimate, cost_as, generation_time_ms "
           f"FROM experiments {where} ORDER BY created_at DESC LIMIT {limit}")
    return query(sql, params)

"""Reports over the experiment log: pandas DataFrames whose aggregation runs as SQL in the store.

Each takes the repository's `query(sql, params)` and a user (None: every user) and optionally a
sweep; the facade passes its own user, so people see their own rows.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nbplayground.analytics.format import CUT
from nbplayground.analytics.log_sql import (
    ALIASES,
    AXES,
    GROUPS,
    MAX_SERIES,
    METRICS,
    PARAMETERS,
    WORDS,
    Query,
    SweepScope,
    axes,
    distinct,
    metric,
    newest_filter,
    positive,
    profile,
    q,
    scope,
    unit,
    varying,
)
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
    where, params = scope(user_id, sweep_id, ok=False)
    ok, keys = "FILTER (WHERE status = 'ok')", ", ".join(map(q, cols))
    sql = (f"SELECT {keys + ', ' if keys else ''}count(*) {ok} AS n, "
           f"CAST(count_if(status = 'error') AS BIGINT) AS errors, "
           f"CAST(count_if(status = 'ok' AND finish_reason = 'length') AS BIGINT) AS cut, "
           f"avg(completion_tokens) {ok} AS completion_tokens_mean, "
           f"stddev_samp(completion_tokens) {ok} AS completion_tokens_std, "
           f"avg(cost_estimate) {ok} AS cost_mean, stddev_samp(cost_estimate) {ok} AS cost_std, "
           f"avg(generation_time_ms) {ok} AS latency_ms_mean, "
           f"stddev_samp(generation_time_ms) {ok} AS latency_ms_std "
           f"FROM experiments {where} GROUP BY ALL"
           f"{' ORDER BY ' + keys if keys else ''}")
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
    where, params = scope(user_id, sweep_id)
    params = extra + params  # `value` (e.g. a scorer's score, a subquery) is a SQL expression
    cols = ", ".join(map(q, AXES))
    cells = (f"SELECT {cols}, count(*) AS n, count(v) AS k, sum(v) AS s1, sum(v * v) AS s2 "
             f"FROM (SELECT {cols}, CAST({expr} AS DOUBLE) AS v FROM experiments "
             f"{where}) GROUP BY {cols}")
    counts = ", ".join(f"count(DISTINCT {q(a)}) + CAST(count({q(a)}) < count(*) AS INTEGER) "
                       f"AS {q('c_' + a)}" for a in AXES)
    lines = " * ".join(f"CAST(greatest({q('c_' + a)}, 1) AS DOUBLE)" for a in [*keys[1:], *others])
    # an axis nobody asked for splits a line when it varies, unless that makes too many lines
    flags = ", ".join(f"{q('c_' + a)} > 1 AND {lines} <= {MAX_SERIES} AS {q('f_' + a)}"
                      for a in others)
    labels = [f"coalesce(CAST({q(a)} AS VARCHAR), 'default')" for a in keys[1:]] + [
        f"CASE WHEN {q('f_' + a)} THEN " + (f"left({q(a)}, 40)" if a in ("prompt", "system")
        else f"'{a}=' || coalesce(CAST({q(a)} AS VARCHAR), 'default')") + " END"
        for a in others]
    split = [f"CASE WHEN {q('f_' + a)} THEN {q(a)} END" for a in others]
    info = "".join(f", CASE WHEN min({q(p)}) = max({q(p)}) THEN CAST(min({q(p)}) AS VARCHAR) "
                   f"ELSE CAST(min({q(p)}) AS VARCHAR) || ' … ' || CAST(max({q(p)}) AS VARCHAR)"
                   f" END AS {q(p)}" for p in PARAMETERS if p not in keys)
    series = f"nullif(min(concat_ws(' · ', {', '.join(labels)})), '')"
    std = "sqrt(greatest(sum(s2) - sum(s1) ^ 2 / sum(k), 0) / nullif(sum(k) - 1, 0))"
    prompts = ("CASE WHEN count(DISTINCT prompt) <= 1 THEN min(left(prompt, 80)) ELSE "
               "count(DISTINCT prompt) || ' prompts, e.g. ' || min(left(prompt, 60)) END")
    group = ", ".join([*map(q, keys), *split])
    order = ", ".join([*(f"{q(a)} NULLS FIRST" for a in keys[1:]),
                       *(f"min({e}) NULLS FIRST" for e in split), q(x)])
    sql = (f"WITH cells AS ({cells}), counts AS (SELECT {counts} FROM cells), marked AS "
           f"(SELECT cells.*, {flags} FROM cells, counts) "
           f"SELECT {', '.join(map(q, keys))}, {series} AS series, CAST(sum(n) AS BIGINT) AS n, "
           f"sum(s1) / sum(k) AS {y}_mean, {std} AS {y}_std, {prompts} AS prompts{info} "
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
    where, params = scope(user_id, sweep_id, ok=False)
    billed = sql_billed("provider")
    order = ", ".join(keys) + ", cost DESC" if "day" in keys else "cost DESC, " + ", ".join(keys)
    sql = (f"SELECT {', '.join(f'{GROUPS[k]} AS {k}' for k in keys)}, count(*) AS calls, "
           "CAST(count_if(status = 'error') AS BIGINT) AS errors, "
           "CAST(coalesce(sum(prompt_tokens), 0) AS BIGINT) AS prompt_tokens, "
           "CAST(coalesce(sum(completion_tokens), 0) AS BIGINT) AS completion_tokens, "
           "CAST(coalesce(sum(token_count), 0) AS BIGINT) AS tokens, "
           f"coalesce(sum(cost_estimate) FILTER (WHERE {billed}), 0.0) AS cost, "
           f"sum(cost_estimate) FILTER (WHERE NOT {billed}) AS would_cost, "
           "CAST(count_if(status = 'ok' AND cost_estimate IS NULL) AS BIGINT) AS unpriced, "
           f"sum(cost_as) AS cost_as FROM experiments {where} GROUP BY ALL ORDER BY {order}")
    return query(sql, params)


def latency(query: Query, user_id: str | None, sweep_id: SweepScope = None,
            by: str | Sequence[str] = "model") -> pd.DataFrame:
    """Generation time percentiles (p05, p25, p50, p75, p95, quantile_cont) and throughput."""
    keys = axes(by, (*AXES, "day"), "by")
    where, params = scope(user_id, sweep_id)
    exprs = ", ".join("CAST(created_at AS DATE) AS day" if k == "day" else q(k) for k in keys)
    names = ", ".join(map(q, keys))
    inner = (f"SELECT {exprs + ', ' if exprs else ''}count(*) AS n, "
             "avg(generation_time_ms) AS mean_ms, "
             "quantile_cont(generation_time_ms, [0.05, 0.25, 0.5, 0.75, 0.95]) AS q, "
             "max(generation_time_ms) AS max_ms, "
             "sum(completion_tokens) * 1000.0 / nullif(sum(generation_time_ms), 0) AS tokens_per_s"
             f" FROM experiments {where} AND generation_time_ms IS NOT NULL GROUP BY ALL")
    cols = ", ".join(f"q[{i}] AS p{p:02d}_ms" for i, p in enumerate((5, 25, 50, 75, 95), 1))
    sql = (f"SELECT {names + ', ' if names else ''}n, mean_ms, {cols}, max_ms, tokens_per_s "
           f"FROM ({inner}){' ORDER BY ' + names if names else ''}")
    return query(sql, params)


def length(query: Query, user_id: str | None, sweep_id: SweepScope = None,
           params: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Answer length (characters, completion tokens) against each parameter's values, long."""
    cols = (axes(params, PARAMETERS, "params") if params is not None
            else varying(query, user_id, sweep_id, PARAMETERS))
    if not cols:
        cols = ["model"]
    where, args = scope(user_id, sweep_id)
    raw = ", ".join(map(q, cols))
    as_text = ", ".join(f"coalesce(CAST({q(c)} AS VARCHAR), 'default') AS {q(c)}"
                        for c in cols)
    # Sums per combination first; only those few rows are unpivoted and combined.
    cells = (f"SELECT {as_text}, count(*) AS n, sum(chars) AS c1, sum(chars * chars) AS c2, "
             f"sum(tokens) AS t1, sum(tokens * tokens) AS t2 FROM (SELECT {raw}, "
             "CAST(length(coalesce(response, '')) AS DOUBLE) AS chars, "
             f"CAST(completion_tokens AS DOUBLE) AS tokens FROM experiments {where}) "
             f"GROUP BY {raw}")

    def std(s1: str, s2: str) -> str:
        return f"sqrt(greatest(sum({s2}) - sum({s1}) ^ 2 / sum(n), 0) / nullif(sum(n) - 1, 0))"

    sql = (f"SELECT parameter, value, TRY_CAST(value AS DOUBLE) AS numeric, "
           "CAST(sum(n) AS BIGINT) AS n, sum(c1) / sum(n) AS answer_chars_mean, "
           f"{std('c1', 'c2')} AS answer_chars_std, sum(t1) / sum(n) AS completion_tokens_mean, "
           f"{std('t1', 't2')} AS completion_tokens_std "
           f"FROM (UNPIVOT ({cells}) ON {raw} INTO NAME parameter VALUE value) "
           "GROUP BY ALL ORDER BY parameter, numeric NULLS LAST, value")
    return query(sql, args)


def variety(query: Query, user_id: str | None, sweep_id: SweepScope = None,
            by: str | Sequence[str] | None = None, n: int = 2, rows: int = 5_000
            ) -> pd.DataFrame:
    """Per cell: distinct word n-grams / all n-grams across its repeats (1.0 = no repetition).

    Reads the newest `rows` ok answers in scope (all of a sweep, as a rule): splitting every
    answer of a million-run log into n-grams takes seconds, not the 300 ms a report may take.
    """
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 5:
        raise InvalidInput(f"n (the n-gram size) must be a whole number from 1 to 5, not {n!r}")
    positive(rows, "rows")
    cols = axes(by, AXES, "by") if by is not None else [
        a for a, k in profile(query, user_id, sweep_id, AXES, newest=rows)[0].items() if k > 1]
    where, params = scope(user_id, sweep_id)
    recent, more = newest_filter(user_id, sweep_id, rows)
    keys = ", ".join(map(q, cols))
    gram = " || ' ' || ".join(f"w[i + {k}]" for k in range(n))
    grams = f"list_transform(range(1, len(w) + {2 - n}), lambda i: {gram})"
    base = (f"SELECT {keys + ', ' if keys else ''}response, {grams} AS g FROM (SELECT *, "
            f"{WORDS} AS w FROM (SELECT {keys + ', ' if keys else ''}response "
            f"FROM experiments {where} AND {recent}))")
    sql = (f"SELECT {keys + ', ' if keys else ''}count(*) AS repeats, "
           "count(DISTINCT response) AS distinct_answers, "
           "CAST(sum(len(g)) AS BIGINT) AS ngrams, "
           "len(list_distinct(flatten(list(g)))) AS distinct_ngrams, "
           "len(list_distinct(flatten(list(g)))) / nullif(sum(len(g)), 0) AS distinct_ratio "
           f"FROM ({base}) GROUP BY ALL{' ORDER BY ' + keys if keys else ''}")
    df = query(sql, params + more)
    return df.set_index(cols) if cols else df


def answers(query: Query, user_id: str | None, sweep_id: SweepScope = None,
            column: str = "model", limit: int = 100, diff: bool = False,
            max_columns: int = 12, rows: int = 5_000) -> pd.DataFrame:
    """Answers side by side: one column per value of `column`, one row per other cell + repeat.

    Reads the newest `rows` runs in scope (a whole sweep, as a rule), as variety does."""
    [column] = axes(column, AXES, "column")
    positive(limit, "limit")
    positive(rows, "rows")
    # failed runs count too: an answers table shows their errors in place
    counts, values = profile(query, user_id, sweep_id, AXES, values_of=column, newest=rows,
                             ok=False)
    if len(values) > max_columns:
        raise InvalidInput(f"answers makes one column per {column}, and there are "
                           f"{len(values)}; pass a sweep, or another column")
    index = [a for a in AXES if counts[a] > 1 and a != column] + ["repeat"]
    answer = (f"CASE WHEN status <> 'ok' THEN '[error] ' || coalesce(error, '') "
              f"WHEN finish_reason = 'length' THEN coalesce(response, '') || ' {CUT}' "
              "ELSE response END")
    heads = [str(v) if column in ("model", "prompt", "system", "provider") else
             f"{column}={'default' if v is None else v}" for v in values]
    picks = ", ".join(
        f"arg_max({answer}, created_at) FILTER (WHERE {q(column)} IS NOT DISTINCT FROM ?) "
        f"AS {q(h)}" for h in heads)
    keys = ", ".join(map(q, index))
    where, params = scope(user_id, sweep_id, ok=False)
    recent, more = newest_filter(user_id, sweep_id, rows)
    sql = (f"SELECT {keys}, {picks} FROM experiments {where} AND {recent} GROUP BY ALL "
           f"ORDER BY {keys} LIMIT {limit}")
    df = query(sql, [*values, *params, *more]).set_index(index)
    if diff and len(heads) >= 2:
        df["diff"] = [text_diff(a, b) for a, b in zip(df[heads[0]], df[heads[1]], strict=True)]
    return df


def text_diff(a: object, b: object) -> str:
    """A word diff of two answers, `[-removed-]` and `{+added+}` inline; None/NaN read as ""."""
    old, new = (re.findall(r"\s+|\S+", t if isinstance(t, str) else "") for t in (a, b))
    out: list[str] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        gone, came = "".join(old[i1:i2]), "".join(new[j1:j2])
        out.append(gone if op == "equal" else
                   (f"[-{gone}-]" if gone else "") + ("{+" + came + "+}" if came else ""))
    return "".join(out)


def tokens_cost(query: Query, user_id: str | None, sweep_id: SweepScope = None,
                limit: int = 5000) -> pd.DataFrame:
    """Chart data: the newest `limit` ok experiments, one point each, with prompt and params."""
    positive(limit, "limit")
    where, params = scope(user_id, sweep_id)
    cols = ", ".join(map(q, PARAMETERS))
    sql = (f"SELECT id, left(prompt, 120) AS prompt, {cols}, repeat, prompt_tokens, "
           "completion_tokens, token_count, cost_estimate, cost_as, generation_time_ms "
           f"FROM experiments {where} ORDER BY created_at DESC LIMIT {limit}")
    return query(sql, params)

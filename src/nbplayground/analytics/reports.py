"""Reports over the experiment log: pandas DataFrames whose aggregation runs as SQL in the store."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from nbplayground.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

Query = Callable[[str, list[Any]], "pd.DataFrame"]
"""The repository's `query(sql, params)`: one SELECT over the log, a DataFrame back."""

PARAMETERS = ("model", "temperature", "max_tokens", "top_p", "frequency_penalty",
              "presence_penalty", "seed", "reasoning_effort")
AXES = ("prompt", "system", "provider", *PARAMETERS)
"""Columns a sweep varies; repeats of one cell share all of them."""

_WORDS = r"regexp_extract_all(lower(coalesce(response, '')), '\w+')"
METRICS: dict[str, tuple[str, str]] = {
    "completion_tokens": ("completion_tokens", "tokens"),
    "prompt_tokens": ("prompt_tokens", "tokens"),
    "token_count": ("token_count", "tokens"),
    "cost_estimate": ("cost_estimate", "USD"),
    "cost_as": ("cost_as", "USD"),
    "generation_time_ms": ("generation_time_ms", "ms"),
    "answer_chars": ("length(coalesce(response, ''))", "characters"),
    "answer_words": (f"len({_WORDS})", "words"),
    "tokens_per_s": ("completion_tokens * 1000.0 / nullif(generation_time_ms, 0)", "tokens/s"),
}
"""Numeric metrics of one experiment: name -> (SQL expression, unit)."""
ALIASES = {"cost": "cost_estimate", "latency": "generation_time_ms", "latency_ms":
           "generation_time_ms", "tokens": "token_count", "length": "answer_chars"}
_GROUPS = {"model": "model", "user": "user_id", "day": "CAST(created_at AS DATE)",
           "provider": "provider", "sweep": "sweep_id"}


def metric(name: str) -> str:
    """The canonical metric name for `name` (aliases such as "cost" or "latency" accepted)."""
    canonical = ALIASES.get(name, name)
    if canonical not in METRICS:
        raise InvalidInput(f"y must be one of the numeric metrics {', '.join(METRICS)} "
                           f"(or {', '.join(ALIASES)}), not {name!r}")
    return canonical


def unit(name: str) -> str:
    return METRICS[metric(name)][1]


def axes(given: str | Sequence[str] | None, allowed: Sequence[str], what: str) -> list[str]:
    """`given` as a list of column names, each checked against `allowed` (they go into SQL)."""
    names = [given] if isinstance(given, str) else list(given or ())
    for name in names:
        if not isinstance(name, str) or name not in allowed:
            raise InvalidInput(f"{what} must be among {', '.join(allowed)}, not {name!r}")
    return list(dict.fromkeys(names))


def scope(user_id: str | None, sweep_id: str | None, *, ok: bool = True) -> tuple[str, list[Any]]:
    """WHERE clause: one user's rows (None: every user), optionally one sweep, optionally ok."""
    clauses, params = ["TRUE"], []
    for column, value in (("user_id", user_id), ("sweep_id", sweep_id)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if ok:
        clauses.append("status = 'ok'")
    return "WHERE " + " AND ".join(clauses), params


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def varying(query: Query, user_id: str | None, sweep_id: str | None = None,
            among: Sequence[str] = AXES) -> list[str]:
    """The axes whose value differs between rows in scope (NULL counts as a value)."""
    where, params = scope(user_id, sweep_id)
    tests = ", ".join(f"(min({_q(a)}) IS DISTINCT FROM max({_q(a)}) OR count({_q(a)}) "
                      f"NOT IN (0, count(*))) AS {_q(a)}" for a in among)
    row = query(f"SELECT {tests} FROM experiments {where}", params)
    return [a for a in among if not row.empty and bool(row.at[0, a])]


def _stats(expr: str, name: str) -> str:
    return f"avg({expr}) AS {name}_mean, stddev_samp({expr}) AS {name}_std"


def pivot(query: Query, user_id: str | None, sweep_id: str | None = None,
          by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """One row per cell (axes `by`, default the ones that vary): mean and spread over repeats."""
    cols = axes(by, AXES, "by") if by is not None else varying(query, user_id, sweep_id)
    where, params = scope(user_id, sweep_id, ok=False)
    ok = "FILTER (WHERE status = 'ok')"
    keys = ", ".join(map(_q, cols))
    sql = (f"SELECT {keys + ', ' if keys else ''}count(*) {ok} AS n, "
           f"CAST(count_if(status = 'error') AS BIGINT) AS errors, "
           f"avg(completion_tokens) {ok} AS completion_tokens_mean, "
           f"stddev_samp(completion_tokens) {ok} AS completion_tokens_std, "
           f"avg(cost_estimate) {ok} AS cost_mean, stddev_samp(cost_estimate) {ok} AS cost_std, "
           f"avg(generation_time_ms) {ok} AS latency_ms_mean, "
           f"stddev_samp(generation_time_ms) {ok} AS latency_ms_std "
           f"FROM experiments {where} GROUP BY ALL"
           f"{' ORDER BY ' + keys if keys else ''}")
    df = query(sql, params)
    return df.set_index(cols) if cols else df


def compare(query: Query, user_id: str | None, sweep_id: str | None, x: str, y: str,
            color: str | None = "model") -> pd.DataFrame:
    """Chart data: mean and std of `y` over repeats per (x, color, other varying axes).

    `series` names a line: the color value plus the other axes that vary (e.g. the prompt),
    so an error bar spans repeats of one cell only. The prompts and the parameters that do
    not vary come along for hover text.
    """
    [x] = axes(x, AXES, "x")
    keys = [x] if color in (None, x) else [x, *axes(color, AXES, "color")]
    y = metric(y)
    split = [a for a in varying(query, user_id, sweep_id) if a not in keys]
    lines = keys[1:] + split
    labels = [f"left({_q(a)}, 40)" if a in ("prompt", "system") else
              ("" if a in keys else f"'{a}=' || ") +
              f"coalesce(CAST({_q(a)} AS VARCHAR), 'default')" for a in lines]
    series = f"concat_ws(' · ', {', '.join(labels)})" if labels else "NULL"
    others = [p for p in PARAMETERS if p not in keys + split]
    where, params = scope(user_id, sweep_id)
    info = "".join(f", string_agg(DISTINCT CAST({_q(p)} AS VARCHAR), ', ' ORDER BY "
                   f"CAST({_q(p)} AS VARCHAR)) AS {_q(p)}" for p in others)
    keys_sql = ", ".join(map(_q, keys + split))
    order = ", ".join(f"{_q(a)} NULLS FIRST" for a in [*lines, x])
    sql = (f"SELECT {keys_sql}, {series} AS series, count(*) AS n, {_stats(METRICS[y][0], y)}, "
           f"string_agg(DISTINCT left(prompt, 80), ' | ' ORDER BY left(prompt, 80)) AS prompts"
           f"{info} FROM experiments {where} GROUP BY ALL ORDER BY {order}")
    return query(sql, params)


def cost(query: Query, user_id: str | None, sweep_id: str | None = None,
         by: str | Sequence[str] = "model") -> pd.DataFrame:
    """Calls, tokens and USD per model / user / day / provider / sweep (errors counted too)."""
    keys = axes(by, tuple(_GROUPS), "by")
    if not keys:
        raise InvalidInput(f"by must name at least one of {', '.join(_GROUPS)}")
    where, params = scope(user_id, sweep_id, ok=False)
    order = ", ".join(keys) + ", cost DESC" if "day" in keys else "cost DESC, " + ", ".join(keys)
    sql = (f"SELECT {', '.join(f'{_GROUPS[k]} AS {k}' for k in keys)}, count(*) AS calls, "
           "CAST(count_if(status = 'error') AS BIGINT) AS errors, "
           "CAST(coalesce(sum(prompt_tokens), 0) AS BIGINT) AS prompt_tokens, "
           "CAST(coalesce(sum(completion_tokens), 0) AS BIGINT) AS completion_tokens, "
           "CAST(coalesce(sum(token_count), 0) AS BIGINT) AS tokens, "
           "coalesce(sum(cost_estimate), 0.0) AS cost, "
           "CAST(count_if(status = 'ok' AND cost_estimate IS NULL) AS BIGINT) AS unpriced, "
           f"sum(cost_as) AS cost_as FROM experiments {where} GROUP BY ALL ORDER BY {order}")
    return query(sql, params)


def latency(query: Query, user_id: str | None, sweep_id: str | None = None,
            by: str | Sequence[str] = "model") -> pd.DataFrame:
    """Generation time percentiles (p05, p25, p50, p75, p95, quantile_cont) and throughput."""
    keys = axes(by, (*AXES, "day"), "by")
    where, params = scope(user_id, sweep_id)
    exprs = ", ".join("CAST(created_at AS DATE) AS day" if k == "day" else _q(k) for k in keys)
    names = ", ".join(map(_q, keys))
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


def length(query: Query, user_id: str | None, sweep_id: str | None = None,
           params: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Answer length (characters, words, tokens) against each parameter's values, long format."""
    cols = (axes(params, PARAMETERS, "params") if params is not None
            else varying(query, user_id, sweep_id, PARAMETERS))
    if not cols:
        cols = ["model"]
    where, args = scope(user_id, sweep_id)
    as_text = ", ".join(f"coalesce(CAST({_q(c)} AS VARCHAR), 'default') AS {_q(c)}"
                        for c in cols)
    base = (f"SELECT length(coalesce(response, '')) AS chars, len({_WORDS}) AS words, "
            f"completion_tokens, {as_text} FROM experiments {where}")
    sql = (f"SELECT parameter, value, TRY_CAST(value AS DOUBLE) AS numeric, count(*) AS n, "
           f"{_stats('chars', 'answer_chars')}, {_stats('words', 'answer_words')}, "
           f"{_stats('completion_tokens', 'completion_tokens')} "
           f"FROM (UNPIVOT ({base}) ON {', '.join(map(_q, cols))} "
           "INTO NAME parameter VALUE value) "
           "GROUP BY ALL ORDER BY parameter, numeric NULLS LAST, value")
    return query(sql, args)


def variety(query: Query, user_id: str | None, sweep_id: str | None = None,
            by: str | Sequence[str] | None = None, n: int = 2) -> pd.DataFrame:
    """Per cell: distinct word n-grams / all n-grams across its repeats (1.0 = no repetition)."""
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 5:
        raise InvalidInput(f"n (the n-gram size) must be a whole number from 1 to 5, not {n!r}")
    cols = axes(by, AXES, "by") if by is not None else varying(query, user_id, sweep_id)
    where, params = scope(user_id, sweep_id)
    keys = ", ".join(map(_q, cols))
    grams = (f"list_transform(range(1, len(w) + 1 - {n - 1}), "
             f"lambda i: array_to_string(w[i:i + {n - 1}], ' '))")
    base = (f"SELECT {keys + ', ' if keys else ''}response, {grams} AS g "
            f"FROM (SELECT *, {_WORDS} AS w FROM experiments {where})")
    sql = (f"SELECT {keys + ', ' if keys else ''}count(*) AS repeats, "
           "count(DISTINCT response) AS distinct_answers, "
           "CAST(sum(len(g)) AS BIGINT) AS ngrams, "
           "len(list_distinct(flatten(list(g)))) AS distinct_ngrams, "
           "len(list_distinct(flatten(list(g)))) / nullif(sum(len(g)), 0) AS distinct_ratio "
           f"FROM ({base}) GROUP BY ALL{' ORDER BY ' + keys if keys else ''}")
    df = query(sql, params)
    return df.set_index(cols) if cols else df


def answers(query: Query, user_id: str | None, sweep_id: str | None = None,
            column: str = "model", limit: int = 100, diff: bool = False,
            max_columns: int = 12) -> pd.DataFrame:
    """Answers side by side: one column per value of `column`, one row per other cell + repeat."""
    [column] = axes(column, AXES, "column")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidInput(f"limit must be a positive whole number, not {limit!r}")
    where, params = scope(user_id, sweep_id, ok=False)
    text = f"CAST({_q(column)} AS VARCHAR)"
    values = query(f"SELECT {text} AS v FROM experiments {where} GROUP BY ALL "
                   f"ORDER BY min({_q(column)}) NULLS LAST", params)["v"].tolist()
    if len(values) > max_columns:
        raise InvalidInput(f"answers makes one column per {column}, and there are "
                           f"{len(values)}; pass a sweep, or another column")
    rows = [a for a in varying(query, user_id, sweep_id) if a != column] + ["repeat"]
    answer = "CASE WHEN status = 'ok' THEN response ELSE '[error] ' || coalesce(error, '') END"
    heads = [str(v) if column in ("model", "prompt", "system", "provider") else f"{column}={v}"
             for v in values]
    picks = ", ".join(
        f"first({answer} ORDER BY created_at DESC) FILTER (WHERE {text} IS NOT DISTINCT FROM ?) "
        f"AS {_q(h)}" for h in heads)
    keys = ", ".join(map(_q, rows))
    sql = (f"SELECT {keys}, {picks} FROM experiments {where} GROUP BY ALL "
           f"ORDER BY {keys} LIMIT {limit}")
    df = query(sql, [*values, *params]).set_index(rows)
    if diff and len(heads) >= 2:
        df["diff"] = [text_diff(a, b) for a, b in zip(df[heads[0]], df[heads[1]], strict=True)]
    return df


def text_diff(a: str | None, b: str | None) -> str:
    """A word-level diff of two answers: `[-removed-]` and `{+added+}` marked inline."""
    old, new = re.findall(r"\s+|\S+", a or ""), re.findall(r"\s+|\S+", b or "")
    out: list[str] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.append("".join(old[i1:i2]))
            continue
        if i2 > i1:
            out.append("[-" + "".join(old[i1:i2]) + "-]")
        if j2 > j1:
            out.append("{+" + "".join(new[j1:j2]) + "+}")
    return "".join(out)


def tokens_cost(query: Query, user_id: str | None, sweep_id: str | None = None,
                limit: int = 5000) -> pd.DataFrame:
    """Chart data: the newest `limit` ok experiments, one point each, with prompt and params."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidInput(f"limit must be a positive whole number, not {limit!r}")
    where, params = scope(user_id, sweep_id)
    cols = ", ".join(map(_q, PARAMETERS))
    sql = (f"SELECT id, left(prompt, 120) AS prompt, {cols}, repeat, prompt_tokens, "
           "completion_tokens, token_count, cost_estimate, cost_as, generation_time_ms "
           f"FROM experiments {where} ORDER BY created_at DESC LIMIT {limit}")
    return query(sql, params)

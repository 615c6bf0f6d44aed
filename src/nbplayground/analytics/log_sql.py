"""The SQL vocabulary of the experiment log for reports: scopes, axes, metrics, profiles."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from nbplayground.analytics.dialect import DIALECTS, TYPES, DuckDB, dialect_of, q
from nbplayground.domain.fields import FIELDS
from nbplayground.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

Query = Callable[[str, list[Any]], "pd.DataFrame"]
"""The repository's `query(sql, params)`: one SELECT over the log, a DataFrame back."""
SweepScope = str | Sequence[str] | None
"""A sweep id, or the experiment ids of a Sweep: cells it took from the cache keep the id of
the sweep that first ran them, so only the ids name all of its rows. None: the whole log."""

PARAMETERS = ("model", *(f.column for f in FIELDS if f.kind != "strings"))
AXES = ("prompt", "system", "provider", *PARAMETERS, "prompt_name", "prompt_version")
"""Columns a sweep varies; repeats of one cell share all of them."""

METRICS: dict[str, tuple[str, str]] = {
    "completion_tokens": ("completion_tokens", "tokens"),
    "prompt_tokens": ("prompt_tokens", "tokens"),
    "token_count": ("token_count", "tokens"),
    "cost_estimate": ("cost_estimate", "USD"),
    "cost_as": ("cost_as", "USD"),
    "generation_time_ms": ("generation_time_ms", "ms"),
    "answer_chars": ("length(coalesce(response, ''))", "characters"),
    "answer_words": (DIALECTS["duckdb"].words(), "words"),
    "tokens_per_s": ("completion_tokens * 1000.0 / nullif(generation_time_ms, 0)", "tokens/s"),
}
"""Numeric metrics of one experiment: name -> (SQL expression, unit)."""
ALIASES = {"cost": "cost_estimate", "latency": "generation_time_ms", "latency_ms":
           "generation_time_ms", "tokens": "token_count", "length": "answer_chars"}
MAX_SERIES = 24
"""compare draws at most this many lines before it pools the axes nobody asked for."""
GROUPS = {"model": "model", "user": "user_id", "day": "CAST(created_at AS DATE)",
          "provider": "provider", "sweep": "sweep_id", "prompt_name": "prompt_name",
          "prompt_version": "prompt_version"}
"""What cost() groups by -> its SQL expression."""


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


def metric_sql(name: str, dialect: DuckDB) -> str:
    """The SQL expression of a canonical metric in `dialect`."""
    return dialect.words() if name == "answer_words" else METRICS[name][0]


def scope(user_id: str | None, sweep_id: SweepScope, *, ok: bool = True,
          dialect: DuckDB = DIALECTS["duckdb"]) -> tuple[str, list[Any]]:
    """WHERE clause: one user's rows (None: every user), optionally one sweep, optionally ok."""
    clauses: list[str] = ["TRUE"]
    params: list[Any] = []
    if user_id is not None:
        clauses.append("user_id = ?")
        params.append(user_id)
    if isinstance(sweep_id, str):
        clauses.append("sweep_id = ?")
        params.append(sweep_id)
    elif sweep_id is not None:
        clauses.append(dialect.ids_in())
        params.append([str(i) for i in sweep_id])
    if ok:
        clauses.append("status = 'ok'")
    return "WHERE " + " AND ".join(clauses), params


def distinct(query: Query, user_id: str | None, sweep_id: SweepScope = None,
             among: Sequence[str] = AXES) -> dict[str, int]:
    """How many values each axis takes among the ok rows in scope (NULL counts as one)."""
    return profile(query, user_id, sweep_id, among)[0]


def profile(query: Query, user_id: str | None, sweep_id: SweepScope, among: Sequence[str],
            values_of: str | None = None, newest: int | None = None, ok: bool = True
            ) -> tuple[dict[str, int], list[Any]]:
    """distinct() in one scan, optionally of the `newest` rows only, or of failed rows too
    (ok=False), plus the values `values_of` takes, sorted."""
    dialect = dialect_of(query)
    summed = newest is None and dialect.summed(sweep_id)
    where, params = scope(user_id, sweep_id, ok=ok and not summed, dialect=dialect)
    rows = f"report_cells {where}{' AND ok > 0' if ok else ''}" if summed else \
        f"experiments {where}"
    if newest is not None:
        clause, more = newest_filter(user_id, sweep_id, newest, dialect)
        rows, params = f"{rows} AND {clause}", params + more
    counts = [f"count(DISTINCT {q(a)}) + CAST({dialect.has_null(a)} AS INTEGER) AS {q(a)}"
              for a in among]
    if values_of:
        counts.append(f"{dialect.values_json(values_of)} AS _values")
    cols = list(dict.fromkeys([*among, *([values_of] if values_of else [])]))
    row = query(f"SELECT {', '.join(counts)} FROM {dialect.distinct_rows(cols, rows)}", params)
    values: list[Any] = [0] * len(among) if row.empty else row.iloc[0].tolist()
    listed = json.loads(values.pop() or "[]") if values_of and not row.empty else []
    if TYPES.get(values_of or "") == "DOUBLE":  # JSON may write a whole double as 1
        listed = [None if v is None else float(v) for v in listed]
    return {a: int(v) for a, v in zip(among, values, strict=True)}, listed


def varying(query: Query, user_id: str | None, sweep_id: SweepScope = None,
            among: Sequence[str] = AXES) -> list[str]:
    """The axes whose value differs between the ok rows in scope."""
    return [a for a, n in distinct(query, user_id, sweep_id, among).items() if n > 1]


def newest_filter(user_id: str | None, sweep_id: SweepScope, rows: int,
                  dialect: DuckDB = DIALECTS["duckdb"]) -> tuple[str, list[Any]]:
    """A filter for the newest `rows` ok rows in scope: a top-N over timestamps, then a range
    filter that zone maps (or the team log's index) answer, instead of sorting whole rows."""
    where, params = scope(user_id, sweep_id, dialect=dialect)
    return (f"created_at >= (SELECT min(created_at) FROM (SELECT created_at FROM experiments "
            f"{where} ORDER BY created_at DESC LIMIT {rows}) AS newest)"), params


def positive(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(f"{name} must be a positive whole number, not {value!r}")


def stats(expr: str, name: str) -> str:
    return f"avg({expr}) AS {name}_mean, stddev_samp({expr}) AS {name}_std"

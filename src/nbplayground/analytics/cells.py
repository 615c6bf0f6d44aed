"""The log's report cells: experiments summed per (user, sweep, day, every axis), what the
reports pivot, compare, length, cost and distinct aggregate instead of every row.

The team log keeps them in a table, `report_cells`, summed as rows are written (migration 10's
trigger, in the batch's transaction). The file log reads each experiment as a cell of its own
(DuckDB scans a million rows faster than it could keep a table). A report always re-groups cells
by the axes it shows, so cells with equal keys (written by two batches) add up as one.
"""

from __future__ import annotations

from nbplayground.analytics.dialect import DuckDB, q
from nbplayground.analytics.log_sql import AXES, METRICS, metric_sql

KEYS = ("user_id", "sweep_id", "day", *AXES)
"""What a cell is: a user's repeats of one request in one sweep on one (UTC) day."""
DAY = "CAST(created_at AS DATE)"
"""The file log's day (reports set the session's time zone to UTC)."""
OK = "status = 'ok'"
GROUPS = {"day": "day"}
"""What cost() groups cells by where it differs from log_sql.GROUPS (its rows' SQL)."""
Measure = tuple[str, str | None, str | None]
"""("count" or "sum", the value (None: rows), the condition a row must meet (None: any))."""


def measures(dialect: DuckDB) -> dict[str, Measure]:
    """Every column of a cell but its keys: counts of its rows (every status, ok ones, ...),
    sums over every row of what cost reports, and per metric over the ok rows how many have a
    value (_k), their sum (_s1) and sum of squares (_s2): means and sample deviations of any
    grouping of cells follow from those."""
    out: dict[str, Measure] = {
        "calls": ("count", None, None), "ok": ("count", None, OK),
        "errors": ("count", None, "status = 'error'"),
        "cut": ("count", None, f"{OK} AND finish_reason = 'length'"),
        "unpriced": ("count", None, f"{OK} AND cost_estimate IS NULL"),
        **{f"{c}_all": ("sum", c, None) for c in ("prompt_tokens", "completion_tokens",
                                                  "token_count", "cost_estimate", "cost_as")},
    }
    for name in METRICS:
        v = f"CAST({metric_sql(name, dialect)} AS DOUBLE PRECISION)"
        out |= {f"{name}_k": ("count", v, OK), f"{name}_s1": ("sum", v, OK),
                f"{name}_s2": ("sum", f"({v}) * ({v})", OK)}
    return out


def _summed(kind: str, value: str | None, cond: str | None) -> str:
    """A measure over a cell's rows."""
    where = f" FILTER (WHERE {cond})" if cond else ""
    if kind == "count":  # INTEGER: PostgreSQL sums those as BIGINT, BIGINTs as NUMERIC
        return f"CAST(count({value or '*'}){where} AS INTEGER)"
    return f"sum({value}){where}"


def _single(kind: str, value: str | None, cond: str | None) -> str:
    """A measure of a cell of one row."""
    if kind == "count":
        met = " AND ".join(c for c in (cond, value and f"{value} IS NOT NULL") if c)
        return f"CASE WHEN {met} THEN 1 ELSE 0 END" if met else "1"
    return f"CASE WHEN {cond} THEN {value} END" if cond else str(value)


def aggregate(dialect: DuckDB, rows: str = "experiments", day: str = DAY) -> str:
    """SELECT of the cells of `rows` (the log, or a trigger's new rows), summed."""
    keys = ", ".join(q(k) for k in KEYS if k != "day")
    sums = ", ".join(f"{_summed(*m)} AS {q(name)}" for name, m in measures(dialect).items())
    return f"SELECT {keys}, {day} AS day, {sums} FROM {rows} GROUP BY {keys}, {day}"


def source(dialect: DuckDB, where: str, summed: bool, *, ok: bool) -> str:
    """FROM: the cells in scope (`where`: scope()'s clause, ok=False); with ok, only cells with
    an ok row. From the team log's table when `summed` (dialect.summed(sweep_id)), else each
    experiment in scope as a cell of its own."""
    having = " AND ok > 0" if ok else ""
    if summed:
        return f"(SELECT * FROM report_cells {where}{having}) AS cells"
    keys = ", ".join(q(k) for k in KEYS if k != "day")
    each = ", ".join(f"{_single(*m)} AS {q(name)}" for name, m in measures(dialect).items())
    return (f"(SELECT {keys}, {DAY} AS day, {each} FROM experiments {where}"
            f"{' AND ' + OK if ok else ''}) AS cells")


def mean(s1: str, k: str) -> str:
    return f"CAST(sum({s1}) / nullif(sum({k}), 0) AS DOUBLE PRECISION)"


def std(s1: str, s2: str, k: str) -> str:
    """The sample deviation of the values whose sums per cell are `s1`, `s2` and `k`."""
    return (f"sqrt(greatest(sum({s2}) - sum({s1}) ^ 2 / nullif(sum({k}), 0), 0) "
            f"/ nullif(sum({k}) - 1, 0))")


def total(count: str) -> str:
    """A count summed over cells, as BIGINT (0 over none)."""
    return f"CAST(coalesce(sum({count}), 0) AS BIGINT)"

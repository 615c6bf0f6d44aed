"""Reports over the answers' texts: variety (distinct word n-grams across repeats) and answers
side by side with a word diff. Both read the newest runs in scope only."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from nbplayground.analytics.dialect import dialect_of, q
from nbplayground.analytics.format import CUT
from nbplayground.analytics.log_sql import (
    AXES,
    Query,
    SweepScope,
    axes,
    newest_filter,
    positive,
    profile,
    scope,
)
from nbplayground.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd


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
    d = dialect_of(query)
    where, params = scope(user_id, sweep_id, dialect=d)
    recent, more = newest_filter(user_id, sweep_id, rows, d)
    keys = ", ".join(map(q, cols))
    picked = (f"SELECT {keys + ', ' if keys else ''}response, {d.words_read()} AS w "
              f"FROM experiments {where} AND {recent}")
    sql = ("SELECT *, CAST(distinct_ngrams AS DOUBLE PRECISION) / nullif(ngrams, 0) "
           f"AS distinct_ratio FROM ({d.grams(cols, picked, n)}) AS cells"
           f"{' ORDER BY ' + keys if keys else ''}")
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
    d = dialect_of(query)
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
        f"{d.newest(answer, f'{q(column)} IS NOT DISTINCT FROM ?')} AS {q(h)}" for h in heads)
    keys = ", ".join(map(q, index))
    where, params = scope(user_id, sweep_id, ok=False, dialect=d)
    recent, more = newest_filter(user_id, sweep_id, rows, d)
    sql = (f"SELECT {keys}, {picks} FROM experiments {where} AND {recent} GROUP BY {keys} "
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

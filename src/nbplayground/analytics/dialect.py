"""The SQL that differs between the log's stores: DuckDB (the file log) and PostgreSQL (the team).

Reports are written once (reports.py, log_sql.py, variety.py) from these fragments. A store's
query callable names its dialect in a `dialect` attribute ("duckdb" when it names none);
parameters are `?` in both (the PostgreSQL store turns them into its own), so no fragment may
hold a `?` or `%` of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nbplayground.domain.fields import FIELDS

TYPES = {"prompt": "VARCHAR", "system": "VARCHAR", "provider": "VARCHAR", "model": "VARCHAR",
         **{f.column: f.sql_type for f in FIELDS}}
"""The log's type of each column a report groups by."""
WORD = "[0-9a-z_]"
"""A word character of a lower-cased answer: RE2's \\w (DuckDB's), which is ASCII only."""


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class DuckDB:
    """The file log's SQL (DuckDB)."""

    name = "duckdb"

    def ids_in(self) -> str:
        """The rows whose id is among a list parameter."""
        return "id IN (SELECT unnest(CAST(? AS VARCHAR[])))"

    def text(self, expr: str, column: str | None = None) -> str:
        """`expr` (of log column `column`) as text, as DuckDB writes it (0.0, 1.5, true)."""
        return f"CAST({expr} AS VARCHAR)"

    def least(self, column: str, expr: str | None = None) -> str:
        """min() of log column `column` (or of `expr`, an expression of its values)."""
        return f"min({expr or q(column)})"

    def most(self, column: str) -> str:
        return f"max({q(column)})"

    def summed(self, sweep_id: object) -> bool:
        """Whether reports of this scope read the report_cells table (cells.py): the team log's,
        for a user's whole log or a sweep id (a list of ids is summed from its rows)."""
        return False

    def distinct_rows(self, cols: Sequence[str], rows: str) -> str:
        """FROM: `rows` (a FROM item and its WHERE), for counting the distinct values of
        `cols`."""
        return rows

    def has_null(self, column: str) -> str:
        """Over distinct_rows: whether `column` is NULL in any of them."""
        return f"count({q(column)}) < count(*)"

    def quantiles(self, expr: str, at: Sequence[float]) -> str:
        """A list of the continuous quantiles of `expr`, read with [1], [2]..."""
        return f"quantile_cont({expr}, [{', '.join(map(str, at))}])"

    def values_json(self, column: str) -> str:
        """The distinct values of `column` (NULL among them), sorted, as JSON text."""
        # as JSON text: a LIST with NULLs reaches pandas as a masked array (NULL read as 0.0)
        return f"CAST(to_json(list(DISTINCT {q(column)} ORDER BY {q(column)})) AS VARCHAR)"

    def word_list(self) -> str:
        """The answer's words (lower-cased runs of word characters), in order."""
        return r"regexp_extract_all(lower(coalesce(response, '')), '\w+')"

    def words_read(self) -> str:
        """The answer's words as grams() reads them (word_list())."""
        return self.word_list()

    def words(self) -> str:
        """How many words the answer has."""
        return f"len({self.word_list()})"

    def try_double(self, expr: str) -> str:
        return f"TRY_CAST({expr} AS DOUBLE)"

    def newest(self, answer: str, where: str) -> str:
        """The `answer` of the newest row among those matching `where`, in a GROUP BY."""
        return f"arg_max({answer}, created_at) FILTER (WHERE {where})"

    def unpivot(self, cells: str, cols: Sequence[str]) -> str:
        """FROM: each row of `cells` once per column `cols`, as (parameter, value) + the rest."""
        return f"(UNPIVOT ({cells}) ON {', '.join(map(q, cols))} INTO NAME parameter VALUE value)"

    def grams(self, keys: Sequence[str], rows: str, n: int) -> str:
        """Per cell of `keys` over `rows` (a SELECT of keys, response and its words_read() as
        w): repeats, distinct_answers, ngrams (word n-grams counted) and distinct_ngrams."""
        names = ", ".join(map(q, keys))
        lead = names + ", " if keys else ""
        gram = " || ' ' || ".join(f"w[i + {k}]" for k in range(n))
        grams = f"list_transform(range(1, len(w) + {2 - n}), lambda i: {gram})"
        base = f"SELECT {lead}response, {grams} AS g FROM ({rows})"
        return (f"SELECT {lead}count(*) AS repeats, count(DISTINCT response) AS distinct_answers, "
                "CAST(sum(len(g)) AS BIGINT) AS ngrams, "
                "len(list_distinct(flatten(list(g)))) AS distinct_ngrams "
                f"FROM ({base}){' GROUP BY ' + names if keys else ''}")


class Postgres(DuckDB):
    """The team log's SQL (PostgreSQL 13+), giving the file log's values."""

    name = "postgres"

    def ids_in(self) -> str:
        return "id = ANY(?)"

    def text(self, expr: str, column: str | None = None) -> str:
        if TYPES.get(column or "") == "DOUBLE":  # DuckDB writes a whole double as 1.0
            return (f"CASE WHEN {expr} = trunc({expr}) AND abs({expr}) < 1e15 "
                    f"THEN CAST({expr} AS TEXT) || '.0' ELSE CAST({expr} AS TEXT) END")
        return f"CAST({expr} AS TEXT)"

    def least(self, column: str, expr: str | None = None) -> str:
        if TYPES.get(column) == "BOOLEAN":  # false sorts first
            return f"bool_and({expr or q(column)})"
        return super().least(column, expr)

    def most(self, column: str) -> str:
        return f"bool_or({q(column)})" if TYPES.get(column) == "BOOLEAN" else super().most(
            column)

    def summed(self, sweep_id: object) -> bool:
        return sweep_id is None or isinstance(sweep_id, str)

    def distinct_rows(self, cols: Sequence[str], rows: str) -> str:
        # one hashed grouping, then the few cells counted: PostgreSQL sorts every row once
        # per count(DISTINCT) (20 sorts of a user's log)
        names = ", ".join(map(q, cols))
        return f"(SELECT {names} FROM {rows} GROUP BY {names}) AS cells"

    def has_null(self, column: str) -> str:
        return f"coalesce(bool_or({q(column)} IS NULL), false)"

    def quantiles(self, expr: str, at: Sequence[float]) -> str:
        return (f"percentile_cont(ARRAY[{', '.join(map(str, at))}]::float8[]) "
                f"WITHIN GROUP (ORDER BY {expr})")

    def values_json(self, column: str) -> str:
        return f"CAST(json_agg(DISTINCT {q(column)} ORDER BY {q(column)}) AS TEXT)"

    def word_list(self) -> str:
        # migration 10's generated column: split at write time, not per report
        return "string_to_array(response_words, ' ')"

    def words(self) -> str:
        return f"cardinality({self.word_list()})"

    def try_double(self, expr: str) -> str:
        number = r"^[-+]{0,1}([0-9]+[.]{0,1}[0-9]*|[.][0-9]+)([eE][-+]{0,1}[0-9]+){0,1}$"
        return f"CASE WHEN {expr} ~ '{number}' THEN CAST({expr} AS DOUBLE PRECISION) END"

    def newest(self, answer: str, where: str) -> str:
        return f"(array_agg({answer} ORDER BY created_at DESC) FILTER (WHERE {where}))[1]"

    def unpivot(self, cells: str, cols: Sequence[str]) -> str:
        pairs = ", ".join(f"('{c}', cells.{q(c)})" for c in cols)
        return f"({cells}) AS cells CROSS JOIN LATERAL (VALUES {pairs}) AS u(parameter, value)"

    def words_read(self) -> str:
        # the stored text: cells gather their answers' words as an array of texts
        return "response_words"

    def grams(self, keys: Sequence[str], rows: str, n: int) -> str:
        names = ", ".join(map(q, keys))
        lead = names + ", " if keys else ""
        # Each answer's grams are its words zipped with their tails; they are told apart per
        # cell, in a small hash table each (one for every cell's grams took 1.3x as long).
        tails = ", ".join(["w", *(f"w[{k + 1}:]" for k in range(1, n))])
        grams = ", ".join(f"g{k}" for k in range(n))
        distinct = (f"(SELECT count(*) FROM (SELECT DISTINCT {grams} FROM unnest(texts) AS a(x), "
                    "LATERAL (SELECT string_to_array(x, ' ') AS w) AS split, "
                    f"unnest({tails}) AS t({grams}) WHERE g{n - 1} IS NOT NULL) AS d)")
        group = f" GROUP BY {names}" if keys else ""
        return (f"WITH cells AS (SELECT {lead}count(*) AS repeats, "
                "count(DISTINCT response) AS distinct_answers, CAST(coalesce(sum(greatest("
                f"cardinality(string_to_array(w, ' ')) - {n - 1}, 0)), 0) AS BIGINT) AS ngrams, "
                f"array_agg(w) AS texts FROM ({rows}) AS picked{group})"
                f" SELECT {lead}repeats, distinct_answers, ngrams, "
                f"CAST({distinct} AS BIGINT) AS distinct_ngrams FROM cells")


WORDS_OF = (f"trim(regexp_replace(lower(coalesce(response, '')), '[^{WORD[1:-1]}]+', ' ', "
            "'g'))")
"""The team log's response_words (migration 10): the answer's words joined by one space."""

DIALECTS = {d.name: d for d in (DuckDB(), Postgres())}


def dialect_of(query: Any) -> DuckDB:
    """The dialect a store's query callable speaks."""
    return DIALECTS[getattr(query, "dialect", "duckdb")]

"""Typed pandas frames built a column at a time, and the cell encodings of the log (JSON, UTC).

Pure Python and pandas (no duckdb), so the in-memory fake repository shares the same mapping.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from itertools import chain
from typing import Any, TypeVar

import orjson
import pandas as pd
from pydantic import BaseModel

from nbplayground.domain import Message
from nbplayground.experimentation.collector import automatic_collection_paused

Columns = tuple[tuple[str, str], ...]
"""(name, SQL type) of each column of a table, in order."""
Values = list[Any] | tuple[Any, ...]
T = TypeVar("T")

# Explicit dtypes: DuckDB then never has to guess a column's type from sampled Python objects.
DTYPES = {"VARCHAR": "str", "DOUBLE": "float64", "INTEGER": "Int64", "BIGINT": "Int64",
          "BOOLEAN": "boolean", "TIMESTAMPTZ": "datetime64[us, UTC]", "DATE": "str"}


def names(columns: Columns) -> list[str]:
    return [name for name, _ in columns]


# -- frames, a column at a time --
# A frame is built from one sequence of values per column, read off the rows or models in C
# (operator.itemgetter), and each Series is made once with its final dtype. The frame builders
# run with the automatic garbage collector paused: they make a tuple per row and hold 100k-long
# lists, and a collection started meanwhile walks all of that (and every live object) to free
# nothing; that was a sixth of the mapping's time at 100k rows.

@automatic_collection_paused()
def frame(columns: Columns, rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """A typed DataFrame of `rows` with exactly `columns`, ready to append to a table."""
    return columns_frame(columns, row_columns(rows, names(columns)))


def columns_frame(columns: Columns, data: Mapping[str, Values]) -> pd.DataFrame:
    """The same from each column's values."""
    return pd.DataFrame({name: series(data[name], sql) for name, sql in columns}, copy=False)


def series(values: Values, sql: str) -> pd.Series:
    """`values` as the pandas dtype of SQL type `sql`, the fastest way pandas allows: a column
    of only None (no error in a clean run) at once, not value by value; instants through
    DatetimeIndex and flags through an inferred bool Series, twice as fast as a Series told its
    dtype, which stays the way for anything else (no rows, a None among the flags)."""
    dtype = DTYPES[sql]
    if values and all(v is None for v in values):
        return pd.Series(None, index=pd.RangeIndex(len(values)), dtype=dtype)
    if sql == "TIMESTAMPTZ" and values:
        index = pd.DatetimeIndex(list(values))
        if index.dtype == dtype:
            return pd.Series(index)
    if sql == "BOOLEAN":
        inferred = pd.Series(values)
        if inferred.dtype == bool:
            return inferred.astype("boolean")
    return pd.Series(values, dtype=dtype)


def transpose(rows: Iterable[Mapping[str, Any]], keys: Sequence[str]) -> dict[str, Values]:
    """Each key's values across `rows`, in one pass over the rows and in C: reading them once
    per column took twice as long (they are scattered in memory)."""
    pick = operator.itemgetter(*keys) if len(keys) > 1 else lambda r: (r[keys[0]],)
    columns = list(zip(*map(pick, rows), strict=True))
    return dict(zip(keys, columns, strict=True)) if columns else dict.fromkeys(keys, ())


def row_columns(rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> dict[str, Values]:
    """transpose for rows that may lack a key (None there)."""
    try:
        return transpose(rows, keys)
    except KeyError:
        return {key: [r.get(key) for r in rows] for key in keys}


def model_columns(models: Iterable[BaseModel], keys: Sequence[str]) -> dict[str, Values]:
    """transpose for pydantic models: they keep their field values in the instance __dict__,
    read there without an attribute lookup per value."""
    return transpose(map(vars, models), keys)


def by_chunks(items: Sequence[T], columns_of: Callable[[Sequence[T]], dict[str, Values]]
              ) -> dict[str, Values]:
    """columns_of(items), a thousand items at a time: while each column of a chunk is read,
    its objects stay in the CPU cache, which 100k experiments do not (a sixth faster)."""
    parts = [columns_of(items[i:i + _CHUNK]) for i in range(0, len(items), _CHUNK)]
    if len(parts) < 2:
        return parts[0] if parts else columns_of(items)
    return {name: list(chain.from_iterable(p[name] for p in parts)) for name in parts[0]}


_CHUNK = 1_000


def instants(moments: Values) -> list[datetime]:
    """as_utc of each; the call is skipped for those already in UTC, which it returns as is."""
    return [m if m.tzinfo is UTC else as_utc(m) for m in moments]


def as_utc(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC: the log stores instants."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def dumps(value: Any) -> str:
    """JSON text as people read it in SQL (no \\u escapes); never fails on an odd value."""
    return _ENCODER.encode(value)


def fast_dumps(value: Any) -> str:
    """The same JSON, compact, through orjson: the three JSON columns of every experiment
    row were half the cost of logging a batch with the json module."""
    try:
        return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # what orjson cannot write (an integer beyond 64 bits) json can
        return dumps(value)


_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)


def json_texts(values: Sequence[Any]) -> list[str | None]:
    """fast_dumps of each value (None stays NULL), in one loop: orjson writes the same text for
    string keys without OPT_NON_STR_KEYS, only faster; what it refuses then (another key, an
    integer beyond 64 bits, a lone surrogate) goes through fast_dumps."""
    dump, texts = orjson.dumps, []
    for value in values:
        try:
            texts.append(None if value is None else dump(value, str).decode())
        except TypeError:
            texts.append(fast_dumps(value))
    return texts


def messages_texts(conversations: Sequence[Sequence[Message]]) -> list[str]:
    """Each experiment's messages as JSON: orjson reads each Message's __dict__ (its fields,
    what as_dict returns), so no dict is built per message; what it refuses goes as before."""
    dump, texts = orjson.dumps, []
    for messages in conversations:
        try:
            texts.append(dump(messages, vars).decode())
        except TypeError:
            texts.append(fast_dumps([m.as_dict() for m in messages]))
    return texts

"""Rows of the experiment log: Experiment, APIRequest, sweep, User and usage ⇄ table rows.

Pure Python and pandas (no duckdb), so the in-memory fake repository shares the same mapping.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from itertools import chain
from typing import Any, TypeVar

import orjson
import pandas as pd
from pydantic import BaseModel

from nbplayground.domain import (
    APIRequest,
    Experiment,
    Message,
    ModelParameters,
    ResponseMetrics,
    User,
)
from nbplayground.errors import InvalidInput
from nbplayground.experimentation.collector import automatic_collection_paused
from nbplayground.ids import new_id, utcnow

Row = dict[str, Any]
Columns = tuple[tuple[str, str], ...]
Values = list[Any] | tuple[Any, ...]
T = TypeVar("T")

EXPERIMENT_COLUMNS: Columns = (
    ("id", "VARCHAR"), ("user_id", "VARCHAR"), ("sweep_id", "VARCHAR"), ("model", "VARCHAR"),
    ("provider", "VARCHAR"), ("base_url", "VARCHAR"), ("prompt", "VARCHAR"),
    ("system", "VARCHAR"), ("messages", "VARCHAR"), ("response", "VARCHAR"),
    ("temperature", "DOUBLE"), ("max_tokens", "INTEGER"), ("top_p", "DOUBLE"),
    ("frequency_penalty", "DOUBLE"), ("presence_penalty", "DOUBLE"), ("stop", "VARCHAR"),
    ("seed", "BIGINT"), ("reasoning_effort", "VARCHAR"), ("repeat", "INTEGER"),
    ("prompt_tokens", "INTEGER"), ("completion_tokens", "INTEGER"), ("cached_tokens", "INTEGER"),
    ("token_count", "INTEGER"), ("generation_time_ms", "DOUBLE"), ("cost_estimate", "DOUBLE"),
    ("usage_estimated", "BOOLEAN"), ("price_as", "VARCHAR"), ("cost_as", "DOUBLE"),
    ("finish_reason", "VARCHAR"), ("status", "VARCHAR"), ("error", "VARCHAR"),
    ("error_type", "VARCHAR"), ("cache_key", "VARCHAR"), ("cached", "BOOLEAN"),
    ("request_body", "VARCHAR"), ("created_at", "TIMESTAMPTZ"),
    ("response_model", "VARCHAR"),
)
REQUEST_COLUMNS: Columns = (
    ("id", "VARCHAR"), ("experiment_id", "VARCHAR"), ("user_id", "VARCHAR"), ("model", "VARCHAR"),
    ("provider", "VARCHAR"), ("attempt", "INTEGER"), ("status_code", "INTEGER"),
    ("latency_ms", "DOUBLE"), ("request_id", "VARCHAR"), ("error", "VARCHAR"),
    ("retry_after", "DOUBLE"), ("created_at", "TIMESTAMPTZ"),
)
SWEEP_COLUMNS: Columns = (
    ("id", "VARCHAR"), ("user_id", "VARCHAR"), ("spec", "VARCHAR"), ("status", "VARCHAR"),
    ("total", "INTEGER"), ("done", "INTEGER"), ("failed", "INTEGER"), ("cached", "INTEGER"),
    ("spent", "DOUBLE"), ("created_at", "TIMESTAMPTZ"), ("updated_at", "TIMESTAMPTZ"),
)
USER_COLUMNS: Columns = (
    ("id", "VARCHAR"), ("email", "VARCHAR"), ("subscription_type", "VARCHAR"),
    ("token_usage", "BIGINT"), ("api_key_ref", "VARCHAR"), ("api_key_fingerprint", "VARCHAR"),
    ("role", "VARCHAR"), ("limits", "VARCHAR"), ("created_at", "TIMESTAMPTZ"),
)
USAGE_COLUMNS: Columns = (
    ("id", "VARCHAR"), ("user_id", "VARCHAR"), ("experiment_id", "VARCHAR"), ("model", "VARCHAR"),
    ("provider", "VARCHAR"), ("day", "DATE"), ("prompt_tokens", "INTEGER"),
    ("completion_tokens", "INTEGER"), ("cost", "DOUBLE"), ("created_at", "TIMESTAMPTZ"),
)

# Explicit dtypes: DuckDB then never has to guess a column's type from sampled Python objects.
_DTYPES = {"VARCHAR": "str", "DOUBLE": "float64", "INTEGER": "Int64", "BIGINT": "Int64",
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
    dtype = _DTYPES[sql]
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


# -- experiments --

def experiment_from_row(row: Mapping[str, Any]) -> Experiment:
    """An experiments row back; prompt, system and token_count are derived, not read."""
    stop = row["stop"]
    parameters = ModelParameters(
        temperature=row["temperature"], max_tokens=row["max_tokens"], top_p=row["top_p"],
        frequency_penalty=row["frequency_penalty"], presence_penalty=row["presence_penalty"],
        stop=None if stop is None else tuple(json.loads(stop)), seed=row["seed"],
        reasoning_effort=row["reasoning_effort"])
    metrics = ResponseMetrics(
        prompt_tokens=row["prompt_tokens"] or 0, completion_tokens=row["completion_tokens"] or 0,
        cached_tokens=row["cached_tokens"] or 0,
        generation_time_ms=row["generation_time_ms"] or 0.0, cost_estimate=row["cost_estimate"],
        usage_estimated=bool(row["usage_estimated"]), price_as=row["price_as"],
        cost_as=row["cost_as"])
    return Experiment(
        id=row["id"], user_id=row["user_id"], model=row["model"], provider=row["provider"],
        messages=tuple(Message.model_validate(m) for m in json.loads(row["messages"] or "[]")),
        parameters=parameters, response=row["response"] or "", metrics=metrics,
        status=row["status"], error=row["error"], error_type=row["error_type"],
        finish_reason=row["finish_reason"], response_model=row.get("response_model"),
        timestamp=as_utc(row["created_at"]),
        sweep_id=row["sweep_id"], repeat=row["repeat"] or 0, base_url=row["base_url"],
        cache_key=row["cache_key"], cached=bool(row["cached"]),
        request_body=json.loads(row["request_body"] or "{}"))


_EXPERIMENT_FIELDS = ("id", "user_id", "sweep_id", "model", "provider", "base_url", "messages",
                      "response", "repeat", "finish_reason", "status", "error", "error_type",
                      "cache_key", "cached", "request_body", "timestamp", "parameters",
                      "metrics", "response_model")
_PARAMETER_FIELDS = ("temperature", "max_tokens", "top_p", "frequency_penalty",
                     "presence_penalty", "stop", "seed", "reasoning_effort")
_METRIC_FIELDS = ("prompt_tokens", "completion_tokens", "cached_tokens", "generation_time_ms",
                  "cost_estimate", "usage_estimated", "price_as", "cost_as")


@automatic_collection_paused()
def experiments_frame(experiments: Sequence[Experiment]) -> pd.DataFrame:
    """A column at a time, read straight off the models' fields (no row dict, no model_dump):
    100k experiments map in a fraction of a second."""
    return columns_frame(EXPERIMENT_COLUMNS, by_chunks(experiments, _experiment_columns))


def _experiment_columns(experiments: Sequence[Experiment]) -> dict[str, Values]:
    """One chunk's columns: the fields as they are but JSON text for messages, stop and the
    request body, the derived prompt, system and token_count (ResponseMetrics.token_count),
    and the timestamp in UTC."""
    data = model_columns(experiments, _EXPERIMENT_FIELDS)
    data |= model_columns(data["parameters"], _PARAMETER_FIELDS)
    data |= model_columns(data["metrics"], _METRIC_FIELDS)
    data.update(
        prompt=[e.prompt for e in experiments], system=[e.system for e in experiments],
        messages=messages_texts(data["messages"]), stop=json_texts(data["stop"]),
        token_count=list(map(operator.add, data["prompt_tokens"], data["completion_tokens"])),
        request_body=json_texts(data["request_body"]),
        created_at=instants(data["timestamp"]))
    return data


def check_limit(limit: int | None) -> int | None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise InvalidInput(f"limit must be None or a whole number >= 0, not {limit!r}")
    return limit


def unique_by_id(experiments: Sequence[Experiment]) -> list[Experiment]:
    """First occurrence of each id: a batch that repeats an experiment logs it once."""
    seen: set[str] = set()
    out = []
    for e in experiments:
        if e.id not in seen:
            seen.add(e.id)
            out.append(e)
    return out


# -- API requests --

_REQUEST_FIELDS = tuple(name for name in names(REQUEST_COLUMNS) if name != "created_at")


@automatic_collection_paused()
def requests_frame(requests: Sequence[APIRequest], experiments: Sequence[Experiment]
                   ) -> pd.DataFrame:
    """APIRequest has no clock of its own: it takes its experiment's timestamp, else now."""
    when = {e.id: e.timestamp for e in experiments}
    now = utcnow()
    data = model_columns(requests, _REQUEST_FIELDS)
    data["created_at"] = instants([when.get(e, now) for e in data["experiment_id"]])
    return columns_frame(REQUEST_COLUMNS, data)


# -- sweeps --

def sweep_row(sweep: Mapping[str, Any], existing: Mapping[str, Any] | None) -> Row:
    """Upsert semantics: the given keys over the stored row (or defaults); updated_at = now."""
    allowed = names(SWEEP_COLUMNS)
    unknown = sorted(set(sweep) - set(allowed))
    if unknown:
        raise InvalidInput(f"a sweep row has no field(s) {', '.join(unknown)}; "
                           f"the fields are {', '.join(allowed)}")
    if not isinstance(sweep.get("id"), str) or not sweep["id"]:
        raise InvalidInput(f"a sweep row needs a non-empty string id, not {sweep.get('id')!r}")
    now = utcnow()
    row: Row = dict.fromkeys(allowed)
    row.update(total=0, done=0, failed=0, cached=0, spent=0.0, created_at=now)
    row.update(existing or {})
    row.update(sweep)
    row["updated_at"] = sweep.get("updated_at") or now
    for key in ("created_at", "updated_at"):
        row[key] = as_utc(row[key])
    return row


def sweep_to_db(row: Mapping[str, Any]) -> Row:
    return {**row, "spec": None if row["spec"] is None else dumps(row["spec"])}


def sweep_from_db(row: Mapping[str, Any]) -> Row:
    out = dict(row)
    out["spec"] = None if out["spec"] is None else json.loads(out["spec"])
    for key in ("created_at", "updated_at"):
        if out[key] is not None:
            out[key] = as_utc(out[key])
    return out


# -- users and usage --

def user_to_db(user: User, limits: Mapping[str, Any] | None, created_at: datetime) -> Row:
    return {**user.model_dump(), "limits": None if limits is None else dumps(dict(limits)),
            "created_at": as_utc(created_at)}


def user_from_db(row: Mapping[str, Any]) -> User:
    fields = set(User.model_fields)
    return User.model_validate({k: v for k, v in row.items() if k in fields and v is not None})


@automatic_collection_paused()
def usage_frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Missing ids are minted, created_at defaults to now and day to created_at's UTC date."""
    allowed = names(USAGE_COLUMNS)
    known = set(allowed)
    for r in rows:
        if not known.issuperset(r):
            raise InvalidInput(f"a usage row has no field(s) {', '.join(sorted(set(r) - known))}; "
                               f"the fields are {', '.join(allowed)}")
    now = utcnow()
    data = row_columns(rows, allowed)
    data["id"] = [i or new_id() for i in data["id"]]
    data["created_at"] = instants([c or now for c in data["created_at"]])
    data["day"] = list(map(_day, data["day"], data["created_at"]))
    return columns_frame(USAGE_COLUMNS, data)


def _day(day: Any, created: datetime) -> str:
    """A usage row's day as ISO text: a datetime's UTC date, else as given, else created's."""
    day = day or created
    if isinstance(day, datetime):
        day = as_utc(day).date()
    return day.isoformat() if isinstance(day, date) else str(day)

"""Rows of the experiment log: Experiment, APIRequest, sweep, User and usage ⇄ table rows.

Pure Python and pandas (no duckdb), so the in-memory fake repository shares the same mapping.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import orjson
import pandas as pd

from nbplayground.domain import (
    APIRequest,
    Experiment,
    Message,
    ModelParameters,
    ResponseMetrics,
    User,
)
from nbplayground.errors import InvalidInput
from nbplayground.ids import new_id, utcnow

Row = dict[str, Any]
Columns = tuple[tuple[str, str], ...]

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


def frame(columns: Columns, rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """A typed DataFrame of `rows` with exactly `columns`, ready to append to a table."""
    keys = names(columns)
    pick = operator.itemgetter(*keys)
    try:  # rows built by this module have every key: transpose in C, not key by key
        table = [pick(r) for r in rows]
    except KeyError:
        table = [tuple(r.get(k) for k in keys) for r in rows]
    values = list(zip(*table, strict=True)) if table else [() for _ in keys]
    return pd.DataFrame({name: pd.Series(list(col), dtype=_DTYPES[sql])
                         for (name, sql), col in zip(columns, values, strict=True)})


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


# -- experiments --

def experiment_row(e: Experiment) -> Row:
    p, m = e.parameters, e.metrics
    return {
        "id": e.id, "user_id": e.user_id, "sweep_id": e.sweep_id, "model": e.model,
        "provider": e.provider, "base_url": e.base_url, "prompt": e.prompt, "system": e.system,
        "messages": fast_dumps([msg.as_dict() for msg in e.messages]), "response": e.response,
        "temperature": p.temperature, "max_tokens": p.max_tokens, "top_p": p.top_p,
        "frequency_penalty": p.frequency_penalty, "presence_penalty": p.presence_penalty,
        "stop": None if p.stop is None else fast_dumps(list(p.stop)), "seed": p.seed,
        "reasoning_effort": p.reasoning_effort, "repeat": e.repeat,
        "prompt_tokens": m.prompt_tokens, "completion_tokens": m.completion_tokens,
        "cached_tokens": m.cached_tokens, "token_count": m.token_count,
        "generation_time_ms": m.generation_time_ms, "cost_estimate": m.cost_estimate,
        "usage_estimated": m.usage_estimated, "price_as": m.price_as, "cost_as": m.cost_as,
        "finish_reason": e.finish_reason, "status": e.status, "error": e.error,
        "error_type": e.error_type, "cache_key": e.cache_key, "cached": e.cached,
        "request_body": fast_dumps(e.request_body), "created_at": as_utc(e.timestamp),
    }


def experiment_from_row(row: Mapping[str, Any]) -> Experiment:
    """The inverse of experiment_row; prompt, system and token_count are derived, not read."""
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
        finish_reason=row["finish_reason"], timestamp=as_utc(row["created_at"]),
        sweep_id=row["sweep_id"], repeat=row["repeat"] or 0, base_url=row["base_url"],
        cache_key=row["cache_key"], cached=bool(row["cached"]),
        request_body=json.loads(row["request_body"] or "{}"))


def experiments_frame(experiments: Sequence[Experiment]) -> pd.DataFrame:
    return frame(EXPERIMENT_COLUMNS, [experiment_row(e) for e in experiments])


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

def requests_frame(requests: Sequence[APIRequest], experiments: Sequence[Experiment]
                   ) -> pd.DataFrame:
    """APIRequest has no clock of its own: it takes its experiment's timestamp, else now."""
    when = {e.id: as_utc(e.timestamp) for e in experiments}
    now = utcnow()
    rows = [r.model_dump() | {"created_at": when.get(r.experiment_id, now)} for r in requests]
    return frame(REQUEST_COLUMNS, rows)


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


def usage_frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Missing ids are minted, created_at defaults to now and day to created_at's UTC date."""
    allowed = set(names(USAGE_COLUMNS))
    now = utcnow()
    out = []
    for r in rows:
        unknown = sorted(set(r) - allowed)
        if unknown:
            raise InvalidInput(f"a usage row has no field(s) {', '.join(unknown)}; "
                               f"the fields are {', '.join(names(USAGE_COLUMNS))}")
        created = as_utc(r.get("created_at") or now)
        day = r.get("day") or created
        if isinstance(day, datetime):
            day = as_utc(day).date()
        out.append({**r, "id": r.get("id") or new_id(), "created_at": created,
                    "day": day.isoformat() if isinstance(day, date) else str(day)})
    return frame(USAGE_COLUMNS, out)

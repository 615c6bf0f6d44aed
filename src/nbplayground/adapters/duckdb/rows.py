"""Rows of the experiment log: Experiment, APIRequest, sweep, User and usage ⇄ table rows.

The column tables of the log and the mapping of each record to them (and back), built from the
typed frames of frames.py. Pure Python and pandas (no duckdb), so the in-memory fake repository
shares the same mapping.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd
from pydantic import BaseModel

from nbplayground.adapters.duckdb.frames import (
    Columns,
    Values,
    as_utc,
    by_chunks,
    columns_frame,
    dumps,
    fast_dumps,
    instants,
    json_texts,
    messages_texts,
    model_columns,
    names,
    row_columns,
)
from nbplayground.domain import (
    APIRequest,
    Experiment,
    Message,
    ModelParameters,
    ResponseMetrics,
    User,
)
from nbplayground.domain.fields import FIELDS, PARAMETER_NAMES, RequestField
from nbplayground.errors import InvalidInput
from nbplayground.experimentation.collector import automatic_collection_paused
from nbplayground.ids import new_id, utcnow

Row = dict[str, Any]

EXPERIMENT_COLUMNS: Columns = (
    ("id", "VARCHAR"), ("user_id", "VARCHAR"), ("sweep_id", "VARCHAR"), ("model", "VARCHAR"),
    ("provider", "VARCHAR"), ("base_url", "VARCHAR"), ("prompt", "VARCHAR"),
    ("system", "VARCHAR"), ("messages", "VARCHAR"), ("response", "VARCHAR"),
    *((f.column, f.sql_type) for f in FIELDS), ("repeat", "INTEGER"),
    ("prompt_tokens", "INTEGER"), ("completion_tokens", "INTEGER"), ("cached_tokens", "INTEGER"),
    ("token_count", "INTEGER"), ("generation_time_ms", "DOUBLE"), ("cost_estimate", "DOUBLE"),
    ("usage_estimated", "BOOLEAN"), ("price_as", "VARCHAR"), ("cost_as", "DOUBLE"),
    ("finish_reason", "VARCHAR"), ("status", "VARCHAR"), ("error", "VARCHAR"),
    ("error_type", "VARCHAR"), ("cache_key", "VARCHAR"), ("cached", "BOOLEAN"),
    ("request_body", "VARCHAR"), ("created_at", "TIMESTAMPTZ"),
    ("tool_calls", "VARCHAR"), ("parsed", "VARCHAR"), ("reasoning_tokens", "INTEGER"),
    ("logprobs", "VARCHAR"), ("images", "VARCHAR"), ("refusal", "VARCHAR"),
    ("response_model", "VARCHAR"), ("prompt_name", "VARCHAR"), ("prompt_version", "INTEGER"),
    ("via", "VARCHAR"), ("price_source", "VARCHAR"),
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


# -- experiments --

def experiment_from_row(row: Mapping[str, Any]) -> Experiment:
    """An experiments row back; prompt, system and token_count are derived, not read."""
    parameters = ModelParameters(**{f.name: _field_value(f, row[f.column]) for f in FIELDS})
    metrics = ResponseMetrics(
        prompt_tokens=row["prompt_tokens"] or 0, completion_tokens=row["completion_tokens"] or 0,
        cached_tokens=row["cached_tokens"] or 0, price_source=row.get("price_source"),
        generation_time_ms=row["generation_time_ms"] or 0.0, cost_estimate=row["cost_estimate"],
        usage_estimated=bool(row["usage_estimated"]), price_as=row["price_as"],
        cost_as=row["cost_as"], reasoning_tokens=row.get("reasoning_tokens") or 0)
    return Experiment(
        id=row["id"], user_id=row["user_id"], model=row["model"], provider=row["provider"],
        messages=tuple(Message.of(m) for m in json.loads(row["messages"] or "[]")),
        parameters=parameters, response=row["response"] or "", metrics=metrics,
        status=row["status"], error=row["error"], error_type=row["error_type"],
        finish_reason=row["finish_reason"], response_model=row.get("response_model"),
        timestamp=as_utc(row["created_at"]), prompt_name=row.get("prompt_name"),
        prompt_version=row.get("prompt_version"), sweep_id=row["sweep_id"],
        repeat=row["repeat"] or 0, base_url=row["base_url"], cache_key=row["cache_key"],
        cached=bool(row["cached"]),
        request_body=json.loads(row["request_body"] or "{}"), via=row.get("via") or "sync",
        **_answer_of(row))


def _answer_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """What a wave-2 answer brought back (JSON columns; absent in rows of an older log)."""
    out: dict[str, Any] = {}
    for name, column in (("tool_calls", "tool_calls"), ("token_logprobs", "logprobs"),
                         ("images", "images")):
        text = row.get(column)
        if text:
            out[name] = json.loads(text)
    if row.get("parsed") is not None:
        out["parsed"] = json.loads(row["parsed"])
    if row.get("refusal") is not None:
        out["refusal"] = row["refusal"]
    return out


_ANSWER_FIELDS = ("tool_calls", "parsed", "token_logprobs", "images", "refusal")
_EXPERIMENT_FIELDS = ("id", "user_id", "sweep_id", "model", "provider", "base_url", "messages",
                      "response", "repeat", "finish_reason", "status", "error", "error_type",
                      "cache_key", "cached", "request_body", "timestamp", "parameters",
                      "metrics", "response_model", "prompt_name", "prompt_version", "via",
                      *_ANSWER_FIELDS)
_JSON_FIELDS = tuple(f.column for f in FIELDS if f.kind in ("strings", "json"))

def _plain(value: Any) -> Any:
    """JSON-ready: pydantic objects (a parsed answer, tool calls) as their dumps."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _field_value(f: RequestField, value: Any) -> Any:
    """A logged request field back as ModelParameters holds it (lists are JSON text)."""
    if value is None or f.kind not in ("strings", "json"):
        return value
    loaded = json.loads(value)
    return tuple(loaded) if isinstance(loaded, list) else loaded
_METRIC_FIELDS = ("prompt_tokens", "completion_tokens", "cached_tokens", "generation_time_ms",
                  "cost_estimate", "usage_estimated", "price_as", "cost_as", "reasoning_tokens",
                  "price_source")


@automatic_collection_paused()
def experiments_frame(experiments: Sequence[Experiment]) -> pd.DataFrame:
    """A column at a time off the models' fields (no row dict, no model_dump): 100k map fast."""
    return columns_frame(EXPERIMENT_COLUMNS, by_chunks(experiments, _experiment_columns))


def _experiment_columns(experiments: Sequence[Experiment]) -> dict[str, Values]:
    """One chunk's columns: the fields as they are but JSON text for messages, list fields and the
    request body, the derived prompt, system and token_count (ResponseMetrics.token_count),
    and the timestamp in UTC."""
    data = model_columns(experiments, _EXPERIMENT_FIELDS)
    params = model_columns(data["parameters"], PARAMETER_NAMES)
    for f in FIELDS:  # a field logged under another name (the answer's logprobs own theirs)
        if f.column != f.name:
            params[f.column] = params.pop(f.name)
    data |= params
    data |= model_columns(data["metrics"], _METRIC_FIELDS)
    data.update(
        prompt=[e.prompt for e in experiments], system=[e.system for e in experiments],
        messages=messages_texts(data["messages"]),
        **{name: json_texts(data[name]) for name in _JSON_FIELDS},
        token_count=list(map(operator.add, data["prompt_tokens"], data["completion_tokens"])),
        request_body=json_texts(data["request_body"]),
        created_at=instants(data["timestamp"]),
        tool_calls=[None if not v else fast_dumps(_plain(v)) for v in data["tool_calls"]],
        parsed=[None if v is None else fast_dumps(_plain(v)) for v in data["parsed"]],
        logprobs=[None if v is None else fast_dumps(_plain(v))
                  for v in data.pop("token_logprobs")],
        images=[None if not v else fast_dumps(_plain(v)) for v in data["images"]])
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


def sweep_updates(sweep: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None
                  ) -> list[tuple[Row, frozenset[str]]]:
    """Each sweep row given (one, several or none), validated, with the fields it sets."""
    given = [] if sweep is None else [sweep] if isinstance(sweep, Mapping) else list(sweep)
    return [(sweep_to_db(sweep_row(s, None)), frozenset(s)) for s in given]


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

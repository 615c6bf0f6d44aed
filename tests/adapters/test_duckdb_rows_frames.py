"""The insert frames are built a column at a time for speed (bench/logging_overhead.py measures
it), yet hold exactly what the plain row-by-row mapping (kept here as the reference) gives:
columns, dtypes and every cell."""

from __future__ import annotations

import gc
import itertools
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pandas as pd
import pytest

from nbplayground.adapters.duckdb import frames, rows
from nbplayground.domain import (
    APIRequest,
    Experiment,
    ImageRef,
    Message,
    ModelParameters,
    ResponseMetrics,
    TokenLogprob,
    ToolCall,
    as_messages,
)
from nbplayground.errors import InvalidInput
from tests.factories import make_experiment, make_request

NOW = datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def assert_same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Columns, dtypes and every cell (missing where missing). Not assert_frame_equal: after it
    a session with the llama_cpp tests reports llama_cpp's never-closed os.devnull at exit."""
    assert list(got.columns) == list(expected.columns)
    assert got.dtypes.to_dict() == expected.dtypes.to_dict()
    differing = [c for c in got.columns if not got[c].equals(expected[c])]
    assert not differing and got.equals(expected), f"columns differ: {differing}"


# -- the reference: one dict per row, then one Series per column --

def reference_frame(columns: frames.Columns, table: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series([r.get(name) for r in table], dtype=frames.DTYPES[sql])
                         for name, sql in columns})


def reference_experiment_row(e: Experiment) -> dict[str, Any]:
    p, m = e.parameters, e.metrics
    return {
        "id": e.id, "user_id": e.user_id, "sweep_id": e.sweep_id, "model": e.model,
        "provider": e.provider, "base_url": e.base_url, "prompt": e.prompt, "system": e.system,
        "messages": frames.fast_dumps([msg.as_dict() for msg in e.messages]),
        "response": e.response, "temperature": p.temperature, "max_tokens": p.max_tokens,
        "top_p": p.top_p, "frequency_penalty": p.frequency_penalty,
        "presence_penalty": p.presence_penalty,
        "stop": None if p.stop is None else frames.fast_dumps(list(p.stop)), "seed": p.seed,
        "reasoning_effort": p.reasoning_effort, "repeat": e.repeat,
        "prompt_tokens": m.prompt_tokens, "completion_tokens": m.completion_tokens,
        "cached_tokens": m.cached_tokens, "token_count": m.token_count,
        "generation_time_ms": m.generation_time_ms, "cost_estimate": m.cost_estimate,
        "usage_estimated": m.usage_estimated, "price_as": m.price_as, "cost_as": m.cost_as,
        "finish_reason": e.finish_reason, "status": e.status, "error": e.error,
        "error_type": e.error_type, "cache_key": e.cache_key, "cached": e.cached,
        "request_body": frames.fast_dumps(e.request_body), "created_at": frames.as_utc(e.timestamp),
        "api": p.api, "response_format": None if p.response_format is None
        else frames.fast_dumps(p.response_format), "tools": None if p.tools is None
        else frames.fast_dumps(list(p.tools)), "tool_choice": p.tool_choice,
        "verbosity": p.verbosity, "reasoning_summary": p.reasoning_summary,
        "service_tier": p.service_tier, "logprobs_requested": p.logprobs,
        "top_logprobs": p.top_logprobs, "reasoning_tokens": m.reasoning_tokens,
        "tool_calls": frames.fast_dumps([c.model_dump() for c in e.tool_calls])
        if e.tool_calls else None,
        "parsed": None if e.parsed is None else frames.fast_dumps(e.parsed),
        "logprobs": None if e.token_logprobs is None
        else frames.fast_dumps([t.model_dump(mode="json") for t in e.token_logprobs]),
        "images": frames.fast_dumps([i.model_dump() for i in e.images]) if e.images else None,
        "refusal": e.refusal,
        "response_model": e.response_model,
        "prompt_name": e.prompt_name, "prompt_version": e.prompt_version, "via": e.via,
        "price_source": m.price_source,
    }


def reference_experiments_frame(experiments: Sequence[Experiment]) -> pd.DataFrame:
    return reference_frame(rows.EXPERIMENT_COLUMNS,
                           [reference_experiment_row(e) for e in experiments])


def reference_requests_frame(requests: Sequence[APIRequest],
                             experiments: Sequence[Experiment]) -> pd.DataFrame:
    when = {e.id: frames.as_utc(e.timestamp) for e in experiments}
    return reference_frame(rows.REQUEST_COLUMNS, [
        r.model_dump() | {"created_at": when.get(r.experiment_id, NOW)} for r in requests])


# -- experiments as varied as the log sees them --

VARIATIONS: list[dict[str, Any]] = [
    {},
    {"status": "error", "error": "boom ünïcode ✓ \"quoted\"", "error_type": "RateLimitError",
     "response": "", "metrics": ResponseMetrics(), "finish_reason": None},
    {"metrics": ResponseMetrics(prompt_tokens=5, cost_estimate=None, usage_estimated=True,
                                price_as="gpt-4o", cost_as=0.5)},
    {"parameters": ModelParameters(), "cached": True, "sweep_id": "sweep-1"},
    {"parameters": ModelParameters(stop=("a", "ß\n", "</s>"), seed=2**40,
                                   reasoning_effort="high")},
    {"messages": as_messages([{"role": "developer", "content": "d"},
                              {"role": "user", "content": "q1 日本"},
                              {"role": "assistant", "content": "a1"},
                              {"role": "user", "content": "q2 \u2028 \x00 end"}])},
    {"parameters": ModelParameters(api="responses", response_format={"type": "json_object"},
                                   tools=({"name": "f", "parameters": {}},), tool_choice="f",
                                   logprobs=True, top_logprobs=2, service_tier="flex"),
     "metrics": ResponseMetrics(completion_tokens=9, reasoning_tokens=7),
     "parsed": {"city": "Paris"}, "refusal": "no",
     "tool_calls": (ToolCall(id="c1", name="f", arguments={"x": 1}, result="2"),),
     "token_logprobs": (TokenLogprob(token="Pa", logprob=-0.1, top=(("Pa", -0.1), ("Lo", -2.5))),),
     "images": (ImageRef(sha256="ab" * 32, media_type="image/png"),)},
    {"timestamp": datetime(2024, 1, 2, 3, 4, 5, 123456)},  # naive: taken as UTC
    {"timestamp": datetime(2024, 6, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5)))},
    {"request_body": {"model": "x", "nested": {"1": [1.5, None, True]}}, "base_url": None,
     "cache_key": None},
    {"prompt": "emoji 😀", "system": None, "repeat": 3},
    {"request_body": {}, "messages": (), "response": "ü"},
    {"parameters": ModelParameters(stop=()), "metrics": ResponseMetrics(
        prompt_tokens=1, completion_tokens=2, cached_tokens=1, cost_estimate=0.0)},
]
REFUSED_BY_ORJSON: list[dict[str, Any]] = [
    {"request_body": {"n": {1: "a non-string key"}}},
    {"request_body": {"big": 2**70}},
    {"prompt": "a lone \udc00 surrogate"},
]


def varied(n: int, extra: Sequence[dict[str, Any]] = ()) -> list[Experiment]:
    kinds = itertools.cycle([*VARIATIONS, *extra])
    out = []
    for i in range(n):
        overrides = dict(next(kinds))
        overrides.setdefault("prompt", f"prompt {i}")
        out.append(make_experiment(**overrides))
    return out


def requests_for(experiments: Sequence[Experiment]) -> list[APIRequest]:
    out = [make_request(e) for e in experiments]
    out[1::5] = [make_request(e, status_code=None, error="429", retry_after=1.5, request_id=None)
                 for e in experiments[1::5]]
    out[2::7] = [make_request(e, experiment_id="not-in-this-batch") for e in experiments[2::7]]
    return out


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rows, "utcnow", lambda: NOW)


# -- the same cells --

@pytest.mark.parametrize("n", [0, 1, 12, 2_345])  # 2,345: several chunks, joined
def test_experiments_frame_is_the_row_by_row_mapping(n: int) -> None:
    experiments = varied(n)
    assert_same(rows.experiments_frame(experiments), reference_experiments_frame(experiments))


def test_values_orjson_refuses_are_written_as_before() -> None:
    experiments = varied(30, extra=REFUSED_BY_ORJSON)
    assert_same(rows.experiments_frame(experiments), reference_experiments_frame(experiments))


def test_only_none_columns_keep_their_dtypes() -> None:
    experiments = [make_experiment(parameters=ModelParameters()) for _ in range(5)]
    df = rows.experiments_frame(experiments)
    assert df["temperature"].isna().all() and df["seed"].isna().all()
    assert_same(df, reference_experiments_frame(experiments))


@pytest.mark.usefixtures("frozen_now")
def test_requests_frame_is_the_row_by_row_mapping() -> None:
    experiments = varied(1_500)
    requests = requests_for(experiments)
    for known in (experiments, experiments[:700], []):
        assert_same(rows.requests_frame(requests, known),
                    reference_requests_frame(requests, known))


def test_a_repeated_experiment_id_takes_the_last_instant() -> None:
    e = make_experiment()
    later = e.model_copy(update={"timestamp": NOW})
    df = rows.requests_frame([make_request(e)], [e, later])
    assert df["created_at"].tolist() == [pd.Timestamp(NOW)]


def test_usage_frame_is_the_row_by_row_mapping(frozen_now: None,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    counter = itertools.count()
    monkeypatch.setattr(rows, "new_id", lambda: f"minted-{next(counter)}")
    west = timezone(timedelta(hours=-4))
    given = [
        {"id": "u1", "user_id": "alice", "experiment_id": "e1", "model": "m", "provider": "p",
         "day": date(2023, 5, 6), "prompt_tokens": 3, "completion_tokens": None, "cost": 0.1,
         "created_at": datetime(2024, 1, 1, 23, tzinfo=west)},
        {"user_id": "bob", "cost": None},  # id minted, created now, day from created
        {"day": "2022-01-01", "created_at": datetime(2024, 2, 2, 1, 2, 3)},
        {"day": datetime(2024, 3, 3, 22, tzinfo=west), "prompt_tokens": 7},
    ]
    df = rows.usage_frame(given)
    expected = reference_frame(rows.USAGE_COLUMNS, [
        {**given[0], "day": "2023-05-06", "created_at": datetime(2024, 1, 2, 3, tzinfo=UTC)},
        {**given[1], "id": "minted-0", "day": NOW.date().isoformat(), "created_at": NOW},
        {**given[2], "id": "minted-1", "created_at": datetime(2024, 2, 2, 1, 2, 3, tzinfo=UTC)},
        {**given[3], "id": "minted-2", "day": "2024-03-04", "created_at": NOW},
    ])
    assert_same(df, expected)


def test_usage_frame_names_unknown_fields() -> None:
    with pytest.raises(InvalidInput, match=r"no field\(s\) aaa, zzz; the fields are id, "):
        rows.usage_frame([{"user_id": "u"}, {"zzz": 1, "aaa": 2}])


def test_a_message_is_written_as_its_as_dict() -> None:
    """messages_texts has orjson read a Message's __dict__: it must be what as_dict says."""
    message = Message(role="user", content="hi")
    assert vars(message) == message.as_dict()


def test_the_garbage_collector_is_back_on_afterwards() -> None:
    assert gc.isenabled()
    rows.experiments_frame(varied(3))
    with pytest.raises(InvalidInput):
        rows.usage_frame([{"bogus": 1}])
    assert gc.isenabled()


"""Builders of realistic domain objects for tests: every field set, overridable by keyword."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from nbplayground.domain import (
    APIRequest,
    ChatRequest,
    Experiment,
    ModelParameters,
    ResponseMetrics,
    as_messages,
)
from nbplayground.ids import new_id

T0 = datetime(2025, 3, 14, 15, 9, 26, 535897, tzinfo=UTC)
_tick = itertools.count()


def make_experiment(*, prompt: str = "Write a haiku about DuckDB.",
                    system: str | None = "You are a terse poet.", **overrides: Any) -> Experiment:
    """A successful gpt-4o-mini run; timestamps increase by 1 ms per call unless given."""
    messages = overrides.pop("messages", None) or as_messages(prompt, system)
    parameters = overrides.pop("parameters", None) or ModelParameters(
        temperature=0.7, max_tokens=256, top_p=1.0, frequency_penalty=0.0,
        presence_penalty=0.25, stop=("\n\n\n",), seed=42)
    model = overrides.pop("model", "gpt-4o-mini")
    repeat = overrides.pop("repeat", 0)
    body = ChatRequest(model=model, messages=messages, parameters=parameters,
                       repeat=repeat).body()
    fields: dict[str, Any] = {
        "id": new_id(),
        "user_id": "alice",
        "model": model,
        "provider": "openai",
        "messages": messages,
        "parameters": parameters,
        "response": "Ducks in a column\nquacking through a billion rows\nanswers in a blink",
        "metrics": ResponseMetrics(prompt_tokens=27, completion_tokens=19, cached_tokens=0,
                                   generation_time_ms=412.5, cost_estimate=0.00001545),
        "finish_reason": "stop",
        "timestamp": T0 + timedelta(milliseconds=next(_tick)),
        "repeat": repeat,
        "base_url": "https://api.openai.com/v1",
        "cache_key": f"ck-{model}-{prompt}-{repeat}",
        "request_body": body,
    }
    fields.update(overrides)
    return Experiment(**fields)


def make_request(experiment: Experiment, **overrides: Any) -> APIRequest:
    fields: dict[str, Any] = {
        "experiment_id": experiment.id, "user_id": experiment.user_id,
        "model": experiment.model, "provider": experiment.provider, "attempt": 0,
        "status_code": 200, "latency_ms": 401.25, "request_id": f"req_{new_id()[:12]}",
    }
    fields.update(overrides)
    return APIRequest(**fields)

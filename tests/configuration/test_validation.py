"""Parameter validation per model: ranges, what each model accepts, messages that say what to do."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nbplayground.configuration import lookup, resolve_parameters
from nbplayground.configuration.validation import RANGES
from nbplayground.errors import InvalidParameter

CHAT = ["gpt-4o-mini", "gpt-4.1-nano", "gpt-4", "smollm2", "some-ollama-model"]


@given(name=st.sampled_from(sorted(RANGES)), model=st.sampled_from(CHAT),
       value=st.floats(allow_nan=True, allow_infinity=True))
def test_ranges_accept_inside_and_refuse_outside_naming_everything(
        name: str, model: str, value: float) -> None:
    lo, hi = RANGES[name]
    spec = lookup(model)
    if lo <= value <= hi:
        assert getattr(resolve_parameters(spec, **{name: value}), name) == value
    else:
        with pytest.raises(InvalidParameter) as info:
            resolve_parameters(spec, **{name: value})
        text = str(info.value)
        assert info.value.parameter == name
        assert name in text and f"{lo:g}" in text and f"{hi:g}" in text and model in text
        assert math.isnan(value) or repr(value) in text


@given(model=st.sampled_from(CHAT), value=st.integers(-10, 2_000_000))
def test_max_tokens_must_fit_the_models_output_limit(model: str, value: int) -> None:
    spec = lookup(model)
    if 1 <= value <= spec.max_output_tokens:
        assert resolve_parameters(spec, max_tokens=value).max_tokens == value
    else:
        with pytest.raises(InvalidParameter, match=f"between 1 and {spec.max_output_tokens}"):
            resolve_parameters(spec, max_tokens=value)


@given(model=st.sampled_from(["o3", "o4-mini", "gpt-5", "gpt-5-mini", "o3-2025-04-16"]),
       name=st.sampled_from(["temperature", "top_p", "frequency_penalty", "presence_penalty",
                             "stop"]))
def test_reasoning_models_refuse_sampling_parameters(model: str, name: str) -> None:
    value = ["\n"] if name == "stop" else 0.5
    with pytest.raises(InvalidParameter, match=f"does not accept {name}"):
        resolve_parameters(lookup(model), **{name: value})


def test_defaults_are_the_playgrounds_and_reasoning_models_get_none_of_them() -> None:
    chat = resolve_parameters(lookup("gpt-4o-mini"))
    assert (chat.temperature, chat.max_tokens, chat.top_p) == (1.0, 256, 1.0)
    reasoning = resolve_parameters(lookup("o4-mini"), reasoning_effort="high")
    assert reasoning.temperature is None and reasoning.max_tokens is None
    assert reasoning.reasoning_effort == "high"


def test_dated_snapshots_inherit_their_family() -> None:
    assert lookup("gpt-4o-mini-2024-07-18").max_output_tokens == 16_384
    assert lookup("o3-2025-04-16").reasoning
    assert not lookup("llama3.2:1b").known

"""Parameter validation per model: ranges, what each model accepts, messages that say what to do."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nbplayground.configuration import lookup, resolve_parameters
from nbplayground.domain.fields import FIELDS
from nbplayground.errors import InvalidParameter

RANGES = {f.name: f.range for f in FIELDS if f.kind == "number"}
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
        assert name in text and f"{lo:g} and {hi:g}" in text and model in text
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


@pytest.mark.parametrize(("name", "value"), [
    ("tools", [{"name": "f", "parameters": {}}]), ("reasoning_effort", "low"),
    ("verbosity", "low")])
def test_the_local_model_refuses_openais_own_fields_saying_why(name: str, value: Any) -> None:
    with pytest.raises(InvalidParameter, match=rf"smollm2 does not accept {name}: the local "
                                               r"model \(llama.cpp\) takes no") as caught:
        resolve_parameters(lookup("smollm2"), **{name: value})
    assert "reasoning" not in str(caught.value).replace("reasoning_effort", "")


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


@pytest.mark.parametrize(("model", "family"), [
    ("gpt-5.5", "reasoning"), ("gpt-5.1", "reasoning"), ("gpt-5.2-2025-12-11", "reasoning"),
    ("gpt-5-mini-2025-08-07", "reasoning"), ("o4-mini-2025-04-16", "reasoning"),
    ("o1", "reasoning"), ("o3-pro", "reasoning"), ("gpt-5-codex", "reasoning"),
    ("gpt-4.1-2025-04-14", "chat"), ("gpt-4.1-mini-2025-04-14", "chat"), ("gpt-4o", "chat"),
    ("gpt-4o-2024-08-06", "chat"), ("chatgpt-4o-latest", "chat"), ("gpt-5-chat-latest", "chat"),
    ("gpt-3.5-turbo-0125", "chat"), ("gpt-4-0613", "chat"), ("smollm2", "local"),
    ("llama3.2:1b", "unknown"), ("gpt-oss-20b", "unknown"), ("o", "unknown"),
])
def test_families_are_recognised_by_name(model: str, family: str) -> None:
    assert lookup(model).family == family


def test_responses_only_models_are_marked() -> None:
    assert [m for m in ("o1-pro", "o3-pro", "gpt-5-pro", "gpt-5.1-codex", "codex-mini-latest",
                        "gpt-5", "o3", "gpt-4.1") if lookup(m).responses_only] == [
        "o1-pro", "o3-pro", "gpt-5-pro", "gpt-5.1-codex", "codex-mini-latest"]


def test_a_new_point_release_takes_no_sampling_and_says_why() -> None:
    spec = lookup("gpt-5.5")
    params = resolve_parameters(spec, max_tokens=16)
    assert params.sent() == {"max_tokens": 16}
    assert spec.max_tokens_name == "max_completion_tokens"
    with pytest.raises(InvalidParameter, match=r"gpt-5.5 does not accept temperature: it is a "
                                               "reasoning model"):
        resolve_parameters(spec, temperature=0.2)
    assert resolve_parameters(spec, reasoning_effort="low").reasoning_effort == "low"


def test_an_unknown_model_runs_with_permissive_defaults() -> None:
    spec = lookup("llama3.2:1b")
    params = resolve_parameters(spec, reasoning_effort="low", stop="\n", seed=3)
    assert (params.temperature, params.max_tokens, params.reasoning_effort, params.stop) == (
        1.0, 256, "low", ("\n",))


def test_every_field_is_checked_by_its_kind() -> None:
    spec = lookup("gpt-4o-mini")
    for f in FIELDS:
        bad = {"number": "hot", "integer": 1.5, "strings": [""], "choice": "extreme",
               "toggle": "yes", "json": 42}[f.kind]
        with pytest.raises(InvalidParameter) as info:
            resolve_parameters(lookup("llama3.2:1b") if f.kind == "choice" else spec,
                               **{f.name: bad})
        assert info.value.parameter == f.name and f.name in str(info.value)

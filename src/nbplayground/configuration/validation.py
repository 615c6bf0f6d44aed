"""Turn what a user typed into ModelParameters a model accepts, or say exactly what to change."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from nbplayground.configuration.catalog import ModelSpec
from nbplayground.domain.parameters import PARAMETER_NAMES, ModelParameters
from nbplayground.errors import InvalidParameter

DEFAULTS: dict[str, Any] = {
    "temperature": 1.0,
    "max_tokens": 256,
    "top_p": 1.0,
    "frequency_penalty": 0.0,
    "presence_penalty": 0.0,
}
RANGES: dict[str, tuple[float, float]] = {
    "temperature": (0.0, 2.0),
    "top_p": (0.0, 1.0),
    "frequency_penalty": (-2.0, 2.0),
    "presence_penalty": (-2.0, 2.0),
}
EFFORTS = ("minimal", "low", "medium", "high")
MAX_STOP = 4


def _number(name: str, value: Any, model: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidParameter(
            f"{name} must be a number, not {type(value).__name__} {value!r}",
            parameter=name, value=value)
    lo, hi = RANGES[name]
    if not lo <= float(value) <= hi:  # NaN fails this too
        raise InvalidParameter(
            f"{name} must be between {lo:g} and {hi:g} for {model}, not {value!r}",
            parameter=name, value=value)
    return float(value)


def _max_tokens(value: Any, spec: ModelSpec) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameter(
            f"max_tokens must be a whole number, not {type(value).__name__} {value!r}",
            parameter="max_tokens", value=value)
    if not 1 <= value <= spec.max_output_tokens:
        raise InvalidParameter(
            f"max_tokens must be between 1 and {spec.max_output_tokens} for {spec.name}, "
            f"not {value}", parameter="max_tokens", value=value)
    return value


def _stop(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    seq = (value,) if isinstance(value, str) else value
    if not isinstance(seq, list | tuple) or not all(isinstance(s, str) and s for s in seq):
        raise InvalidParameter(
            f"stop must be a non-empty string or a list of them, not {value!r}",
            parameter="stop", value=value)
    if len(seq) > MAX_STOP:
        raise InvalidParameter(f"stop takes at most {MAX_STOP} sequences, not {len(seq)}",
                               parameter="stop", value=value)
    return tuple(seq) or None


def require_known(names: Iterable[str]) -> None:
    """Refuse a misspelt parameter (temperatur=...) instead of silently dropping it."""
    unknown = sorted(set(names) - set(PARAMETER_NAMES))
    if unknown:
        raise InvalidParameter(
            f"unknown parameter {unknown[0]!r}; the parameters are {', '.join(PARAMETER_NAMES)}",
            parameter=unknown[0])


def resolve_parameters(spec: ModelSpec, **given: Any) -> ModelParameters:
    """Validate `given` (None = the model's default) against the model; raise InvalidParameter."""
    require_known(given)
    out: dict[str, Any] = {}
    for name in PARAMETER_NAMES:
        value = given.get(name)
        if value is None:
            # A reasoning model's answer budget also pays for its reasoning: 256 would often
            # leave nothing to say, so by default no limit is sent (the API's own default).
            if name in spec.accepts and name in DEFAULTS and not spec.reasoning:
                out[name] = DEFAULTS[name]
            continue
        if name not in spec.accepts:
            why = ("a reasoning model; it takes max_tokens, seed and reasoning_effort"
                   if spec.reasoning else f"it takes {', '.join(sorted(spec.accepts))}")
            raise InvalidParameter(
                f"{spec.name} does not accept {name} ({why}); leave {name} out",
                parameter=name, value=value)
        if name in RANGES:
            out[name] = _number(name, value, spec.name)
        elif name == "max_tokens":
            out[name] = _max_tokens(value, spec)
        elif name == "stop":
            out[name] = _stop(value)
        elif name == "seed":
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidParameter(f"seed must be a whole number, not {value!r}",
                                       parameter="seed", value=value)
            out[name] = value
        elif name == "reasoning_effort":
            if value not in EFFORTS:
                raise InvalidParameter(
                    f"reasoning_effort must be one of {', '.join(EFFORTS)}, not {value!r}",
                    parameter=name, value=value)
            out[name] = value
    try:
        return ModelParameters(**out)
    except ValidationError as e:  # pragma: no cover - the checks above are stricter
        raise InvalidParameter(str(e), parameter="parameters") from None

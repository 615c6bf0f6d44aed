"""Turn what a user typed into ModelParameters a model accepts, or say exactly what to change.

Every check is read off the field table (nbplayground.domain.fields): kind, range, choices.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from nbplayground.configuration.catalog import ModelSpec
from nbplayground.domain.fields import FIELDS, PARAMETER_NAMES, RequestField
from nbplayground.domain.parameters import ModelParameters
from nbplayground.errors import InvalidParameter

DEFAULTS: dict[str, Any] = {f.name: f.default for f in FIELDS if f.default is not None}


def _bounds(f: RequestField, spec: ModelSpec) -> tuple[float, float]:
    assert f.range is not None
    lo, hi = f.range
    return lo, float(spec.max_output_tokens) if hi is None else hi


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _number(f: RequestField, value: Any, spec: ModelSpec) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidParameter(
            f"{f.name} must be a number, not {type(value).__name__} {value!r}",
            parameter=f.name, value=value)
    lo, hi = _bounds(f, spec)
    if not lo <= float(value) <= hi:  # NaN fails this too
        raise InvalidParameter(
            f"{f.name} must be between {_fmt(lo)} and {_fmt(hi)} for {spec.name}, not {value!r}",
            parameter=f.name, value=value)
    return float(value)


def _integer(f: RequestField, value: Any, spec: ModelSpec) -> int:
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)  # 256.0 from a slider or JSON means 256
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameter(
            f"{f.name} must be a whole number, not {type(value).__name__} {value!r}",
            parameter=f.name, value=value)
    if f.range is not None:
        lo, hi = _bounds(f, spec)
        if not lo <= value <= hi:
            raise InvalidParameter(
                f"{f.name} must be between {_fmt(lo)} and {_fmt(hi)} for {spec.name}, not {value}",
                parameter=f.name, value=value)
    return value


def _strings(f: RequestField, value: Any) -> tuple[str, ...] | None:
    seq = (value,) if isinstance(value, str) else value
    if not isinstance(seq, list | tuple) or not all(isinstance(s, str) and s for s in seq):
        raise InvalidParameter(
            f"{f.name} must be a non-empty string or a list of them, not {value!r}",
            parameter=f.name, value=value)
    if f.max_items is not None and len(seq) > f.max_items:
        raise InvalidParameter(
            f"{f.name} takes at most {f.max_items} sequences, not {len(seq)}",
            parameter=f.name, value=value)
    return tuple(seq) or None


def _choice(f: RequestField, value: Any) -> str:
    if value not in f.choices:
        raise InvalidParameter(
            f"{f.name} must be one of {', '.join(f.choices)}, not {value!r}",
            parameter=f.name, value=value)
    return str(value)


def check_field(f: RequestField, value: Any, spec: ModelSpec) -> Any:
    """One value checked against its field and the model's limits."""
    if f.kind == "number":
        return _number(f, value, spec)
    if f.kind == "integer":
        return _integer(f, value, spec)
    if f.kind == "strings":
        return _strings(f, value)
    return _choice(f, value)


def refusal(f: RequestField, spec: ModelSpec) -> str:
    """Why `spec` does not take `f`, in words a person acts on."""
    if spec.reasoning:
        takes = ", ".join(sorted(spec.accepts))
        return f"{spec.name} does not accept {f.name}: it is a reasoning model, which takes {takes}"
    if "reasoning" in f.families:
        return f"{spec.name} does not accept {f.name}: it is not a reasoning model " \
               f"({f.name} applies to o-series and GPT-5 models)"
    return f"{spec.name} does not accept {f.name}"


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
    accepts = spec.accepts
    out: dict[str, Any] = {}
    for f in FIELDS:
        value = given.get(f.name)
        if value is None:
            # A reasoning model's answer budget also pays for its reasoning: 256 would often
            # leave nothing to say, so by default no limit is sent (the API's own default).
            if f.default is not None and f.name in accepts and not spec.reasoning:
                out[f.name] = f.default
            continue
        if f.name not in accepts:
            raise InvalidParameter(f"{refusal(f, spec)}; leave {f.name} out",
                                   parameter=f.name, value=value)
        out[f.name] = check_field(f, value, spec)
    try:
        return ModelParameters(**out)
    except ValidationError as e:  # pragma: no cover - the checks above are stricter
        raise InvalidParameter(str(e), parameter="parameters") from None

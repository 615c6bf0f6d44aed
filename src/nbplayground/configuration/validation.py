"""Turn what a user typed into ModelParameters a model accepts, or say exactly what to change.

Every check is read off the field table (nbplayground.domain.fields): kind, range, choices.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, cast

from pydantic import ValidationError

from nbplayground.configuration.catalog import ModelSpec
from nbplayground.configuration.structured import response_format_of, tools_of
from nbplayground.domain.fields import BY_NAME, FIELDS, PARAMETER_NAMES, Api, RequestField
from nbplayground.domain.parameters import ModelParameters
from nbplayground.errors import InvalidParameter

CELL_OPTIONS = ("images", "run_tools", "max_tool_rounds", "flex_fallback")
"""What a run takes besides request fields: its images, how its tools run, and whether a flex
request refused for want of capacity is sent again at the default tier."""
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


def _toggle(f: RequestField, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidParameter(f"{f.name} must be True or False, not {value!r}",
                               parameter=f.name, value=value)
    return value


def _json(f: RequestField, value: Any) -> Any:
    if f.shape == "response_format":
        return response_format_of(value)[0]
    if f.shape == "tools":
        return tools_of(value)[0]
    return value


def check_field(f: RequestField, value: Any, spec: ModelSpec) -> Any:
    """One value checked against its field and the model's limits."""
    if f.kind == "number":
        return _number(f, value, spec)
    if f.kind == "integer":
        return _integer(f, value, spec)
    if f.kind == "strings":
        return _strings(f, value)
    if f.kind == "toggle":
        return _toggle(f, value)
    if f.kind == "json":
        return _json(f, value)
    if f.shape == "tool_choice" and isinstance(value, str) and value not in f.choices:
        return value  # a tool's name: checked against the tools once all fields are read
    return _choice(f, value)


def _api(spec: ModelSpec, given: Any) -> Api:
    """auto: the Responses API only for the models that only it serves."""
    if given in (None, "auto"):
        return "responses" if spec.responses_only else "chat"
    if given == "chat" and spec.responses_only:
        raise InvalidParameter(f"{spec.name} is served only by the Responses API; use "
                               "api='responses' or api='auto'", parameter="api", value=given)
    return cast(Api, given)


def _together(out: dict[str, Any], api: Api) -> None:
    """Checks that span fields: a tool_choice names a tool; top_logprobs needs logprobs."""
    choice = out.get("tool_choice")
    if choice is not None and choice not in BY_NAME["tool_choice"].choices:
        names = [t["name"] for t in out.get("tools") or ()]
        if choice not in names:
            raise InvalidParameter(
                f"tool_choice must be auto, none, required or the name of one of the tools "
                f"({', '.join(names) or 'no tools given'}), not {choice!r}",
                parameter="tool_choice", value=choice)
    if out.get("top_logprobs") and not out.get("logprobs"):
        raise InvalidParameter("top_logprobs needs logprobs=True", parameter="top_logprobs",
                               value=out["top_logprobs"])


def refusal(f: RequestField, spec: ModelSpec) -> str:
    """Why `spec` does not take `f`, in words a person acts on."""
    if spec.reasoning:
        takes = ", ".join(sorted(spec.accepts))
        return f"{spec.name} does not accept {f.name}: it is a reasoning model, which takes {takes}"
    if spec.family == "local":  # tools, reasoning fields: OpenAI's, not llama.cpp's
        return f"{spec.name} does not accept {f.name}: the local model (llama.cpp) takes no " \
               f"{f.name}; use an OpenAI model for it"
    if "reasoning" in f.families:
        return f"{spec.name} does not accept {f.name}: it is not a reasoning model " \
               f"({f.name} applies to o-series and GPT-5 models)"
    return f"{spec.name} does not accept {f.name}"


def require_known(names: Iterable[str]) -> None:
    """Refuse a misspelt parameter (temperatur=...) instead of silently dropping it."""
    unknown = sorted(set(names) - set(PARAMETER_NAMES) - set(CELL_OPTIONS))
    if unknown:
        raise InvalidParameter(
            f"unknown parameter {unknown[0]!r}; the parameters are {', '.join(PARAMETER_NAMES)}",
            parameter=unknown[0])


_RESOLVED: dict[tuple[Any, ...], ModelParameters] = {}
"""resolve_parameters' answers for hashable arguments: a sweep's cells mostly share them (the
frozen result is shared too). Bounded: cleared when full."""


def resolve_parameters(spec: ModelSpec, **given: Any) -> ModelParameters:
    """Validate `given` (None = the model's default) against the model; raise InvalidParameter."""
    try:
        key = (spec, *sorted((k, type(v).__name__, v) for k, v in given.items()))  # 1 ≠ True
        found = _RESOLVED.get(key)
    except TypeError:  # a list or dict among the values (stop=[...], tools=[...])
        return _resolve(spec, **given)
    if found is None:
        if len(_RESOLVED) >= 1024:
            _RESOLVED.clear()
        found = _RESOLVED[key] = _resolve(spec, **given)
    return found


def _resolve(spec: ModelSpec, **given: Any) -> ModelParameters:
    require_known(given)
    accepts = spec.accepts
    if given.get("api") is not None:
        check_field(BY_NAME["api"], given["api"], spec)
    api = _api(spec, given.get("api"))
    out: dict[str, Any] = {"api": api}
    for f in FIELDS:
        value = given.get(f.name)
        if f.name == "api":
            continue
        if value is None:
            # A reasoning model's answer budget also pays for its reasoning: 256 would often
            # leave nothing to say, so by default no limit is sent (the API's own default).
            if f.default is not None and f.name in accepts and not spec.reasoning \
                    and api in f.apis:
                out[f.name] = f.default
            continue
        if f.name not in accepts:
            raise InvalidParameter(f"{refusal(f, spec)}; leave {f.name} out",
                                   parameter=f.name, value=value)
        if api not in f.apis:
            other = "chat" if api == "responses" else "responses"
            raise InvalidParameter(
                f"the {'Responses API' if api == 'responses' else 'Chat Completions API'} "
                f"does not take {f.name}; use api={other!r} or leave {f.name} out",
                parameter=f.name, value=value)
        out[f.name] = check_field(f, value, spec)
    _together(out, api)
    try:
        return ModelParameters(**out)
    except ValidationError as e:  # pragma: no cover - the checks above are stricter
        raise InvalidParameter(str(e), parameter="parameters") from None

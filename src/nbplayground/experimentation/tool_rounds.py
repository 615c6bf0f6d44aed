"""Calling the user's functions with the model's arguments, between rounds of a tool loop.

Only functions the user passed can be called; arguments are checked against the tool's schema
first; a function that raises becomes an error result the model reads, not a crashed sweep.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from nbplayground.domain import ToolCall


def _result_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if hasattr(value, "model_dump_json"):
        return str(value.model_dump_json())
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def _check(call: ToolCall, schema: Mapping[str, Any] | None) -> str | None:
    if schema is None:
        return None
    import jsonschema

    try:
        jsonschema.validate(call.arguments, dict(schema))
    except jsonschema.ValidationError as e:
        return f"invalid arguments for {call.name}: {e.message}"
    return None


async def call_tool(call: ToolCall, functions: Mapping[str, Callable[..., Any]],
                    schemas: Mapping[str, Mapping[str, Any]]) -> ToolCall:
    """The call with its result or error filled in."""
    if call.error is not None:
        return call
    fn = functions.get(call.name)
    if fn is None:
        known = ", ".join(sorted(functions)) or "none"
        return call.model_copy(update={"error": f"there is no callable tool {call.name!r} "
                                                 f"(callable: {known})"})
    problem = _check(call, schemas.get(call.name))
    if problem is not None:
        return call.model_copy(update={"error": problem})
    try:
        if inspect.iscoroutinefunction(fn):
            value = await fn(**call.arguments)
        else:  # a plain function may block: keep the event loop (and the sweep) moving
            value = await asyncio.to_thread(fn, **call.arguments)
    except Exception as e:
        return call.model_copy(update={"error": f"{type(e).__name__}: {e}"})
    return call.model_copy(update={"result": _result_text(value)})


async def call_tools(calls: Sequence[ToolCall], functions: Mapping[str, Callable[..., Any]],
                     schemas: Mapping[str, Mapping[str, Any]]) -> list[ToolCall]:
    return list(await asyncio.gather(*(call_tool(c, functions, schemas) for c in calls)))


def sent_back(call: ToolCall) -> str:
    """What the model reads for a call: its result, or the error in words."""
    return call.result if call.result is not None else f"error: {call.error}"

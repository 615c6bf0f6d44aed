"""Values that change form between the log and each API's body: tools, formats, logprobs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nbplayground.domain.fields import Api

Place = tuple[tuple[str, ...], Any]


def _response_format(value: dict[str, Any], api: Api) -> Place:
    if api == "responses" or value.get("type") != "json_schema":
        return (("text", "format") if api == "responses" else ("response_format",)), value
    inner = {k: v for k, v in value.items() if k != "type"}
    return ("response_format",), {"type": "json_schema", "json_schema": inner}


def _tools(value: list[dict[str, Any]], api: Api) -> Place:
    if api == "responses":
        return ("tools",), [{"type": "function", **t} for t in value]
    return ("tools",), [{"type": "function", "function": t} for t in value]


def _tool_choice(value: str, api: Api) -> Place:
    if value in ("auto", "none", "required"):
        return ("tool_choice",), value
    if api == "responses":
        return ("tool_choice",), {"type": "function", "name": value}
    return ("tool_choice",), {"type": "function", "function": {"name": value}}


def _include_logprobs(value: bool, api: Api) -> Place:
    if api == "responses":
        return ("include",), ["message.output_text.logprobs"] if value else []
    return ("logprobs",), value


SHAPES: dict[str, Callable[[Any, Api], Place]] = {
    "response_format": _response_format, "tools": _tools, "tool_choice": _tool_choice,
    "include_logprobs": _include_logprobs,
}


def tool_round(api: Api, text: str, calls: list[dict[str, Any]], results: list[str]
               ) -> tuple[dict[str, Any], ...]:
    """The wire items that carry a round of tool calls and their results back to the model."""
    if api == "responses":
        items: list[dict[str, Any]] = []
        for call, result in zip(calls, results, strict=True):
            items.append({"type": "function_call", "call_id": call["id"], "name": call["name"],
                          "arguments": call["arguments"]})
            items.append({"type": "function_call_output", "call_id": call["id"],
                          "output": result})
        return tuple(items)
    assistant = {"role": "assistant", "content": text or None, "tool_calls": [
        {"id": c["id"], "type": "function",
         "function": {"name": c["name"], "arguments": c["arguments"]}} for c in calls]}
    return (assistant, *({"role": "tool", "tool_call_id": c["id"], "content": r}
                         for c, r in zip(calls, results, strict=True)))

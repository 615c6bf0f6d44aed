"""Tool turns of a conversation's history: an assistant turn that called functions and the tool
turns answering it, read from Chat's and the Responses API's spellings, and each API's wire."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from nbplayground.domain.messages import Message

__all__ = ["ToolCallsMessage", "ToolResultMessage", "is_tool_turn", "merge_calls",
           "tool_message", "tool_turn"]


def _text(value: Any, what: str) -> str:
    """Text, or a list of text parts (input_text / output_text / text) joined."""
    if isinstance(value, str):
        return value
    parts = value if isinstance(value, list) else [value]
    if parts and all(isinstance(p, Mapping) and isinstance(p.get("text"), str) for p in parts):
        return "\n".join(p["text"] for p in parts)
    raise ValueError(f"{what}: must be text (or text parts), not {str(value)[:60]!r}")


def _id(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what}: must be the call's id (e.g. 'call_abc123'), not {value!r}")
    return value


def _arguments(value: Any, what: str) -> str:
    """A call's arguments as the JSON text the APIs carry (a dict is written as JSON)."""
    if isinstance(value, Mapping):
        return json.dumps(value, ensure_ascii=False)
    if not isinstance(value, str):
        raise ValueError(f"{what}: must be the arguments' JSON text, not {value!r}")
    return value


def _call(raw: Any, where: str) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: a tool call is {{'id', 'type': 'function', 'function': "
                         f"{{'name', 'arguments'}}}}, not {type(raw).__name__}")
    fn = raw.get("function", raw)  # Chat nests the function; accept it flat too
    if not isinstance(fn, Mapping) or not isinstance(fn.get("name"), str) or not fn["name"]:
        raise ValueError(f"{where}.function.name: a tool call names its function")
    return {"id": _id(raw.get("id", raw.get("call_id")), f"{where}.id"), "name": fn["name"],
            "arguments": _arguments(fn.get("arguments", "{}"), f"{where}.function.arguments")}


def is_tool_turn(raw: Mapping[str, Any]) -> bool:
    """Whether `raw` is a tool turn in any API's spelling."""
    return raw.get("role") == "tool" or bool(raw.get("tool_calls")) or raw.get("type") in (
        "function_call", "function_call_output")


def tool_turn(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A tool turn as {"role": "assistant", "content", "tool_calls": [{id, name, arguments}]}
    or {"role": "tool", "tool_call_id", "content"}; ValueError names what is wrong."""
    kind = raw.get("type")
    if kind == "function_call":  # Responses: one call per item (merge_calls joins them)
        return {"role": "assistant", "content": "", "tool_calls": [_call(raw, where)],
                "_item": True}
    if kind == "function_call_output":
        return {"role": "tool", "tool_call_id": _id(raw.get("call_id"), f"{where}.call_id"),
                "content": _text(raw.get("output"), f"{where}.output")}
    if raw.get("role") == "tool":
        if raw.get("content") is None:
            raise ValueError(f"{where}: a tool turn has the function's result as content")
        return {"role": "tool",
                "tool_call_id": _id(raw.get("tool_call_id"), f"{where}.tool_call_id"),
                "content": _text(raw["content"], f"{where}.content")}
    if raw.get("role") != "assistant":
        raise ValueError(f"{where}: tool_calls belong to an assistant turn, not "
                         f"{raw.get('role')!r}")
    calls = raw.get("tool_calls")
    if not isinstance(calls, list):
        raise ValueError(f"{where}.tool_calls: must be a list of calls")
    content = raw.get("content")
    return {"role": "assistant",
            "content": "" if content is None else _text(content, f"{where}.content"),
            "tool_calls": [_call(c, f"{where}.tool_calls[{i}]") for i, c in enumerate(calls)]}


def merge_calls(turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive Responses function_call items as one assistant turn of calls (Chat's
    shape), so both APIs get the calls of one turn together."""
    out: list[dict[str, Any]] = []
    joinable = False  # the last turn is made of function_call items
    for t in turns:
        item = bool(t.pop("_item", False))
        if item and joinable:
            out[-1] = {**out[-1], "tool_calls": [*out[-1]["tool_calls"], *t["tool_calls"]]}
        else:
            out.append(t)
        joinable = item
    return out


def tool_message(turn: Mapping[str, Any]) -> Message:
    """The message of a canonical tool turn."""
    if turn["role"] == "tool":
        return ToolResultMessage(content=turn["content"], tool_call_id=turn["tool_call_id"])
    return ToolCallsMessage(role="assistant", content=turn["content"],
                            tool_calls=tuple(dict(c) for c in turn["tool_calls"]))


class ToolCallsMessage(Message):
    """An assistant turn of a conversation's history that called functions."""

    tool_calls: tuple[dict[str, str], ...]
    """Each call: id, name, arguments (JSON text)."""

    def as_dict(self) -> dict[str, Any]:
        return {"role": self.role, "content": self.content,
                "tool_calls": [dict(c) for c in self.tool_calls]}

    def wire(self, api: str) -> dict[str, Any]:
        return {"role": "assistant", "content": self.content or None, "tool_calls": [
            {"id": c["id"], "type": "function",
             "function": {"name": c["name"], "arguments": c["arguments"]}}
            for c in self.tool_calls]}

    def wire_items(self, api: str) -> list[dict[str, Any]]:
        if api != "responses":
            return [self.wire(api)]
        said = [{"role": "assistant", "content": self.content}] if self.content else []
        return said + [{"type": "function_call", "call_id": c["id"], "name": c["name"],
                        "arguments": c["arguments"]} for c in self.tool_calls]


class ToolResultMessage(Message):
    """A tool turn: the result of the call `tool_call_id`, as the model read it."""

    role: Literal["tool"] = "tool"  # type: ignore[assignment]
    tool_call_id: str

    def as_dict(self) -> dict[str, Any]:
        return {"role": "tool", "tool_call_id": self.tool_call_id, "content": self.content}

    def wire(self, api: str) -> dict[str, Any]:
        return self.as_dict()

    def wire_items(self, api: str) -> list[dict[str, Any]]:
        if api != "responses":
            return [self.wire(api)]
        return [{"type": "function_call_output", "call_id": self.tool_call_id,
                 "output": self.content}]

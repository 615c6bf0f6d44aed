"""What the loopback stub answers, for both APIs: text, tool calls, JSON from a schema, logprobs.

Conventions (deterministic, so tests can predict every byte):

* The conversation is read from chat ``messages`` or Responses ``input`` (a string, or message
  items, ``function_call`` and ``function_call_output`` items) plus ``instructions``.
* Tools: when ``tools`` are given and ``tool_choice`` is not "none", the model calls the tool that
  ``tool_choice`` names, or every tool whose name the last user message mentions, or (for
  ``tool_choice="required"``) the first tool; never when the conversation ends with a tool result.
  Arguments are an example of the tool's ``parameters`` schema. After a tool result, the answer is
  ``"Tool result: " + <the results, joined by "; ">``.
* A JSON schema (chat ``response_format`` json_schema, Responses ``text.format``) is answered
  with an example instance (see ``example``); ``json_object`` with ``{"answer": <echo>}``.
* Reasoning models (o1/o3/o4…, gpt-5 but not gpt-5-chat) spend ``reasoning_tokens`` scaled by
  the effort (none/minimal 0, low ½, medium 1, high 2, xhigh 4); they count toward the output
  limit first, then the visible answer gets what is left.
* Logprobs: one entry per stream piece; the piece itself has logprob ``-0.05 * (1 + i % 7)`` and
  its alternatives are filler words, each 1.0 less likely than the one before.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

FILLER = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa")
REASONING_MODEL = re.compile(r"^(o\d|gpt-5(\.\d+)?(?!\S*-chat))")
EFFORT_SCALE = {"none": 0.0, "minimal": 0.0, "low": 0.5, "medium": 1.0, "high": 2.0,
                "xhigh": 4.0}
LOGPROBS_INCLUDE = "message.output_text.logprobs"


@dataclass
class Turn:
    """One entry of the conversation, whichever API it came in on."""

    role: str  # system | developer | user | assistant | tool
    text: str


@dataclass
class Plan:
    """What the model will say: visible text (already cut), tool calls, refusal and usage."""

    text: str = ""
    calls: list[dict[str, str]] = field(default_factory=list)  # name, arguments, call_id
    refusal: str | None = None
    reasoning: int = 0
    truncated: bool = False
    prompt: int = 0
    cached: int = 0

    @property
    def output_tokens(self) -> int:
        visible = len((self.refusal or self.text).split())
        return visible + self.reasoning + sum(len(c["arguments"].split()) for c in self.calls)


def text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def conversation(body: dict[str, Any]) -> list[Turn]:
    """The turns of a chat or Responses body, tool results included."""
    turns: list[Turn] = []
    if isinstance(body.get("instructions"), str):
        turns.append(Turn("developer", body["instructions"]))
    if "messages" in body:
        for m in body.get("messages") or []:
            if isinstance(m, dict):
                turns.append(Turn(str(m.get("role")), text_of(m.get("content"))))
        return turns
    items = body.get("input")
    if isinstance(items, str):
        return [*turns, Turn("user", items)]
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        kind = item.get("type", "message")
        if kind == "function_call_output":
            turns.append(Turn("tool", text_of(item.get("output"))))
        elif kind == "function_call":
            turns.append(Turn("assistant", ""))
        elif kind == "message":
            turns.append(Turn(str(item.get("role")), text_of(item.get("content"))))
    return turns


def echo(turns: list[Turn], filler_words: int) -> str:
    users = [t for t in turns if t.role == "user"]
    last = users[-1].text if users else ""
    return " ".join(["Echo:", last, *(list(FILLER) * 99)[:filler_words]])


def _tools(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Function tools as {name, parameters}, from chat's nested or Responses' flat shape."""
    out = []
    for tool in body.get("tools") or []:
        if isinstance(tool, dict) and tool.get("type") == "function":
            fn = tool.get("function", tool)
            out.append({"name": fn.get("name", ""), "parameters": fn.get("parameters") or {}})
    return out


def tool_calls(body: dict[str, Any], turns: list[Turn]) -> list[dict[str, str]]:
    tools = _tools(body)
    choice = body.get("tool_choice", "auto")
    if not tools or choice == "none" or (turns and turns[-1].role == "tool"):
        return []
    if isinstance(choice, dict):  # {"type": "function", "function": {"name"}} or {"name"}
        named = choice.get("function", choice).get("name")
        chosen = [t for t in tools if t["name"] == named]
    else:
        users = [t for t in turns if t.role == "user"]
        last = users[-1].text if users else ""
        chosen = [t for t in tools if t["name"] and t["name"] in last]
        if not chosen and choice == "required":
            chosen = tools[:1]
    return [{"name": t["name"], "call_id": f"call_stub{i}",
             "arguments": json.dumps(example(t["parameters"], t["parameters"]))}
            for i, t in enumerate(chosen)]


def example(schema: Any, root: Any, name: str = "value") -> Any:
    """A deterministic instance of a JSON schema: first enum/const/anyOf branch, every property,
    one array item, "<name> example" strings, 1 for integers, 1.5 for numbers (the middle of
    minimum..maximum when bounded), true."""
    if not isinstance(schema, dict):
        return None
    if "$ref" in schema:
        target: Any = root
        for part in str(schema["$ref"]).removeprefix("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        return example(target, root, name)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            branches = [b for b in schema[key] if b.get("type") != "null"] or schema[key]
            return example(branches[0], root, name)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        return {k: example(v, root, k) for k, v in props.items()}
    if kind == "array":
        return [example(schema.get("items", {}), root, name)]
    if kind in ("integer", "number") and ("minimum" in schema or "maximum" in schema):
        lo = schema.get("minimum", schema.get("maximum", 0) - 1)
        hi = schema.get("maximum", lo + 1)
        return int((lo + hi) // 2) if kind == "integer" else (lo + hi) / 2
    return {"string": f"{name} example", "integer": 1, "number": 1.5, "boolean": True,
            "null": None}.get(kind or "string")


def structured(body: dict[str, Any], answer: str) -> str | None:
    """The JSON text answering a requested format, or None for plain text."""
    fmt = body.get("response_format")
    if fmt is None and isinstance(body.get("text"), dict):
        fmt = body["text"].get("format")
    if not isinstance(fmt, dict):
        return None
    if fmt.get("type") == "json_object":
        return json.dumps({"answer": answer})
    if fmt.get("type") == "json_schema":
        schema = fmt.get("json_schema", fmt).get("schema") or {}
        return json.dumps(example(schema, schema))
    return None


def reasoning_tokens(body: dict[str, Any], per_request: int) -> int:
    if not REASONING_MODEL.match(str(body.get("model", ""))):
        return 0
    effort = body.get("reasoning_effort")
    if isinstance(body.get("reasoning"), dict):
        effort = body["reasoning"].get("effort", effort)
    return int(per_request * EFFORT_SCALE.get(str(effort or "medium"), 1.0))


def output_limit(body: dict[str, Any]) -> int | None:
    for key in ("max_output_tokens", "max_completion_tokens", "max_tokens"):
        if body.get(key) is not None:
            return int(body[key])
    return None


def wants_logprobs(body: dict[str, Any]) -> int | None:
    """The number of alternatives asked for, or None when logprobs are not asked for."""
    if body.get("logprobs") is True or LOGPROBS_INCLUDE in (body.get("include") or []):
        return int(body.get("top_logprobs") or 0)
    return None


def logprobs(pieces: list[str], top: int, *, with_bytes: bool = True) -> list[dict[str, Any]]:
    out = []
    for i, piece in enumerate(pieces):
        lp = -0.05 * (1 + i % 7)
        alts = [(piece, lp)] + [(" " + FILLER[(i + j) % len(FILLER)], lp - j)
                                for j in range(1, top)]
        entry = {"token": piece, "logprob": lp,
                 "top_logprobs": [_lp(t, p, with_bytes) for t, p in alts[:top]]}
        if with_bytes:
            entry["bytes"] = list(piece.encode())
        out.append(entry)
    return out


def _lp(token: str, logprob: float, with_bytes: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"token": token, "logprob": logprob}
    if with_bytes:
        entry["bytes"] = list(token.encode())
    return entry

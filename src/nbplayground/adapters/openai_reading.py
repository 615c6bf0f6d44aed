"""Reading a Chat Completions answer (JSON or the SDK's stream chunks) into one plain Reading.

Tool calls are {"id", "name", "arguments"} (arguments as the JSON text the model wrote), logprobs
{"token", "logprob", "top_logprobs": [{"token", "logprob"}]}: the same shapes on both APIs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from nbplayground.errors import MalformedResponse

Usage = tuple[int, int, int, int]
"""(prompt, completion, cached, reasoning) tokens as the server counted them."""


@dataclass
class Reading:
    """What an answer said, whichever API and however it arrived."""

    text: str = ""
    finish_reason: str | None = None
    model: str | None = None
    usage: Usage | None = None
    refusal: str | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    logprobs: list[dict[str, Any]] | None = None


def get(obj: Any, name: str, default: Any = None) -> Any:
    """A field of a JSON object or of the SDK's model of it."""
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def whole(*numbers: Any) -> bool:
    return all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in numbers)


def logprob(entry: Any) -> dict[str, Any]:
    top = get(entry, "top_logprobs") or []
    return {"token": get(entry, "token"), "logprob": get(entry, "logprob"),
            "top_logprobs": [{"token": get(t, "token"), "logprob": get(t, "logprob")}
                             for t in top]}


def loads(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:  # a 200 whose body is not JSON
        raise MalformedResponse("the endpoint answered with a body that is not JSON") from None


def chat_usage(usage: Any) -> Usage | None:
    """A chat completion's usage (JSON or the SDK's model); MalformedResponse if not counts."""
    if usage is None or (not isinstance(usage, dict) and not hasattr(usage, "prompt_tokens")):
        return None
    prompt_details = get(usage, "prompt_tokens_details")
    completion_details = get(usage, "completion_tokens_details")
    numbers = (get(usage, "prompt_tokens"), get(usage, "completion_tokens"),
               get(prompt_details, "cached_tokens") or 0,
               get(completion_details, "reasoning_tokens") or 0)
    if not whole(*numbers):
        raise MalformedResponse("the endpoint answered with token counts that are not whole "
                                "numbers")
    return numbers


def read_chat(body: bytes) -> Reading:
    """A chat completion's JSON; MalformedResponse for anything else."""
    data = loads(body)
    choices = data.get("choices") if isinstance(data, dict) else None
    if not choices or not isinstance(choices, list) or not isinstance(choices[0], dict):
        raise MalformedResponse("the endpoint answered without choices")
    choice = choices[0]
    message = choice.get("message")
    if not isinstance(message, dict):
        message = {}
    text, refusal = message.get("content"), message.get("refusal")
    finish, model = choice.get("finish_reason"), data.get("model")
    if not all(isinstance(v, str | None) for v in (text, refusal, finish, model)):
        raise MalformedResponse("the endpoint answered with a choice that is not a chat message")
    calls = []
    for call in message.get("tool_calls") or []:
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict):
            raise MalformedResponse("the endpoint answered with a tool call that is not one")
        calls.append({"id": call.get("id"), "name": fn.get("name"),
                      "arguments": fn.get("arguments") or ""})
    probs = choice.get("logprobs")
    content = probs.get("content") if isinstance(probs, dict) else None
    return Reading(text=text or "", finish_reason=finish, model=model,
                   usage=chat_usage(data.get("usage")), refusal=refusal, tool_calls=calls,
                   logprobs=[logprob(e) for e in content] if isinstance(content, list) else None)


class ChatChunks:
    """Folds the SDK's chat.completion.chunk objects into a Reading, piece by piece."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.refusal: list[str] = []
        self.calls: dict[int, dict[str, Any]] = {}
        self.logprobs: list[dict[str, Any]] | None = None
        self.finish: str | None = None
        self.usage: Any = None
        self.model: str | None = None

    def add(self, chunk: Any) -> str | None:
        """Take one chunk; returns the text it added (for on_delta), if any."""
        self.model = chunk.model or self.model
        if chunk.usage is not None:
            self.usage = chunk.usage
        added = None
        for choice in chunk.choices:
            if choice.index:  # n > 1: the first choice is the answer, as for plain answers
                continue
            delta = choice.delta
            if delta is not None:
                if delta.content:
                    self.parts.append(delta.content)
                    added = delta.content
                if delta.refusal:
                    self.refusal.append(delta.refusal)
                for call in delta.tool_calls or ():
                    self._call(call)
            content = choice.logprobs.content if choice.logprobs is not None else None
            if content:
                self.logprobs = (self.logprobs or []) + [logprob(e) for e in content]
            if choice.finish_reason:
                self.finish = choice.finish_reason
        return added

    def _call(self, call: Any) -> None:
        slot = self.calls.setdefault(call.index, {"id": None, "name": None, "arguments": ""})
        slot["id"] = call.id or slot["id"]
        if call.function is not None:
            slot["name"] = call.function.name or slot["name"]
            slot["arguments"] += call.function.arguments or ""

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def reading(self) -> Reading:
        return Reading(text=self.text, finish_reason=self.finish, model=self.model,
                       usage=chat_usage(self.usage),
                       refusal="".join(self.refusal) if self.refusal else None,
                       tool_calls=[self.calls[i] for i in sorted(self.calls)],
                       logprobs=self.logprobs)

"""The Responses API through the openai SDK: a Response object or its response.* events → Reading.

Finish reasons use Chat Completions' words, so the log reads the same for both APIs: "stop",
"length" (incomplete: max_output_tokens), "content_filter", "tool_calls" (function calls).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nbplayground.adapters.openai_errors import response_failed
from nbplayground.adapters.openai_reading import Reading, get, logprob, whole
from nbplayground.errors import ConnectionFailed, MalformedResponse, ProviderError
from nbplayground.experimentation.ports import DeltaCallback

if TYPE_CHECKING:
    import openai

_INCOMPLETE = {"max_output_tokens": "length", "content_filter": "content_filter"}


def _usage(usage: Any) -> tuple[int, int, int, int] | None:
    if usage is None:
        return None
    numbers = (get(usage, "input_tokens"), get(usage, "output_tokens"),
               get(get(usage, "input_tokens_details"), "cached_tokens") or 0,
               get(get(usage, "output_tokens_details"), "reasoning_tokens") or 0)
    if not whole(*numbers):
        raise MalformedResponse("the endpoint answered with token counts that are not whole "
                                "numbers")
    return numbers


def read_response(data: Any, *, where: str, api_key: str | None,
                  request_id: str | None = None) -> Reading:
    """A Response object (JSON, or the SDK's model of it); a failed one raises its typed error,
    anything that is not a Response is MalformedResponse."""
    output = get(data, "output")
    if (not isinstance(data, dict) and not hasattr(data, "output")) or not isinstance(output, list):
        raise MalformedResponse(f"{where} answered with something that is not a Response")
    status = get(data, "status")
    if status == "failed":
        error = get(data, "error")
        if error is not None and not isinstance(error, dict):
            error = {"code": get(error, "code"), "message": get(error, "message")}
        raise response_failed(error, where=where, api_key=api_key, request_id=request_id)
    texts: list[str] = []
    refusals: list[str] = []
    calls: list[dict[str, Any]] = []
    probs: list[dict[str, Any]] | None = None
    for item in output:
        kind = get(item, "type")
        if kind == "function_call":
            calls.append({"id": get(item, "call_id"), "name": get(item, "name"),
                          "arguments": get(item, "arguments") or ""})
        elif kind == "message":
            for part in get(item, "content") or []:
                if get(part, "type") == "output_text":
                    texts.append(str(get(part, "text") or ""))
                    lps = get(part, "logprobs")
                    if lps is not None:
                        probs = (probs or []) + [logprob(e) for e in lps]
                elif get(part, "type") == "refusal":
                    refusals.append(str(get(part, "refusal") or ""))
    model = get(data, "model")
    if not isinstance(model, str | None):
        raise MalformedResponse(f"{where} answered with a Response whose model is not a name")
    if status == "incomplete":
        reason = get(get(data, "incomplete_details"), "reason")
        finish = _INCOMPLETE.get(reason, reason or "length")
    else:
        finish = "tool_calls" if calls else "stop"
    return Reading(text="".join(texts), finish_reason=finish, model=model,
                   usage=_usage(get(data, "usage")),
                   refusal="".join(refusals) if refusals else None, tool_calls=calls,
                   logprobs=probs if probs else None)


class ResponseEvents:
    """Folds the SDK's response.* stream events into a Reading."""

    def __init__(self, *, where: str, api_key: str | None) -> None:
        self.where, self._api_key = where, api_key
        self.parts: list[str] = []
        self.logprobs: list[dict[str, Any]] = []
        self.final: Any = None
        self.model: str | None = None

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def add(self, event: Any) -> str | None:
        """Take one event; returns the text it added (for on_delta), if any."""
        kind = event.type
        if kind == "response.output_text.delta":
            self.parts.append(event.delta)
            self.logprobs += [logprob(e) for e in (getattr(event, "logprobs", None) or ())]
            return str(event.delta)
        if kind in ("response.created", "response.in_progress"):
            self.model = event.response.model or self.model
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            self.final = event.response
            if kind == "response.failed":
                self.reading()  # raises the failure's typed error
        elif kind == "error":  # the stream's own error event (no Response to read)
            raise response_failed({"code": event.code, "message": event.message},
                                  where=self.where, api_key=self._api_key)
        return None

    def reading(self) -> Reading:
        if self.final is None:
            raise ConnectionFailed("the stream ended before response.completed (cut)",
                                   partial_text=self.text)
        reading = read_response(self.final, where=self.where, api_key=self._api_key)
        if self.parts:  # what on_delta saw is what is logged
            reading.text = self.text
        if reading.logprobs is None and self.logprobs:
            reading.logprobs = self.logprobs
        reading.model = reading.model or self.model
        return reading


@functools.cache
def _parameters() -> frozenset[str]:
    from openai.resources.responses import AsyncResponses

    return frozenset(inspect.signature(AsyncResponses.create).parameters) - {"self", "extra_body"}


def sdk_kwargs(body: dict[str, Any]) -> dict[str, Any]:
    """The body as `responses.create` keyword arguments; a field this SDK version has no
    parameter for goes in `extra_body`, so the wire body is still exactly request.body()."""
    known = _parameters()
    kwargs = {k: v for k, v in body.items() if k in known}
    extra = {k: v for k, v in body.items() if k not in known}
    return {**kwargs, "extra_body": extra} if extra else kwargs


async def stream(client: openai.AsyncOpenAI, body: dict[str, Any],
                 on_delta: DeltaCallback | None, *, where: str, api_key: str | None,
                 fail: Callable[[Exception], ProviderError],
                 cut: Callable[[Exception, str], ProviderError]) -> tuple[Reading, Any]:
    """`responses.create(stream=True)`: deltas to on_delta; the Reading and the raw response.
    Errors before the first event are the SDK's (the caller maps them); after it, `fail` maps
    the SDK's and `cut` the transport's, each keeping what arrived as partial_text."""
    import openai

    raw = await client.responses.with_raw_response.create(**sdk_kwargs(body), stream=True)
    events = ResponseEvents(where=where, api_key=api_key)
    try:
        async for event in raw.parse():
            added = events.add(event)
            if added and on_delta is not None:
                on_delta(added)
        reading = events.reading()
    except Exception as e:
        if isinstance(e, ProviderError):
            err = e
        elif isinstance(e, openai.OpenAIError):
            err = fail(e)
        else:
            err = cut(e, events.text)
        err.partial_text = err.partial_text or events.text
        err.request_id = err.request_id or raw.headers.get("x-request-id")
        raise err from None
    return reading, raw

"""The stub's Responses API shapes: the Response object and its SSE events (openai-python types).

A plan (tests/support/stub_answers.py) becomes ``output`` items in this order: a ``reasoning``
item for a reasoning model, then ``function_call`` items or one assistant ``message`` (with an
``output_text`` or a ``refusal`` part). A cut answer is ``status: "incomplete"`` with
``incomplete_details.reason: "max_output_tokens"``. A failed one is ``status: "failed"`` with
``error: {code, message}`` (plain: a 200 with that object; streamed: ``response.failed``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from tests.support.stub_answers import Plan, logprobs


def response(rid: str, body: dict[str, Any], plan: Plan, pieces: list[str], top: int | None,
             *, status: str | None = None, error: dict[str, Any] | None = None
             ) -> dict[str, Any]:
    """The final Response object (``status`` overrides, for the in-progress snapshots)."""
    final = status or ("failed" if error else "incomplete" if plan.truncated else "completed")
    done = final in ("completed", "incomplete", "failed")
    return {
        "id": f"resp_{rid}", "object": "response", "created_at": int(time.time()),
        "status": final, "error": error if final == "failed" else None,
        "incomplete_details": {"reason": "max_output_tokens"} if final == "incomplete" else None,
        "instructions": body.get("instructions"), "model": body.get("model"),
        "output": output(rid, plan, pieces, top) if done and not error else [],
        "parallel_tool_calls": True, "temperature": body.get("temperature", 1.0),
        "top_p": body.get("top_p", 1.0), "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools", []), "max_output_tokens": body.get("max_output_tokens"),
        "reasoning": body.get("reasoning", {"effort": None, "summary": None}),
        "text": body.get("text", {"format": {"type": "text"}}), "truncation": "disabled",
        "service_tier": "default", "store": body.get("store", True),
        "usage": usage(plan) if done and not error else None,
        "metadata": body.get("metadata", {}),
    }


def usage(plan: Plan) -> dict[str, Any]:
    return {"input_tokens": plan.prompt,
            "input_tokens_details": {"cached_tokens": plan.cached, "cache_write_tokens": 0},
            "output_tokens": plan.output_tokens,
            "output_tokens_details": {"reasoning_tokens": plan.reasoning},
            "total_tokens": plan.prompt + plan.output_tokens}


def _reasoning(rid: str) -> dict[str, Any]:
    return {"id": f"rs_{rid}", "type": "reasoning", "summary": []}


def _call(rid: str, i: int, call: dict[str, str], *, done: bool = True) -> dict[str, Any]:
    return {"id": f"fc_{rid}_{i}", "type": "function_call", "call_id": call["call_id"],
            "name": call["name"], "arguments": call["arguments"] if done else "",
            "status": "completed" if done else "in_progress"}


def _part(plan: Plan, pieces: list[str], top: int | None, *, done: bool = True
          ) -> dict[str, Any]:
    if plan.refusal is not None:
        return {"type": "refusal", "refusal": plan.refusal if done else ""}
    part: dict[str, Any] = {"type": "output_text", "text": plan.text if done else "",
                            "annotations": []}
    part["logprobs"] = logprobs(pieces, top) if top is not None and done else []
    return part


def _message(rid: str, plan: Plan, pieces: list[str], top: int | None, *, done: bool = True
             ) -> dict[str, Any]:
    status = ("incomplete" if plan.truncated else "completed") if done else "in_progress"
    return {"id": f"msg_{rid}", "type": "message", "role": "assistant", "status": status,
            "content": [_part(plan, pieces, top)] if done else []}


def output(rid: str, plan: Plan, pieces: list[str], top: int | None) -> list[dict[str, Any]]:
    items = [_reasoning(rid)] if plan.reasoning else []
    if plan.calls:
        return items + [_call(rid, i, c) for i, c in enumerate(plan.calls)]
    return [*items, _message(rid, plan, pieces, top)]


def events(rid: str, body: dict[str, Any], plan: Plan, pieces: list[str], top: int | None,
           *, error: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """The stream's events, in the order OpenAI sends them, numbered from 0."""
    seq = iter(range(1_000_000))

    def ev(kind: str, **data: Any) -> dict[str, Any]:
        return {"type": kind, "sequence_number": next(seq), **data}

    snapshot: Callable[[str], dict[str, Any]] = lambda s: response(  # noqa: E731
        rid, body, plan, pieces, top, status=s)
    yield ev("response.created", response=snapshot("in_progress"))
    yield ev("response.in_progress", response=snapshot("in_progress"))
    if error is not None:
        yield ev("response.failed", response=response(rid, body, plan, pieces, top, error=error))
        return
    index = 0
    if plan.reasoning:
        yield ev("response.output_item.added", output_index=0,
                 item={**_reasoning(rid), "status": "in_progress"})
        yield ev("response.output_item.done", output_index=0, item=_reasoning(rid))
        index = 1
    for i, call in enumerate(plan.calls):
        item = _call(rid, i, call)
        yield ev("response.output_item.added", output_index=index,
                 item=_call(rid, i, call, done=False))
        yield ev("response.function_call_arguments.delta", item_id=item["id"],
                 output_index=index, delta=call["arguments"])
        yield ev("response.function_call_arguments.done", item_id=item["id"],
                 output_index=index, name=call["name"], arguments=call["arguments"])
        yield ev("response.output_item.done", output_index=index, item=item)
        index += 1
    if not plan.calls:
        yield from _message_events(ev, rid, plan, pieces, top, index)
    kind = "response.incomplete" if plan.truncated else "response.completed"
    yield ev(kind, response=response(rid, body, plan, pieces, top))


def _message_events(ev: Callable[..., dict[str, Any]], rid: str, plan: Plan, pieces: list[str],
                    top: int | None, index: int) -> Iterator[dict[str, Any]]:
    where = {"item_id": f"msg_{rid}", "output_index": index, "content_index": 0}
    yield ev("response.output_item.added", output_index=index,
             item=_message(rid, plan, pieces, top, done=False))
    yield ev("response.content_part.added", **where, part=_part(plan, pieces, top, done=False))
    if plan.refusal is not None:
        for piece in pieces:
            yield ev("response.refusal.delta", **where, delta=piece)
        yield ev("response.refusal.done", **where, refusal=plan.refusal)
    else:
        probs = logprobs(pieces, top, with_bytes=False) if top is not None else []
        for i, piece in enumerate(pieces):
            yield ev("response.output_text.delta", **where, delta=piece,
                     logprobs=probs[i:i + 1])
        yield ev("response.output_text.done", **where, text=plan.text, logprobs=probs)
    yield ev("response.content_part.done", **where, part=_part(plan, pieces, top))
    yield ev("response.output_item.done", output_index=index,
             item=_message(rid, plan, pieces, top))

"""SimulatedChatClient: a deterministic stand-in for any model, on either API; real token counts.

The answer is the same on Chat Completions and the Responses API (the API is not part of what
the model says). A reasoning model also spends reasoning tokens, billed as output: 32-96 at
medium effort (none/minimal 0, low ½, high 2×, xhigh 4×), taken first from max_tokens.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random

from nbplayground.adapters import simulated_structured
from nbplayground.analytics import Tokenizer
from nbplayground.domain import ChatRequest, ChatResult
from nbplayground.experimentation.ports import DeltaCallback

EFFORT_SCALE = {"none": 0.0, "minimal": 0.0, "low": 0.5, "medium": 1.0, "high": 2.0,
                "xhigh": 4.0}

VOCABULARY = (
    "the model answers with a simulated reply about your prompt and its parameters while "
    "tokens flow steadily through a quiet notebook where experiments are logged sampled "
    "priced compared repeated and charted light rain falls on silver hills a river bends "
    "toward the sea bright ideas arrive slowly then all at once"
).split()


class SimulatedChatClient:
    """Same (model, messages, parameters, seed, repeat) → same answer; temperature adds variety."""

    provider = "simulated"
    base_url: str | None = None

    def __init__(self, tokenizer: Tokenizer, *, latency: float = 0.01,
                 seconds_per_token: float = 0.0) -> None:
        self._tokenizer = tokenizer
        self.latency = latency
        self.seconds_per_token = seconds_per_token

    def models(self) -> list[str]:
        from nbplayground.configuration import CATALOG

        return [name for name, spec in CATALOG.items() if spec.provider == "openai"]

    def answer(self, request: ChatRequest) -> tuple[str, str]:
        """(text, finish_reason), a pure function of the request."""
        text, finish, _ = self._answer(request)
        return text, finish

    def _answer(self, request: ChatRequest) -> tuple[str, str, int]:
        """(text, finish_reason, reasoning tokens), a pure function of the request."""
        p = request.parameters
        temperature = p.temperature if p.temperature is not None else 1.0
        # At temperature 0 the repeat index does not matter: the same answer every time.
        varied = request.repeat if temperature > 0 else 0
        key = json.dumps([request.model, [m.as_dict() for m in request.messages],
                          p.model_dump(), varied], sort_keys=True)
        rng = random.Random(hashlib.sha256(key.encode()).digest())
        prompt_words = [w for m in request.messages for w in m.content.split()][:12] or ["hi"]
        natural = rng.randint(25, 120)
        words = []
        for _ in range(natural):
            if rng.random() < 0.15 + 0.3 * temperature / 2:
                words.append(rng.choice(VOCABULARY))
            else:
                words.append(VOCABULARY[len(words) % len(VOCABULARY)])
            if rng.random() < 0.08:
                words.append(rng.choice(prompt_words))
        text = " ".join(words).capitalize() + "."
        # A structured request (a judge's verdict among them) gets an instance of its schema,
        # so judged and structured sweeps can be rehearsed without a key.
        if p.response_format is not None:
            text = simulated_structured.answer(p.response_format, text, rng)
        reasoning = self._reasoning(request, rng.randint(32, 96))
        finish = "stop"
        for stop in p.stop or ():
            cut = text.find(stop)
            if cut >= 0:
                text = text[:cut]
        limit = p.max_tokens
        if limit is not None and reasoning >= limit > 0 and reasoning:
            return "", "length", limit  # it thought until the limit and said nothing
        if limit is not None:
            limit -= reasoning
        if limit is not None and self._tokenizer.count_text(text, request.model) > limit:
            ids = self._encode(text, request.model)[:limit]
            text = self._decode(ids, request.model)
            finish = "length"
        return text, finish, reasoning

    @staticmethod
    def _reasoning(request: ChatRequest, base: int) -> int:
        from nbplayground.configuration import lookup

        if not lookup(request.model).reasoning:
            return 0
        effort = request.parameters.reasoning_effort or "medium"
        return int(base * EFFORT_SCALE.get(effort, 1.0))

    def _encode(self, text: str, model: str) -> list[int]:
        return list(self._tokenizer.encode(text, model))  # type: ignore[attr-defined]

    def _decode(self, ids: list[int], model: str) -> str:
        return str(self._tokenizer.decode(ids, model))  # type: ignore[attr-defined]

    async def complete(self, request: ChatRequest, *, on_delta: DeltaCallback | None = None
                       ) -> ChatResult:
        text, finish, reasoning = self._answer(request)
        completion = self._tokenizer.count_text(text, request.model) + reasoning
        delay = self.latency + self.seconds_per_token * completion
        if on_delta is not None:
            pieces = text.split(" ")
            for i, piece in enumerate(pieces):
                await asyncio.sleep(delay / max(1, len(pieces)))
                on_delta(piece if i == 0 else " " + piece)
        elif delay > 0:
            await asyncio.sleep(delay)
        return ChatResult(
            text=text, finish_reason=finish,
            prompt_tokens=self._tokenizer.count_messages(request.messages, request.model),
            completion_tokens=completion, reasoning_tokens=reasoning,
            response_model=request.model,
            status_code=None, latency_ms=delay * 1000)

"""ResponseMetrics: what one answer cost in tokens, time and money."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ResponseMetrics(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    """Output tokens spent reasoning: part of completion_tokens, billed as output."""
    generation_time_ms: float = 0.0
    cost_estimate: float | None = None
    """USD; None when the model has no known price (shown as "unpriced", never as $0)."""
    usage_estimated: bool = False
    """True when the server sent no usage and we counted tokens ourselves."""
    price_as: str | None = None
    cost_as: float | None = None
    """What the same prompt and answer would have cost on `price_as`."""
    price_source: str | None = None
    """Where a batch or flex price came from: genai-prices' own rate for that tier, or the
    documented 50% discount on the standard rate; None for the standard rate."""

    @property
    def token_count(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def generation_time(self) -> float:
        """The spec's name for generation_time_ms."""
        return self.generation_time_ms

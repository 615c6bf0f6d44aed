"""Cost estimation: what a usage costs per provider, and what a request may cost at most."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from nbplayground.analytics.ports import PriceTable, Tokenizer
from nbplayground.domain import Message, ResponseMetrics
from nbplayground.domain.providers import priced

DISCOUNTED = {"batch": 0.5, "flex": 0.5}
"""OpenAI's documented discount on the standard rate, for models genai-prices has no batch or
flex rate for."""
STANDARD = (None, "auto", "default")


@dataclass(frozen=True)
class CostEstimator:
    tokenizer: Tokenizer
    prices: PriceTable

    def cost(self, provider: str, model: str, prompt_tokens: int, completion_tokens: int,
             cached_tokens: int = 0, at: datetime | None = None, tier: str | None = None
             ) -> float | None:
        """USD (for an unbilled provider what it would cost); an unpriced provider's run costs
        nothing; an unknown price is None, not 0. `tier`: "batch", or a service_tier."""
        return self.priced(provider, model, prompt_tokens, completion_tokens, cached_tokens, at,
                           tier)[0]

    def priced(self, provider: str, model: str, prompt_tokens: int, completion_tokens: int,
               cached_tokens: int = 0, at: datetime | None = None, tier: str | None = None
               ) -> tuple[float | None, str | None]:
        """(USD, where a batch or flex price came from) of that usage."""
        if not priced(provider):
            return 0.0, None
        if tier not in STANDARD:
            own = getattr(self.prices, "tier_price", None)
            found = own(model, prompt_tokens, completion_tokens, cached_tokens, at, tier) \
                if callable(own) else None
            if found is not None:
                return float(found), f"genai-prices {tier} rate"
        standard = self.prices.price(model, prompt_tokens, completion_tokens, cached_tokens, at)
        if tier in DISCOUNTED and standard is not None:
            return standard * DISCOUNTED[tier], f"{tier}: 50% of the standard rate (documented)"
        return standard, None

    def metrics(self, *, provider: str, model: str, prompt_tokens: int, completion_tokens: int,
                cached_tokens: int = 0, reasoning_tokens: int = 0,
                generation_time_ms: float = 0.0,
                usage_estimated: bool = False, price_as: str | None = None,
                messages: Sequence[Message] = (), response: str = "",
                at: datetime | None = None, tier: str | None = None) -> ResponseMetrics:
        cost_as = None
        if price_as:
            # Count again in price_as's own encoding: what that model would have billed.
            pt = self.tokenizer.count_messages(messages, price_as)
            ct = self.tokenizer.count_text(response, price_as)
            cost_as = self.prices.price(price_as, pt, ct, 0, at)
        # Reasoning tokens are already inside completion_tokens (OpenAI bills them as output).
        cost, source = self.priced(provider, model, prompt_tokens, completion_tokens,
                                   cached_tokens, at, tier)
        return ResponseMetrics(
            prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
            cached_tokens=cached_tokens, reasoning_tokens=reasoning_tokens,
            generation_time_ms=generation_time_ms,
            cost_estimate=cost, price_source=source,
            usage_estimated=usage_estimated, price_as=price_as, cost_as=cost_as)

    def bounds(self, provider: str, model: str, prompt_tokens: int, max_completion: int,
               tier: str | None = None) -> tuple[float | None, float | None]:
        """(min, max) USD of one request: an empty answer, or one of max_completion tokens."""
        return (self.cost(provider, model, prompt_tokens, 0, tier=tier),
                self.cost(provider, model, prompt_tokens, max_completion, tier=tier))

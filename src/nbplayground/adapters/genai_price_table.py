"""USD prices of OpenAI model usage from the data bundled in genai-prices (offline, historic)."""

from __future__ import annotations

import functools
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from nbplayground.errors import InvalidInput

if TYPE_CHECKING:
    from genai_prices.types import PriceCalculation

PROVIDER_ID = "openai"


class GenaiPriceTable:
    """The analytics `PriceTable` port over genai-prices' bundled snapshot.

    genai-prices only fetches newer prices when someone starts its `UpdatePrices` background task;
    this adapter never does, so every price comes from the data installed with the package.
    """

    def __init__(self, provider_id: str = PROVIDER_ID) -> None:
        self.provider_id = provider_id
        self._unknown: set[str] = set()  # model refs genai-prices cannot price: skip the lookup
        self._lock = threading.Lock()

    def price(self, model: str, prompt_tokens: int, completion_tokens: int,
              cached_tokens: int = 0, at: datetime | None = None) -> float | None:
        """USD for that usage at date `at` (now when None); None when the model has no price.

        `prompt_tokens` includes `cached_tokens`, as in OpenAI's usage report: the cached part is
        billed at the cached-input rate, the rest at the input rate.
        """
        if min(prompt_tokens, completion_tokens, cached_tokens) < 0:
            raise InvalidInput("token counts must be 0 or more")
        if cached_tokens > prompt_tokens:
            raise InvalidInput(
                f"cached_tokens ({cached_tokens}) cannot exceed prompt_tokens ({prompt_tokens})"
            )
        when = (datetime.now(UTC) if at is None else at.astimezone(UTC)).replace(
            minute=0, second=0, microsecond=0)
        return self._cached_price(model, prompt_tokens, completion_tokens, cached_tokens, when)

    @functools.lru_cache(maxsize=65_536)  # noqa: B019 - one table per Playground, kept for its life
    def _cached_price(self, model: str, prompt_tokens: int, completion_tokens: int,
                      cached_tokens: int, hour: datetime) -> float | None:
        # A sweep prices thousands of cells with a handful of distinct token counts; prices
        # change at most at dated boundaries, so one lookup per hour and usage is exact enough.
        calc = self._calc(model, prompt_tokens, completion_tokens, cached_tokens, hour)
        return None if calc is None else float(calc.total_price)

    def tier_price(self, model: str, prompt_tokens: int, completion_tokens: int,
                   cached_tokens: int = 0, at: datetime | None = None,
                   tier: str | None = None) -> float | None:
        """USD at genai-prices' own rate for `tier` ("batch" or a service_tier such as "flex");
        None when it has no such rate for the model (an older genai-prices has none at all)."""
        when = (datetime.now(UTC) if at is None else at.astimezone(UTC)).replace(
            minute=0, second=0, microsecond=0)
        return self._cached_tier(model, prompt_tokens, completion_tokens, cached_tokens, when,
                                 str(tier))

    @functools.lru_cache(maxsize=65_536)  # noqa: B019 - as _cached_price
    def _cached_tier(self, model: str, prompt_tokens: int, completion_tokens: int,
                     cached_tokens: int, at: datetime, tier: str) -> float | None:
        context = {"processing": "batch"} if tier == "batch" else {"service_tier": tier}
        calc = self._calc(model, prompt_tokens, completion_tokens, cached_tokens, at, context)
        if calc is None:
            return None
        variants = getattr(calc.model, "price_variants", None) or ()
        return float(calc.total_price) if any(v.when == context for v in variants) else None

    def known(self, model: str) -> bool:
        """True when genai-prices has token prices for `model` (today) at this provider."""
        return self._calc(model, 0, 0, 0, None) is not None

    def _calc(self, model: str, prompt_tokens: int, completion_tokens: int, cached_tokens: int,
              at: datetime | None, context: dict[str, str] | None = None
              ) -> PriceCalculation | None:
        """genai-prices' calculation; with `context` (a batch or service-tier rate), None when
        this genai-prices cannot take one (an older version has no variants)."""
        ref = model.strip().lower()
        if not ref or ref in self._unknown:
            return None
        from genai_prices import Usage, calc_price

        usage = Usage(input_tokens=prompt_tokens, output_tokens=completion_tokens,
                      cache_read_tokens=cached_tokens)
        extra = {} if context is None else {"price_context": context}
        try:
            calc = calc_price(usage, ref, provider_id=self.provider_id,
                              genai_request_timestamp=at, **extra)
        except LookupError:
            if context is None:
                with self._lock:
                    self._unknown.add(ref)
            return None
        except TypeError:
            if context is None:
                raise
            return None
        mp = calc.model_price
        if mp.input_mtok is None and mp.output_mtok is None:
            return None  # listed without token prices (e.g. "moderation"): unpriced, not free
        return calc

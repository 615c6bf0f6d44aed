"""Estimate: what a sweep will send and cost at most, computed before anything is sent."""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from nbplayground.analytics import CostEstimator
from nbplayground.analytics.format import html_text
from nbplayground.domain.money import usd
from nbplayground.experimentation.cell import Cell


@dataclass(frozen=True)
class Estimate:
    calls: int
    """Requests that would be sent (cached cells excluded)."""
    prompt_tokens: int
    """Exact, counted with the model's tokenizer (images included; audio is not: see
    audio_clips)."""
    max_completion_tokens: int
    min_cost: float | None
    """USD if every answer were empty; None when some model has no price."""
    max_cost: float | None
    """USD if every answer used all of max_tokens; the ceiling budgets compare against."""
    cached: int = 0
    unpriced_models: tuple[str, ...] = ()
    by_model: dict[str, dict[str, float | int | None]] = field(default_factory=dict)
    """Calls, prompt tokens and cost range per model ("model (provider)" when several)."""
    price_as: str | None = None
    """With price_as, what the same calls would cost on that model (its own token counts)."""
    min_cost_as: float | None = None
    max_cost_as: float | None = None
    audio_clips: int = 0
    """Audio parts in the calls. Their audio tokens are NOT in prompt_tokens or the costs:
    OpenAI bills input audio as audio tokens at its audio rate, and how many tokens a clip
    makes is only known from the answer's usage."""

    def __str__(self) -> str:
        extra = f", {self.cached} cached" if self.cached else ""
        unpriced = (f"; no price for {', '.join(self.unpriced_models)}"
                    if self.unpriced_models else "")
        priced_as = (f"; on {self.price_as}: between {usd(self.min_cost_as)} and "
                     f"{usd(self.max_cost_as)}" if self.price_as else "")
        audio = (f"; audio not counted: {self.audio_clips} audio clip"
                 f"{'s' if self.audio_clips != 1 else ''} bill audio tokens on top of this"
                 if self.audio_clips else "")
        return (f"{self.calls} calls{extra}: {self.prompt_tokens:,} prompt tokens, at most "
                f"{self.max_completion_tokens:,} completion tokens; cost between "
                f"{usd(self.min_cost)} and {usd(self.max_cost)}{unpriced}{priced_as}{audio}")

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(m)}</td><td>{v['calls']}</td><td>{v['prompt_tokens']:,}</td>"
            f"<td>{html_text(usd(v['min_cost']))}</td><td>{html_text(usd(v['max_cost']))}</td></tr>"
            for m, v in self.by_model.items())
        return (f"<b>Estimate</b>: {html_text(str(self))}"
                "<table><tr><th>model</th><th>calls</th><th>prompt tokens</th>"
                f"<th>min cost</th><th>max cost</th></tr>{rows}</table>")


def _add(total: float | None, value: float | None) -> float | None:
    return None if total is None or value is None else total + value


def estimate_cells(cells: Iterable[Cell], costs: CostEstimator,
                   cached: set[str] | frozenset[str] = frozenset()) -> Estimate:
    """Price every cell not already in the log: exact prompt tokens, max_tokens for answers."""
    all_cells = list(cells)
    todo = [c for c in all_cells if c.cache_key not in cached]
    by_model: dict[str, dict[str, Any]] = {}
    unpriced: set[str] = set()
    lo_total: float | None = 0.0
    hi_total: float | None = 0.0
    price_as = next((c.price_as for c in todo if c.price_as), None)
    lo_as: float | None = 0.0 if price_as else None
    hi_as: float | None = 0.0 if price_as else None
    mixed = len({c.provider for c in todo}) > 1  # then a row per model and provider
    for c in todo:
        lo, hi = costs.bounds(c.provider, c.request.model, c.prompt_tokens, c.max_completion,
                              c.tier)
        name = f"{c.request.model} ({c.provider})" if mixed else c.request.model
        m = by_model.setdefault(name, {"calls": 0, "prompt_tokens": 0,
                                       "min_cost": 0.0, "max_cost": 0.0})
        m["calls"] += 1
        m["prompt_tokens"] += c.prompt_tokens
        m["min_cost"], m["max_cost"] = _add(m["min_cost"], lo), _add(m["max_cost"], hi)
        lo_total, hi_total = _add(lo_total, lo), _add(hi_total, hi)
        if lo is None or hi is None:
            unpriced.add(c.request.model)
        if price_as:
            # Counted again in price_as's own encoding: what that model would bill.
            pt = costs.tokenizer.count_messages(c.request.messages, price_as)
            lo_as = _add(lo_as, costs.prices.price(price_as, pt, 0))
            hi_as = _add(hi_as, costs.prices.price(price_as, pt, c.max_completion))
    clips = sum(1 for c in todo for m in c.request.messages
                for p in getattr(m, "parts", ()) if p["type"] == "audio")
    return Estimate(calls=len(todo), cached=len(all_cells) - len(todo), audio_clips=clips,
                    prompt_tokens=sum(c.prompt_tokens for c in todo),
                    max_completion_tokens=sum(c.max_completion for c in todo),
                    min_cost=lo_total, max_cost=hi_total,
                    unpriced_models=tuple(sorted(unpriced)), by_model=by_model,
                    price_as=price_as, min_cost_as=lo_as, max_cost_as=hi_as)

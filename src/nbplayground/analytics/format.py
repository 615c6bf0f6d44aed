"""How costs, tokens and times read to a person: "$0.000123", "local (free)", "unpriced"."""

from __future__ import annotations

from nbplayground.domain.money import usd
from nbplayground.domain.providers import PROVIDERS


def format_cost(cost: float | None, provider: str = "") -> str:
    """A run's cost; an unbilled provider's price is what it would cost, and says so."""
    known = PROVIDERS.get(provider)
    if known is not None and not known.priced:
        return f"{provider} (free)"
    if known is not None and not known.billed:
        return f"{usd(cost)} ({provider}, not billed)"
    return usd(cost)


def format_ms(ms: float) -> str:
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.0f} ms"

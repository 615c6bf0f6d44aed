"""How costs, tokens and times read to a person: "$0.000123", "local", "unpriced"."""

from __future__ import annotations


def format_cost(cost: float | None, provider: str = "") -> str:
    if provider == "local":
        return "local (free)"
    if cost is None:
        return "unpriced"
    if cost == 0:
        return "$0"
    if cost < 0.01:
        return f"${cost:.6f}".rstrip("0")
    return f"${cost:,.4f}"


def format_ms(ms: float) -> str:
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.0f} ms"

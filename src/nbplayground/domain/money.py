"""The one money formatter: "$1.50" for budgets and totals, "$0.000123" for single calls."""

from __future__ import annotations


def usd(amount: float | None) -> str:
    """Cents from a dollar up (and for zero), six decimals for the fractions of a cent single
    calls cost; None is "unpriced" (a price nobody knows is never shown as $0)."""
    if amount is None:
        return "unpriced"
    if amount >= 1 or amount == 0:
        return f"${amount:,.2f}"
    return f"${amount:.6f}"

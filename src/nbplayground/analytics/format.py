"""How costs, tokens and times read to a person: "$0.000123", "local (free)", "unpriced"."""

from __future__ import annotations

import html

from nbplayground.domain.money import usd
from nbplayground.domain.providers import PROVIDERS

CUT = "[cut at max_tokens]"
"""How an answer that stopped at max_tokens (finish_reason 'length') is flagged where shown."""


def format_cost(cost: float | None, provider: str = "") -> str:
    """A run's cost; an unbilled provider's price is what it would cost, and says so."""
    known = PROVIDERS.get(provider)
    if known is not None and not known.priced:
        return f"{provider} (free)"
    if known is not None and not known.billed:
        return f"{usd(cost)} ({provider}, not billed)"
    return usd(cost)


def format_cost_range(low: float | None, high: float | None, provider: str = "") -> str:
    """A price range, "$0.000100 – $0.000200 (simulated, not billed)": the provider's marker
    once, after both ends, not after each."""
    one = format_cost(high, provider)
    if low is None or high is None or low == high or not one.startswith(usd(high)):
        return one  # one price, or a free provider's one word
    return f"{usd(low)} – {one}"


def format_ms(ms: float) -> str:
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.0f} ms"


def html_text(text: str) -> str:
    """`text` escaped for HTML, each "$" in an element of its own: JupyterLab's MathJax pairs
    dollars only within one run of text, and typeset "cost between $0.1 and $0.2" as math."""
    return html.escape(text).replace("$", "<span>$</span>")


def markdown_text(text: str) -> str:
    """`text` for Markdown with its dollars escaped, so MathJax leaves them alone."""
    return text.replace("$", "\\$")

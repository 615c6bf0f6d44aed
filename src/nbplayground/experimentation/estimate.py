"""Estimate: what a sweep will send and cost at most, computed before anything is sent."""

from __future__ import annotations

import html
from dataclasses import dataclass, field


def usd(value: float | None) -> str:
    return "unpriced" if value is None else f"${value:,.6f}"


@dataclass(frozen=True)
class Estimate:
    calls: int
    """Requests that would be sent (cached cells excluded)."""
    prompt_tokens: int
    """Exact, counted with the model's tokenizer."""
    max_completion_tokens: int
    min_cost: float | None
    """USD if every answer were empty; None when some model has no price."""
    max_cost: float | None
    """USD if every answer used all of max_tokens; the ceiling budgets compare against."""
    cached: int = 0
    unpriced_models: tuple[str, ...] = ()
    by_model: dict[str, dict[str, float | int | None]] = field(default_factory=dict)

    def __str__(self) -> str:
        extra = f", {self.cached} cached" if self.cached else ""
        unpriced = (f"; no price for {', '.join(self.unpriced_models)}"
                    if self.unpriced_models else "")
        return (f"{self.calls} calls{extra}: {self.prompt_tokens:,} prompt tokens, at most "
                f"{self.max_completion_tokens:,} completion tokens; cost between "
                f"{usd(self.min_cost)} and {usd(self.max_cost)}{unpriced}")

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(m)}</td><td>{v['calls']}</td><td>{v['prompt_tokens']:,}</td>"
            f"<td>{usd(v['min_cost'])}</td><td>{usd(v['max_cost'])}</td></tr>"  # type: ignore[arg-type]
            for m, v in self.by_model.items())
        return (f"<b>Estimate</b>: {html.escape(str(self))}"
                "<table><tr><th>model</th><th>calls</th><th>prompt tokens</th>"
                f"<th>min cost</th><th>max cost</th></tr>{rows}</table>")

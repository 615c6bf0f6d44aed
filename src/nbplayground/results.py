"""What the facade hands back: an Experiment that renders in a notebook and writes its own code."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Literal

from nbplayground import domain
from nbplayground.analytics.format import format_cost, format_ms, html_text, markdown_text

if TYPE_CHECKING:
    import pandas as pd

Language = Literal["python", "javascript", "curl"]


class Experiment(domain.Experiment):
    """A logged experiment: `exp.response`, `exp.metrics`, `exp.code("python")`."""

    def code(self, language: Language = "python", *, stream: bool = False) -> str:
        from nbplayground.integration import APIService

        return APIService().code(self, language, stream=stream)

    @property
    def logprobs(self) -> pd.DataFrame | None:
        """One row per answer token: position, token, logprob, probability and the top
        alternatives as (token, logprob) pairs; None when logprobs were not asked for."""
        import math

        import pandas as pd

        if self.token_logprobs is None:
            return None
        return pd.DataFrame(
            [{"position": i, "token": t.token, "logprob": t.logprob,
              "probability": math.exp(t.logprob), "top": list(t.top)}
             for i, t in enumerate(self.token_logprobs)],
            columns=["position", "token", "logprob", "probability", "top"])

    def __str__(self) -> str:
        return self.response if self.ok else f"[error] {self.error}"

    def summary(self) -> str:
        m = self.metrics
        est = " (estimated)" if m.usage_estimated else ""
        cut = f" · cut at max_tokens={self.parameters.max_tokens}" if self.truncated else ""
        answered = (f" (answered by {self.response_model})" if self.response_model
                    and self.response_model != self.model else "")
        return (f"{self.model}{answered} · {self.provider} · {m.prompt_tokens} → "
                f"{m.completion_tokens} tokens{est}{cut} · {format_ms(m.generation_time_ms)} · "
                f"{format_cost(m.cost_estimate, self.provider)}")

    def _repr_html_(self) -> str:
        body = (html_text(self.response) if self.ok
                else f"<b>{html.escape(self.error_type or 'error')}</b>: "
                     f"{html_text(self.error or '')}")
        tag = " <i>(simulated)</i>" if self.provider == "simulated" else ""
        return (
            '<div style="border:1px solid var(--jp-border-color2,#ccc);border-radius:6px;'
            'padding:8px 12px;max-width:60em">'
            f'<div style="white-space:pre-wrap;font-family:var(--jp-content-font-family)">{body}'
            "</div>"
            '<div style="margin-top:6px;font-size:85%;color:var(--jp-ui-font-color2,#666)">'
            f"{html_text(self.summary())}{tag}</div></div>")

    def _repr_markdown_(self) -> str:
        return f"{markdown_text(str(self))}\n\n*{markdown_text(self.summary())}*"


def view(exp: domain.Experiment) -> Experiment:
    """The same experiment, as the facade's Experiment (no copy of validation work)."""
    if isinstance(exp, Experiment):
        return exp
    return Experiment.model_construct(**dict(exp))

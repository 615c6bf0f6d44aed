"""What a logged experiment consumed, for the usage ledger (and its TokenUsageUpdated event)."""

from __future__ import annotations

from nbplayground.domain import Experiment
from nbplayground.events import TokenUsageUpdated


def usage_of(exp: Experiment) -> TokenUsageUpdated | None:
    """What an ok or stopped experiment consumed (a stopped run was sent and wrote part of its
    answer: that is billed); failed and cached ones consumed nothing."""
    if exp.status == "error" or exp.cached:
        return None
    m = exp.metrics
    return TokenUsageUpdated(user_id=exp.user_id, model=exp.model, provider=exp.provider,
                             experiment_id=exp.id, prompt_tokens=m.prompt_tokens,
                             completion_tokens=m.completion_tokens, cost=m.cost_estimate,
                             occurred_at=exp.timestamp)

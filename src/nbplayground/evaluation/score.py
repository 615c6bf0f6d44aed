"""What a scorer says about one answer: the Score value object and the scoring errors."""

from __future__ import annotations

from typing import Literal, NamedTuple

from nbplayground.errors import ConfigurationError, InvalidInput

ScoreKind = Literal["string_check", "regex", "json", "text_similarity", "python", "cost",
                    "latency", "tool_call", "score_model", "label_model"]
"""The grader families, named after OpenAI's graders where one exists."""


class InvalidScorer(InvalidInput):
    """A scorer is misconfigured (unknown metric, threshold out of range, a reference naming a
    column vars lacks, no model for a judge); nothing was sent."""


class MetricUnavailable(ConfigurationError):
    """A similarity metric needs something this machine lacks (embeddings, WordNet data)."""


class Score(NamedTuple):
    """One scorer's verdict on one experiment. `score` is None when the scorer could not score
    (its error is the reason); `passed` is then False. Immutable; a named tuple, not a frozen
    dataclass, as a sweep makes one per cell and scorer (a frozen dataclass's __init__ is 4×
    slower: 40,000 of them took ~60 ms)."""

    experiment_id: str
    scorer: str
    kind: str
    score: float | None
    passed: bool
    reason: str | None = None
    judge_experiment_id: str | None = None
    sweep_id: str | None = None


class Grade(NamedTuple):
    """A scorer's result before it is tied to an experiment."""

    score: float | None
    passed: bool
    reason: str | None = None


PASSED = Grade(1.0, True)
"""The grade of a check that passed (immutable, so every such answer shares it)."""


def failed(reason: str) -> Grade:
    return Grade(None, False, reason)

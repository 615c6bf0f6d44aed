"""The python scorer: a function of the user's notebook, fn(answer, row), graded with the rest
(in a sweep, on the log writer's thread as each batch is written)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

from nbplayground.evaluation.score import Grade, Score
from nbplayground.evaluation.scorers import Scorer
from nbplayground.evaluation.templates import Answer


class Python(Scorer):
    """fn(answer, row) -> bool | number | Score | Grade; a number passes at `threshold`."""

    kind: ClassVar[str] = "python"
    fn: Callable[..., Any]
    threshold: float = 0.5

    def grade(self, answer: Answer) -> Grade:
        out = self.fn(answer.text, dict(answer.row))
        if isinstance(out, bool):
            return Grade(float(out), out, None if out else f"{self.name} returned False")
        if isinstance(out, int | float) and math.isfinite(out):
            ok = out >= self.threshold
            return Grade(float(out), ok, None if ok else f"{out:g} < {self.threshold:g}")
        if isinstance(out, Grade | Score):
            return Grade(out.score, out.passed, out.reason)
        raise TypeError(f"{self.name} returned {type(out).__name__}; return a bool, a number "
                        "or a Score")

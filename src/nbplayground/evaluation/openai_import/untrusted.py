"""Imported python graders: untrusted code, graded through a CodeRunner (a separate process).

The scorer never runs the source in the kernel; without trust it does not run it at all.
`grade(sample, item) -> float` gets the sample OpenAI documents (output_text, output_json,
output_tools, choices) and the item; a hang, an exception or a non-number scores 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol

from pydantic import Field

from nbplayground.evaluation.score import Grade
from nbplayground.evaluation.scorers import Scorer
from nbplayground.evaluation.templates import Answer, sample_of

DEFAULT_PASS = 0.5
"""A python grader's pass_threshold when the export has none (like s.python's threshold)."""


class CodeRunner(Protocol):
    """Runs a grader's source somewhere the kernel's secrets cannot be read (the port the
    subprocess adapter implements). (score, None) on success, (None, reason) when the grader
    hung, raised, returned a non-number, or its process died."""

    def grade(self, source: str, sample: dict[str, Any], item: dict[str, Any]
              ) -> tuple[float | None, str | None]: ...

    def close(self) -> None: ...


def item_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """A vars row as the grader's `item`: a field missing from this item (NaN in the frame)
    is left out, as it was in the export."""
    return {str(k): v for k, v in row.items()
            if not (isinstance(v, float) and math.isnan(v))}


class UntrustedPython(Scorer):
    """OpenAI's python grader: `source` defines grade(sample, item) -> float; passes at
    `threshold`. Runs only when `trusted`, through `runner`, never in this process."""

    kind: ClassVar[str] = "python"
    source: str
    threshold: float = DEFAULT_PASS
    trusted: bool = False
    runner: Any = Field(default=None, exclude=True, repr=False)
    """The CodeRunner (typed Any: pydantic cannot check a Protocol)."""

    def grade(self, answer: Answer) -> Grade:
        if not self.trusted or self.runner is None:
            return Grade(None, False, f"python grader {self.name!r} is imported code and was "
                                      "not run (import with trust_python=True to run it)")
        score, reason = self.runner.grade(self.source, sample_of(answer),
                                          item_of(answer.row))
        if score is None:
            return Grade(0.0, False, reason)
        ok = score >= self.threshold
        return Grade(score, ok, None if ok else f"{score:g} < {self.threshold:g}")

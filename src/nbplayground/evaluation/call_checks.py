"""Scorers of the call rather than its text: its cost, its latency, the tools it called."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator

from nbplayground.evaluation.score import Grade
from nbplayground.evaluation.scorers import Scorer
from nbplayground.evaluation.templates import Answer


class MaxCost(Scorer):
    kind: ClassVar[str] = "cost"
    max_usd: float = Field(gt=0)

    def grade(self, answer: Answer) -> Grade:
        if answer.cost is None:
            return Grade(None, False, "the call has no price (unpriced model)")
        ok = answer.cost <= self.max_usd
        return Grade(answer.cost, ok,
                     None if ok else f"cost ${answer.cost:.6f} > ${self.max_usd:g}")


class MaxLatency(Scorer):
    kind: ClassVar[str] = "latency"
    max_ms: float = Field(gt=0)

    def grade(self, answer: Answer) -> Grade:
        if answer.latency_ms is None:
            return Grade(None, False, "the call's latency is unknown")
        ok = answer.latency_ms <= self.max_ms
        return Grade(answer.latency_ms, ok,
                     None if ok else f"{answer.latency_ms:.0f} ms > {self.max_ms:g} ms")


class ToolCalled(Scorer):
    """The model called the tool `tool` (at least `times` times, in any round)."""

    kind: ClassVar[str] = "tool_call"
    tool: str
    times: int = Field(default=1, ge=1)

    @field_validator("tool")
    @classmethod
    def _tool(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("name the tool, e.g. tool_called('get_weather')")
        return v

    def grade(self, answer: Answer) -> Grade:
        names = [str(c.get("name")) for c in answer.tool_calls]
        n = sum(1 for name in names if name == self.tool)
        if n >= self.times:
            return Grade(1.0, True)
        called = ", ".join(dict.fromkeys(names)) or "no tool"
        return Grade(0.0, False, f"{self.tool} was called {n} time(s), wanted {self.times}; "
                                 f"the model called {called}")

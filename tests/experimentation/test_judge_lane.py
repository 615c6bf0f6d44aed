"""JudgeLane and the log's writer: once the last judge call that can come is taken, the writer
is told the end is near (it writes what is done while that call is in flight)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from nbplayground import scorers as s
from nbplayground.evaluation import ScoringPlan
from nbplayground.experimentation.judge_lane import Job, JudgeLane
from nbplayground.experimentation.sweep_result import Sweep


class Writer:
    def __init__(self) -> None:
        self.endings = 0

    def ending(self) -> None:
        self.endings += 1


def lane(jobs: int) -> tuple[JudgeLane, Writer]:
    plan = ScoringPlan([s.judge("Is {answer} right?", model="gpt-4o-mini")])
    sweep = Sweep(id="sw", cells=[], plan=plan)
    made = JudgeLane(SimpleNamespace(), sweep, refresh=True, max_cost=None,  # type: ignore[arg-type]
                     in_flight=0.0, judge_only=True)
    made.writer = writer = Writer()  # type: ignore[assignment]
    cell: Any = SimpleNamespace(cache_key="k", provider="openai")
    made._look_up([Job(i, cell, 0.0) for i in range(jobs)])
    return made, writer


def test_taking_the_last_judge_call_tells_the_writer_the_end_is_near() -> None:
    judges, writer = lane(3)
    assert judges.next() is not None and judges.next() is not None
    assert writer.endings == 0  # one more is waiting
    assert judges.next() is not None
    assert writer.endings == 1
    assert judges.next() is None and writer.endings == 1


def test_not_the_end_while_a_cell_may_still_bring_judge_calls() -> None:
    judges, writer = lane(1)
    judges.taken()  # a cell in flight: its answer's judge call is still to come
    assert judges.next() is not None
    assert writer.endings == 0

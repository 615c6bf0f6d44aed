"""JudgeLane and the log's writer: once the last judge call that can come is taken (no cell
left in the queue, none in flight, no lookup pending), the writer is told the end is near, and
writes what is done while that call is in flight."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from nbplayground import Playground
from nbplayground import scorers as s
from nbplayground.evaluation import ScoringPlan
from nbplayground.experimentation.judge_lane import Job, JudgeLane
from nbplayground.experimentation.sweep_result import Sweep
from nbplayground.experimentation.writer import BatchWriter


def judge() -> s.Scorer:
    return s.judge("Is {answer} about item {i}?", model="gpt-4o-mini")


def lane(jobs: int) -> JudgeLane:
    sweep = Sweep(id="sw", cells=[], plan=ScoringPlan([judge()], [{"i": 0}]))
    made = JudgeLane(SimpleNamespace(), sweep, refresh=True, max_cost=None,  # type: ignore[arg-type]
                     in_flight=0.0, judge_only=True)
    cell: Any = SimpleNamespace(cache_key="k", provider="openai")
    made._look_up([Job(i, cell, 0.0) for i in range(jobs)])
    return made


def test_the_lane_is_exhausted_once_its_last_judge_call_is_taken() -> None:
    judges = lane(3)
    assert judges.next() is not None and judges.next() is not None
    assert not judges.exhausted()  # one more is waiting
    assert judges.next() is not None
    assert judges.exhausted()


def test_not_exhausted_while_a_cell_may_still_bring_judge_calls() -> None:
    judges = lane(1)
    judges.taken()  # a cell in flight: its answer's judge call is still to come
    assert judges.next() is not None
    assert not judges.exhausted()


@pytest.fixture
def endings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How often each sweep's writer was told the end is near (its pending rows then)."""
    seen: list[int] = []
    ending = BatchWriter.ending

    def spy(self: BatchWriter) -> None:
        seen.append(len(self._pending))
        ending(self)

    monkeypatch.setattr(BatchWriter, "ending", spy)
    return seen


def test_scoring_a_finished_sweep_tells_the_writer_when_its_last_judge_call_goes(
        tmp_path: Path, endings: list[int]) -> None:
    pg = Playground(db=tmp_path / "log.duckdb", user="u", provider="simulated",
                    simulated_latency=0)
    sw = pg.sweep("Item {i}", vars=[{"i": i} for i in range(5)], progress=False)
    endings.clear()
    scored = pg.score(sw, scorers=[judge()], concurrency=1, progress=False)
    assert scored.scores()["score"].notna().all()
    assert endings == [4]  # once, as the fifth call went out: the four verdicts before it


def test_a_sweep_with_judges_is_near_its_end_twice_not_at_each_cell(
        tmp_path: Path, endings: list[int]) -> None:
    """One worker: each cell's judge call goes before the next cell, so the lane runs dry
    after every cell; only the queue's last cell and the last judge call are the end."""
    pg = Playground(db=tmp_path / "log.duckdb", user="u", provider="simulated",
                    simulated_latency=0)
    sw = pg.sweep("Item {i}", vars=[{"i": i} for i in range(5)], scorers=[judge()],
                  concurrency=1, refresh=True, progress=False)  # (no lookups to wait for)
    assert sw.scores()["score"].notna().all()
    assert len(endings) == 2

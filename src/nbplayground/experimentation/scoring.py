"""Scores in a sweep: deterministic scorers inline as cells finish; judges as cells of their own.

A judge's request goes through the same engine as any cell (cache, prices, max_cost, the gate,
concurrency and rate limits) as a cell of the sweep `<sweep id>-judges`, sent by the sweep's
own workers as each answer comes in (judge_lane.py); its answer is the judged cell's score,
logged in the same transaction as the judge's call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from nbplayground.evaluation import Score, ScoringPlan
from nbplayground.experimentation.judge_cells import JudgeCells, judge_cell

if TYPE_CHECKING:
    from nbplayground.domain import Experiment
    from nbplayground.experimentation.cell import Cell
    from nbplayground.experimentation.estimate import Estimate
    from nbplayground.experimentation.service import ExperimentService, Outcome
    from nbplayground.experimentation.sweep import ProgressFactory, Sweep, SweepRunner

Grader = Callable[[int, "Experiment"], list[Score]]
"""Scores one finished cell: (cell index, experiment) -> its scores."""

def grader(sweep: Sweep) -> Grader | None:
    """The sweep's own grader, else its plan's deterministic scorers (None: nothing to do)."""
    plan = sweep.plan
    if sweep.grade is not None or plan is None or not plan.deterministic:
        return sweep.grade

    def grade(i: int, exp: Experiment) -> list[Score]:
        return plan.score(i, exp, sweep.id)

    return grade


def scored_outcome(sweep: Sweep, grade: Grader, i: int, outcome: Outcome) -> Outcome:
    outcome.scores = grade(i, outcome.experiment)
    sweep.scored += outcome.scores
    return outcome


def _blocking(sweep: Sweep) -> bool:
    return sweep.grade is None and sweep.plan is not None and sweep.plan.blocking


async def ascored(sweep: Sweep, grade: Grader, i: int, outcome: Outcome) -> Outcome:
    """scored_outcome, on a worker thread when grading may wait on an embeddings call (the
    event loop keeps serving the other cells)."""
    if _blocking(sweep):
        return await asyncio.to_thread(scored_outcome, sweep, grade, i, outcome)
    return scored_outcome(sweep, grade, i, outcome)


async def ascored_log(sweep: Sweep, grade: Grader, wrap: Callable[[Experiment], Outcome]
                          ) -> list[Outcome]:
    """The cells that came from the log, scored now (their scores belong to this sweep);
    their embeddings, if any are needed, fetched in one call first."""
    done = [(i, r) for i, r in enumerate(sweep.results) if r is not None]
    if not _blocking(sweep):
        return [scored_outcome(sweep, grade, i, wrap(r)) for i, r in done]
    assert sweep.plan is not None
    await asyncio.to_thread(sweep.plan.prefetch, done)
    return await asyncio.to_thread(
        lambda: [scored_outcome(sweep, grade, i, wrap(r)) for i, r in done])


def check_judges(service: ExperimentService, plan: ScoringPlan, user_id: str,
                 provider: str) -> None:
    """Prepare one request of each judge (its bare rubric): a bad model or parameter of a
    judge is refused before the sweep sends anything."""
    for judge in plan.judges:
        judge_cell(service, judge, judge.probe_prompt(), user_id, provider, 0)


def estimate_judges(service: ExperimentService, plan: ScoringPlan, cells: list[Cell],
                    cached: set[str]) -> Estimate:
    """Every cell and every judge call: a judge's prompt is priced with the longest answer
    its cell may give (max_completion tokens of it), as the answers are not known yet."""
    from nbplayground.experimentation.estimate import estimate_cells

    extra: list[Cell] = []
    made = JudgeCells(service)
    for i, cell in enumerate(cells):
        row = plan.rows[i] if i < len(plan.rows) else None
        for judge in plan.judges:
            extra.append(made.longest(judge, row or {}, cell.user_id, cell.provider,
                                      cell.max_completion, len(extra)))
    return estimate_cells(cells + extra, service.costs, cached)


async def rescore(runner: SweepRunner, sweep: Sweep, plan: ScoringPlan, *, concurrency: int,
                  rpm: float | None, tpm: float | None, max_cost: float | None,
                  progress: ProgressFactory | None) -> Sweep:
    """`sweep`'s finished cells scored by `plan`: nothing is sent again but the judge calls
    the log does not have yet (the rest come from its cache). A new Sweep of the same id."""
    from nbplayground.experimentation.sweep import Sweep

    again = Sweep(id=sweep.id, cells=sweep.cells, spec=sweep.spec, plan=plan,
                  results=list(sweep.results), status=sweep.status)
    if plan.deterministic:
        done = [(i, exp) for i, exp in enumerate(again.results) if exp is not None]

        def score_all() -> list[Score]:  # may wait on embeddings: off the event loop
            plan.prefetch(done)
            return [sc for i, exp in done for sc in plan.score(i, exp, again.id)]

        found = await asyncio.to_thread(score_all) if plan.blocking else score_all()
        again.scored += found
        if found:
            await asyncio.to_thread(runner.service.repository.add, [], scores=found)
    if plan.judges:
        await runner.judge(again, concurrency=concurrency, rpm=rpm, tpm=tpm,
                           max_cost=max_cost, progress=progress)
    return again

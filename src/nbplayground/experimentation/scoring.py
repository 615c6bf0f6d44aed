"""Scores in a sweep: deterministic scorers as each batch of cells is written; judges as cells
of their own.

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


def grade_batch(sweep: Sweep, grade: Grader, cells: list[tuple[int, Outcome]]) -> None:
    """Grade a batch of finished cells, (index, outcome), as the batch is written: on the
    writer's thread (the event loop goes on with the cells in flight; an embeddings call or
    a python grader waits there, not in the loop), their embeddings fetched in one call first.
    Each outcome carries its scores into the batch's transaction. Graded together, 10,000
    cells × 4 scorers cost ~6 µs a cell against ~16 µs graded one by one between requests."""
    plan = sweep.plan
    if sweep.grade is None and plan is not None:  # read only when some scorer embeds
        plan.prefetch((i, o.experiment) for i, o in cells)
    found: list[Score] = []
    for i, outcome in cells:
        try:
            outcome.scores = grade(i, outcome.experiment)
        except Exception as e:  # the batch's rows are written all the same
            why = f"{type(e).__name__}: {e}"
            outcome.scores = [] if plan is None else plan.errors(outcome.experiment.id, why,
                                                                 sweep.id)
        found += outcome.scores
    sweep.scored += found  # one list.extend: atomic beside the judge lane's, on the loop


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

"""Scores in a sweep: deterministic scorers inline as cells finish; judges as cells of their own.

A judge's request goes through the same engine as any cell (cache, prices, max_cost, the gate,
concurrency and rate limits) as a sweep of its own, `<sweep id>-judges`; its answer is the
judged cell's score, logged in the same transaction as the judge's call.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nbplayground.evaluation import Answer, Grade, ModelGrader, Score, ScoringPlan

if TYPE_CHECKING:
    from nbplayground.domain import Experiment
    from nbplayground.experimentation.cell import Cell
    from nbplayground.experimentation.estimate import Estimate
    from nbplayground.experimentation.service import ExperimentService, Outcome
    from nbplayground.experimentation.sweep import ProgressFactory, Sweep, SweepRunner

Grader = Callable[[int, "Experiment"], list[Score]]
"""Scores one finished cell: (cell index, experiment) -> its scores."""

JUDGE_DEFAULTS: dict[str, Any] = {"temperature": 0.0, "max_tokens": 256}
"""A judge's request unless its params say otherwise: repeatable verdicts, a bounded price."""


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


def judge_cell(service: ExperimentService, judge: ModelGrader, prompt: str, judged: Cell,
               index: int) -> Cell:
    params = JUDGE_DEFAULTS | judge.params
    return service.prepare(user_id=judged.user_id, prompt=prompt, model=judge.model,
                           provider=judge.provider or judged.provider, system=judge.system,
                           index=index, **params)


def check_judges(service: ExperimentService, plan: ScoringPlan, cells: list[Cell]) -> None:
    """Prepare one request of each judge (an empty answer): a bad model or parameter of a
    judge is refused before the sweep sends anything."""
    estimate_judges(service, plan, cells[:1], set())


def estimate_judges(service: ExperimentService, plan: ScoringPlan, cells: list[Cell],
                    cached: set[str]) -> Estimate:
    """Every cell and every judge call: a judge's prompt is priced with the longest answer
    its cell may give (max_completion tokens of it), as the answers are not known yet."""
    from nbplayground.experimentation.estimate import estimate_cells

    extra: list[Cell] = []
    for i, cell in enumerate(cells):
        row = plan.rows[i] if i < len(plan.rows) else None
        for judge in plan.judges:
            try:
                prompt = judge.request_prompt(Answer("", row or {}))
            except ValueError:  # {answer.field}: the empty answer is not JSON
                prompt = judge.prompt
            jc = judge_cell(service, judge, prompt, cell, len(extra))
            extra.append(dataclasses.replace(jc, prompt_tokens=jc.prompt_tokens
                                             + cell.max_completion))
    return estimate_cells(cells + extra, service.costs, cached)


async def run_judges(runner: SweepRunner, sweep: Sweep, *, concurrency: int,
                     rpm: float | None, tpm: float | None, max_cost: float | None,
                     refresh: bool, progress: ProgressFactory | None) -> None:
    """Ask every judge about every finished cell, through the sweep engine; the verdicts are
    the sweep's scores. A cell that cannot be asked (a failed call, a missing field) gets an
    error score."""
    from nbplayground.experimentation.sweep import Sweep

    plan = sweep.plan
    assert plan is not None
    cells: list[Cell] = []
    asked: list[tuple[ModelGrader, Experiment]] = []
    errors: list[Score] = []
    for i, exp in enumerate(sweep.results):
        if exp is None:
            continue
        for judge in plan.judges:
            prompt = plan.judge_prompt(judge, i, exp)
            if isinstance(prompt, Grade):
                errors.append(plan.judged(judge, exp, prompt, sweep.id))
                continue
            cells.append(judge_cell(runner.service, judge, prompt, sweep.cells[i], len(cells)))
            asked.append((judge, exp))
    if errors:
        sweep.scored += errors
        await asyncio.to_thread(runner.service.repository.add, [], scores=errors)
    if not cells:
        return
    jid = f"{sweep.id}-judges"

    def verdict(j: int, judge_exp: Experiment) -> list[Score]:
        judge, exp = asked[j]
        return [plan.judged(judge, exp, judge_exp, sweep.id)]

    judges = Sweep(id=jid, cells=[c.in_sweep(jid) for c in cells], grade=verdict,
                   spec={"judges_of": sweep.id, "judges": [j.name for j in plan.judges]})
    left = None if max_cost is None else max(max_cost - sweep.spent, 1e-12)
    try:
        await runner.run(judges, concurrency=concurrency, rpm=rpm, tpm=tpm, max_cost=left,
                         refresh=refresh, progress=progress)
    finally:
        sweep.scored += judges.scored
        sweep.spent += judges.spent

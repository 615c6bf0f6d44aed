"""Scores in a sweep: deterministic scorers inline as cells finish; judges as cells of their own.

A judge's request goes through the same engine as any cell (cache, prices, max_cost, the gate,
concurrency and rate limits) as a sweep of its own, `<sweep id>-judges`; its answer is the
judged cell's score, logged in the same transaction as the judge's call.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from nbplayground.domain.money import usd
from nbplayground.errors import BudgetExceeded, NbPlaygroundError
from nbplayground.evaluation import Answer, Grade, ModelGrader, Score, ScoringPlan
from nbplayground.experimentation.answers import schema_validator
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
    judge is refused before the sweep sends anything (and its verdict's validator is made
    then, not on the event loop while the cells' requests wait)."""
    for judge in plan.judges:
        judge_cell(service, judge, judge.probe_prompt(), user_id, provider, 0)
        schema_validator(judge.response_format()["schema"])  # jsonschema imported now


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
            try:
                prompt = judge.request_prompt(Answer("", row or {}))
            except ValueError:  # {answer.field}: the empty answer is not JSON
                prompt = judge.probe_prompt()
            jc = made.cell(judge, prompt, cell.user_id, cell.provider, len(extra))
            extra.append(dataclasses.replace(jc, prompt_tokens=jc.prompt_tokens
                                             + cell.max_completion))
    return estimate_cells(cells + extra, service.costs, cached)


async def run_judges(runner: SweepRunner, sweep: Sweep, *, concurrency: int,
                     rpm: float | None, tpm: float | None, max_cost: float | None,
                     refresh: bool, progress: ProgressFactory | None) -> None:
    """Ask every judge about every finished cell, through the sweep engine; the verdicts are
    the sweep's scores. A cell that cannot be asked (a failed call, a missing field) gets an
    error score; so does each one left unasked when max_cost or the budget stops the judges
    (BudgetExceeded is raised then, with the sweep as its `sweep`)."""
    from nbplayground.experimentation.sweep import Sweep

    plan = sweep.plan
    assert plan is not None
    cells: list[Cell] = []
    asked: list[tuple[ModelGrader, Experiment]] = []
    errors: list[Score] = []
    made = JudgeCells(runner.service)
    for i, exp in enumerate(sweep.results):
        if exp is None:
            continue
        for judge in plan.judges:
            prompt = plan.judge_prompt(judge, i, exp)
            if isinstance(prompt, Grade):
                errors.append(plan.judged(judge, exp, prompt, sweep.id))
                continue
            try:  # this row's filled input may still be refused (an image URL that is no image)
                cell = made.cell(judge, prompt, exp.user_id, exp.provider, len(cells))
            except NbPlaygroundError as e:
                errors.append(plan.judged(judge, exp, Grade(None, False, str(e)), sweep.id))
                continue
            cells.append(cell)
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
    except BudgetExceeded as e:
        await _unjudged(runner, sweep, judges, asked, e, max_cost)
    finally:
        sweep.scored += judges.scored
        sweep.spent += judges.spent


async def _unjudged(runner: SweepRunner, sweep: Sweep, judges: Sweep,
                    asked: list[tuple[ModelGrader, Experiment]], stop: BudgetExceeded,
                    max_cost: float | None) -> None:
    """Record what the budget stopped: an error score for each judge call not sent and the
    sweep's status 'budget'; then raise BudgetExceeded saying how to finish."""
    plan = sweep.plan
    assert plan is not None
    why = (f"not judged: max_cost={usd(max_cost)} was reached" if max_cost is not None
           else "not judged: the budget was reached")
    missed = [plan.judged(judge, exp, Grade(None, False, why), sweep.id)
              for j, (judge, exp) in enumerate(asked) if judges.results[j] is None]
    sweep.scored += missed
    sweep.status = "budget"
    await asyncio.to_thread(runner.service.repository.add, [], scores=missed,
                            sweep={"id": sweep.id, "status": "budget"})
    err = BudgetExceeded(
        f"{len(missed)} of {len(asked)} judge calls were not sent: {stop} — the cells and the "
        "scores so far are logged; raise max_cost and score again with "
        "pg.score(sw, scorers=[...]) (verdicts already given come from the log)",
        spent=sweep.spent + judges.spent, limit=stop.limit, needed=stop.needed)
    err.sweep = sweep  # type: ignore[attr-defined]
    raise err from None


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
        await run_judges(runner, again, concurrency=concurrency, rpm=rpm, tpm=tpm,
                         max_cost=max_cost, refresh=False, progress=progress)
    return again
